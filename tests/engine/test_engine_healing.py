"""The engine heals: start-up failures back off and retry, kills cost only the killed item,
health is honest, and no deadline value can kill the dispatcher (issue 16's breaks)."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from pathlib import Path

import pytest

from rewardlab.engine import Engine
from rewardlab.engine.pool import MAX_TIMEOUT_S
from rewardlab.reward import CpuReward, _compute_in_worker
from rewardlab.types import Outcome, Sample, Status

RECOVERY_S = 30.0  # the stated bound: back-off is capped at 5 s, a worker boots in ~1 s


def square(x: int) -> Outcome:
    return Outcome.ok(float(x * x))


def nap(x: int) -> Outcome:
    time.sleep(0.05)
    return Outcome.ok(float(x))


def worker_pids(parent: int) -> list[int]:
    """Engine worker processes whose parent is ``parent`` (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"rewardlab.engine.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def kill_all(parent: int) -> int:
    killed = 0
    for pid in worker_pids(parent):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def wait_healthy(engine: Engine, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if engine.healthy:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"engine still unhealthy after {within} s: {engine.health()}")


def test_rapid_kills_during_start_up_never_leave_a_dead_engine():
    # Break: six kill -9 of workers within a second (booting replacements included) hit the
    # boot-failure limit and every later outcome was "engine cannot start workers".
    with Engine(workers=2, timeout=5) as eng:
        assert eng.healthy  # not started yet: workers start on first use
        first = eng.submit(square, 3)
        kills = 0
        deadline = time.monotonic() + 1.5
        while kills < 6 and time.monotonic() < deadline:
            kills += kill_all(os.getpid())
            time.sleep(0.05)
        assert kills >= 6
        assert not eng.healthy or eng.health()["ready_workers"] > 0
        wait_healthy(eng, RECOVERY_S)
        assert first.result(timeout=RECOVERY_S).score == 9.0  # it waited, it was not failed
        assert [o.score for o in eng.map(square, range(6))] == [0, 1, 4, 9, 16, 25]


def test_health_is_false_while_no_worker_is_ready():
    with Engine(workers=1, timeout=5) as eng:
        assert eng.submit(square, 2).result(timeout=60).score == 4.0
        assert eng.health()["healthy"] and eng.health()["ready_workers"] == 1
        kill_all(os.getpid())
        # Until the replacement says ready, nothing can serve: health says so.
        seen_unhealthy = False
        for _ in range(100):
            health = eng.health()
            if not health["healthy"]:
                seen_unhealthy = True
                assert health["reason"]
                break
            time.sleep(0.01)
        assert seen_unhealthy
        wait_healthy(eng, RECOVERY_S)


def test_kills_during_work_cost_only_the_items_running():
    # Break: six kills during one 64-sample request produced 56 error outcomes.
    with Engine(workers=2, timeout=10) as eng:
        eng.map(square, range(2))  # warm
        futures = [eng.submit(nap, i) for i in range(64)]
        kills = 0
        while kills < 6 and not all(f.done() for f in futures):
            time.sleep(0.15)
            pids = worker_pids(os.getpid())
            if pids:
                with contextlib.suppress(ProcessLookupError):  # it may be gone already
                    os.kill(pids[0], signal.SIGKILL)
                kills += 1
        outcomes = [f.result(timeout=RECOVERY_S) for f in futures]
        failed = [o for o in outcomes if o.status is not Status.OK]
        assert len(failed) <= kills, [o.reason for o in failed]
        assert all("SIGKILL" in o.reason for o in failed)
        ok = [o.score for o in outcomes if o.status is Status.OK]
        assert len(ok) + len(failed) == 64
        wait_healthy(eng, RECOVERY_S)


def test_start_failures_back_off_fail_waiting_items_then_heal(tmp_path, monkeypatch):
    # A preload module that is missing makes every start-up fail; once it appears the engine
    # starts workers again by itself (no permanent dead state).
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("REWARDLAB_PRELOAD", "")
    eng = Engine(workers=1, timeout=5, preload=["healme_later_mod"], start_grace=1.0)
    try:
        outcome = eng.submit(square, 2).result(timeout=60)
        assert outcome.status is Status.ERROR
        assert "cannot start workers" in outcome.reason and "still retrying" in outcome.reason
        assert not eng.healthy
        # While failing, new items are answered at once instead of hanging.
        started = time.monotonic()
        assert eng.submit(square, 3).result(timeout=5).status is Status.ERROR
        assert time.monotonic() - started < 5
        failures = eng.health()["start_failures"]
        assert failures >= 3
        cpu = time.process_time()
        time.sleep(1.0)
        assert time.process_time() - cpu < 0.5  # the dispatcher waits; it does not spin
        # Back-off caps the retry rate: far fewer than one attempt per 0.1 s.
        assert eng.health()["start_failures"] - failures <= 4
        (tmp_path / "healme_later_mod.py").write_text("VALUE = 1\n")
        wait_healthy(eng, RECOVERY_S)
        assert eng.submit(square, 4).result(timeout=60).score == 16.0
    finally:
        eng.close()


@pytest.mark.parametrize("bad", [math.nan, -1.0, 0.0, "soon"])
def test_invalid_item_deadline_is_a_typed_error_and_the_engine_lives(bad):
    with Engine(workers=1, timeout=5) as eng:
        outcome = eng.submit(square, 2, timeout=bad).result(timeout=60)
        assert outcome.status is Status.ERROR and "deadline" in outcome.reason
        assert eng.submit(square, 5).result(timeout=60).score == 25.0


@pytest.mark.parametrize("huge", [math.inf, 1e308, 10 ** 400])
def test_infinite_or_huge_deadline_is_clamped_and_the_dispatcher_lives(huge):
    # Break: timeout .inf killed the dispatcher (OverflowError) and every later item errored.
    with Engine(workers=1, timeout=5) as eng:
        assert eng.submit(square, 2, timeout=huge).result(timeout=60).score == 4.0
        assert eng.submit(square, 3).result(timeout=60).score == 9.0
        assert eng.healthy
    assert Engine(timeout=math.inf).timeout == MAX_TIMEOUT_S
    with pytest.raises(ValueError, match="positive"):
        Engine(timeout=math.nan)


def test_deeply_nested_item_is_an_error_not_a_crash():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with Engine(workers=1, timeout=5) as eng:
        outcome = eng.submit(square, deep).result(timeout=60)
        assert outcome.status is Status.ERROR
        assert eng.submit(square, 6).result(timeout=60).score == 36.0


class _Length(CpuReward):
    """A process-isolated reward whose deadline is set after construction, as any caller of
    the Python API can."""

    def compute(self, sample: Sample) -> Outcome:
        return Outcome.ok(float(len(sample.response)))


def test_rewards_with_non_finite_deadlines_cannot_break_other_rewards():
    # Break: `timeout: .inf` killed the dispatcher and every later sample of every reward in the
    # process errored; `.nan` disabled the deadline.
    with Engine(workers=1, timeout=5) as eng:
        for bad in (math.inf, math.nan):
            reward = _Length(isolation="process", cache=False)
            reward.timeout = bad
            tasks = [(reward, Sample(response="abc"))]
            outcome = eng.map(_compute_in_worker, tasks, timeout=reward.timeout)[0]
            assert outcome.status in (Status.OK, Status.ERROR)
            if math.isnan(bad):
                assert outcome.status is Status.ERROR and "deadline" in outcome.reason
            good = _Length(isolation="process", cache=False)
            later = eng.map(_compute_in_worker, [(good, Sample(response="hello"))],
                            timeout=good.timeout)
            assert later[0].score == 5.0
