"""The engine's guarantees, shown with real worker processes doing real damage."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import multiprocessing
import os
import threading
import time

import pytest

from rewardlab.engine import Engine, EngineClosed, QueueFull
from rewardlab.types import Outcome, Status

SLACK = 5.0  # seconds of grace for a loaded CI machine; deadlines themselves are ~1 s


# Task functions must be importable by name from the worker (they travel pickled by reference).
def square(x: int) -> Outcome:
    return Outcome.ok(float(x * x))


def sleep_forever(_: object) -> Outcome:
    while True:
        time.sleep(3600)


def spin_cpu(_: object) -> Outcome:
    n = 0
    while True:
        n += 1


def allocate_forever(_: object) -> Outcome:
    hog = []
    while True:
        hog.append(bytearray(64 * 1024 * 1024))


def segfault(_: object) -> Outcome:
    ctypes.string_at(0)
    return Outcome.ok(0.0)


def hard_exit(_: object) -> Outcome:
    os._exit(7)


def raise_error(_: object) -> Outcome:
    raise ValueError("grader exploded")


def system_exit(_: object) -> Outcome:
    raise SystemExit(0)


def not_an_outcome(_: object) -> float:
    return 1.0


def fork_sleeper(_: object) -> Outcome:
    # A grandchild that would outlive the item if only the worker were killed.
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
    time.sleep(3600)
    return Outcome.ok(0.0)


def pid_of_worker(_: object) -> Outcome:
    return Outcome.ok(float(os.getpid()))


@pytest.fixture
def engine():
    with Engine(workers=2, timeout=1.0) as eng:
        yield eng


# (task, expected status, deadline): the memory bomb gets a roomy deadline so that it is the
# memory limit, not the clock, that stops it even on a loaded machine.
BAD_BEHAVIOURS = [
    (sleep_forever, Status.TIMEOUT, 1.0),
    (spin_cpu, Status.TIMEOUT, 1.0),
    (allocate_forever, Status.ERROR, 15.0),
    (segfault, Status.ERROR, 1.0),
    (hard_exit, Status.ERROR, 1.0),
]


@pytest.mark.parametrize(("task", "status", "deadline"), BAD_BEHAVIOURS,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_bad_item_gets_typed_status_and_pool_keeps_serving(task, status, deadline):
    with Engine(workers=2, timeout=deadline, memory_limit_mb=512) as eng:
        started = time.monotonic()
        outcome = eng.submit(task, None).result(timeout=deadline + SLACK)
        elapsed = time.monotonic() - started
        assert outcome.status is status, outcome
        assert outcome.score is None and outcome.reason
        assert elapsed < deadline + SLACK
        # The next items are scored normally, by the replacement workers too.
        assert [o.score for o in eng.map(square, range(6))] == [0, 1, 4, 9, 16, 25]


def test_failure_reasons_name_what_happened(engine):
    seg = engine.submit(segfault, None).result()
    assert "SIGSEGV" in seg.reason
    exited = engine.submit(hard_exit, None).result()
    assert "code 7" in exited.reason
    late = engine.submit(sleep_forever, None, timeout=0.5).result()
    assert late.status is Status.TIMEOUT and "0.5 s" in late.reason


def test_memory_bomb_is_reported_as_error():
    with Engine(workers=1, timeout=20.0, memory_limit_mb=400) as eng:
        outcome = eng.submit(allocate_forever, None).result(timeout=30)
    assert outcome.status is Status.ERROR
    assert "memory" in outcome.reason.lower()


def test_exceptions_and_misbehaving_returns_become_errors(engine):
    err = engine.submit(raise_error, None).result()
    assert err.status is Status.ERROR and "grader exploded" in err.reason
    assert "ValueError" in err.details["traceback"]
    assert engine.submit(system_exit, None).result().status is Status.ERROR
    wrong = engine.submit(not_an_outcome, None).result()
    assert wrong.status is Status.ERROR and "not an Outcome" in wrong.reason


def _live_sessions() -> dict[int, int]:
    """pid -> session id of every live (non-zombie) process."""
    sessions = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            sessions[int(pid)] = int(fields[3])
    return sessions


def test_whole_process_tree_is_killed_at_the_deadline(engine):
    engine.map(square, range(4))  # both workers up
    worker_pids = {w.proc.pid for w in engine._workers}
    outcome = engine.submit(fork_sleeper, None, timeout=1.0).result(timeout=1 + SLACK)
    assert outcome.status is Status.TIMEOUT
    killed = worker_pids - {w.proc.pid for w in engine._workers}
    assert len(killed) == 1
    time.sleep(0.3)
    # Each worker leads its own session; nothing of the killed worker's session survives,
    # including the grandchild it forked.
    survivors = [pid for pid, sid in _live_sessions().items() if sid in killed]
    assert survivors == []


def test_deadline_counts_from_start_of_work_not_queueing():
    with Engine(workers=1, timeout=1.5) as eng:
        futures = [eng.submit(time_sleep_task, 0.6) for _ in range(4)]
        outcomes = [f.result(timeout=20) for f in futures]
    assert all(o.status is Status.OK for o in outcomes), outcomes


def time_sleep_task(seconds: float) -> Outcome:
    time.sleep(seconds)
    return Outcome.ok(seconds)


def test_results_keep_input_order_under_mixed_failures(engine):
    tasks = [square, raise_error, square, hard_exit, square]
    futures = [engine.submit(t, i) for i, t in enumerate(tasks)]
    outcomes = [f.result(timeout=10) for f in futures]
    assert [o.status for o in outcomes] == [
        Status.OK, Status.ERROR, Status.OK, Status.ERROR, Status.OK]
    assert [o.score for o in outcomes[::2]] == [0.0, 4.0, 16.0]


def test_usable_from_a_non_main_thread(engine):
    results: list[Outcome] = []

    def body() -> None:
        results.append(engine.submit(spin_cpu, None, timeout=0.5).result())
        results.extend(engine.map(square, [3]))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=1 + SLACK)
    assert not thread.is_alive()
    assert [r.status for r in results] == [Status.TIMEOUT, Status.OK]
    assert results[1].score == 9.0


def test_usable_inside_a_running_event_loop(engine):
    async def main() -> list[Outcome]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        outcomes = await engine.amap(square, [1, 2]) + [
            await engine.asubmit(sleep_forever, None, timeout=0.5)]
        tick_task.cancel()
        assert ticks >= 5  # the loop kept running while a worker hung
        return outcomes

    outcomes = asyncio.run(main())
    assert [o.status for o in outcomes] == [Status.OK, Status.OK, Status.TIMEOUT]


def _score_in_child(_: int) -> list[str]:
    with Engine(workers=1, timeout=0.5) as eng:
        return [eng.submit(t, 2).result().status.value for t in (square, sleep_forever, square)]


def test_usable_inside_another_worker_process():
    # multiprocessing.Pool workers are daemonic and may not have multiprocessing children;
    # the engine's subprocess workers are fine there.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        statuses = pool.map(_score_in_child, [0], chunksize=1)[0]
    assert statuses == ["ok", "timeout", "ok"]
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert pool.submit(_score_in_child, 0).result(timeout=60) == ["ok", "timeout", "ok"]


def test_input_size_cap_gives_typed_status():
    with Engine(workers=1, max_input_bytes=10_000) as eng:
        outcome = eng.submit(square, "x" * 20_000).result()
        assert outcome.status is Status.ERROR
        assert "too large" in outcome.reason and outcome.details["limit_bytes"] == 10_000
        assert eng.submit(square, 4).result().score == 16.0


def test_unpicklable_input_is_an_error_not_a_crash(engine):
    outcome = engine.submit(square, threading.Lock()).result()
    assert outcome.status is Status.ERROR and "picklable" in outcome.reason


def test_back_pressure_blocks_or_raises():
    with Engine(workers=1, timeout=5.0, max_pending=2) as eng:
        first = eng.submit(time_sleep_task, 0.5)
        eng.submit(time_sleep_task, 0.0)
        with pytest.raises(QueueFull):
            eng.submit(square, 1, block=False)
        started = time.monotonic()
        third = eng.submit(square, 3)  # blocks until a slot frees up
        assert time.monotonic() - started > 0.2
        assert first.result().status is Status.OK and third.result().score == 9.0


def test_cache_reuses_deterministic_outcomes_only():
    with Engine(workers=1, cache_size=8) as eng:
        a = eng.submit(pid_of_worker, "same", cache=True).result()
        b = eng.submit(pid_of_worker, "same", cache=True).result()
        assert a == b and eng.cache_hits == 1
        eng.submit(raise_error, "x", cache=True).result()
        eng.submit(raise_error, "x", cache=True).result()
        assert eng.cache_hits == 1  # errors are never cached
        uncached = eng.submit(pid_of_worker, "same", cache=False).result()
        assert uncached.status is Status.OK and eng.cache_hits == 1


def test_closed_engine_refuses_and_fails_pending():
    eng = Engine(workers=1, timeout=10.0)
    running = eng.submit(sleep_forever, None)
    queued = eng.submit(square, 2)
    time.sleep(0.5)
    eng.close()
    assert running.result(timeout=5).status is Status.ERROR
    assert queued.result(timeout=5).status is Status.ERROR
    with pytest.raises(EngineClosed):
        eng.submit(square, 1)


def test_broken_worker_start_is_reported(monkeypatch):
    monkeypatch.setenv("REWARDLAB_PRELOAD", "")
    eng = Engine(workers=1, preload=["module_that_does_not_exist_xyz"], start_grace=1.0)
    try:
        outcome = eng.submit(square, 2).result(timeout=60)
        assert outcome.status is Status.ERROR
        assert "cannot start workers" in outcome.reason
    finally:
        eng.close()


SCRIPT = '''
from rewardlab import CpuReward, Outcome, Sample, register

@register("script_defined_length")
class ScriptLength(CpuReward):
    def compute(self, sample):
        import os
        return Outcome.ok(len(sample.response), worker_pid=os.getpid())

if __name__ == "__main__":
    import os
    reward = ScriptLength()
    out = reward.score([Sample(response="abc"), Sample(response="hello")])
    assert [o.score for o in out] == [3.0, 5.0], out
    assert all(o.details["worker_pid"] != os.getpid() for o in out)
    print("OK")
'''


def test_rewards_defined_in_a_user_script_run_in_workers(tmp_path):
    # Like multiprocessing's spawn, workers load the parent's __main__ script (without running
    # its main block), so a reward class defined in a script unpickles in the worker.
    import subprocess
    import sys

    script = tmp_path / "my_reward.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"


def test_items_waiting_behind_a_lost_item_are_still_scored():
    # With one worker and prefetch, the squares sit in the worker's pipe behind the bad item;
    # when the worker is killed they go back to the queue rather than failing with it.
    with Engine(workers=1, timeout=0.5, prefetch=3) as eng:
        for bad in (sleep_forever, hard_exit):
            futures = [eng.submit(bad, None)] + [eng.submit(square, i) for i in (2, 3)]
            outcomes = [f.result(timeout=30) for f in futures]
            assert outcomes[0].status in (Status.TIMEOUT, Status.ERROR)
            assert [o.score for o in outcomes[1:]] == [4.0, 9.0]


def test_import_time_is_not_billed_to_the_deadline(tmp_path, monkeypatch):
    # A module that takes 1.5 s to import; the task's own deadline is 0.5 s. Its clock starts
    # after the worker has imported the module, so the first item does not time out.
    (tmp_path / "slow_to_import_mod.py").write_text("import time\ntime.sleep(1.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with Engine(workers=1, timeout=0.5) as eng:
        first = eng.submit(square, 3, imports=["slow_to_import_mod"]).result(timeout=60)
        again = eng.submit(square, 4, imports=["slow_to_import_mod"]).result(timeout=60)
        plain_late = eng.submit(time_sleep_task, 1.0).result(timeout=60)
    assert (first.status, first.score) == (Status.OK, 9.0)
    assert (again.status, again.score) == (Status.OK, 16.0)
    assert plain_late.status is Status.TIMEOUT  # the deadline itself still holds
