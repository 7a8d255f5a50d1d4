"""``code``: run the response's program against tests in the bubblewrap sandbox.

Test formats (the sample's ``reference``): HumanEval, MBPP, stdin/stdout cases (verl / APPS /
CodeContests, with ``fn_name`` for call-based tasks) and plain assert lists; see
:func:`rewardlab.verifiers._code_tests.plan_tests`. Score is the fraction of tests passed
(or all-or-nothing). Details carry per-test results, the first failure's error text (useful
as feedback to the policy), hack flags and the sandbox isolation level.

Verdicts are decided outside the program's process: asserts run in the sandbox's judge
process (the program only returns data through a data-only codec), stdin/stdout outputs and
call-based return values are compared here on the host.

A program that runs past a time limit (per test, or the sample's total ``timeout``) is a wrong
answer: the outcome is ``ok``, the unfinished tests fail, ``details.killed`` says which limit
and ``details.first_error`` says so. The ``timeout`` status is kept for the grader itself: the
sandbox server not answering within the deadline plus a grace period.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Literal

from rewardlab.engine.sandbox import Limits, RunResult, SandboxPool, shared_pool
from rewardlab.registry import register
from rewardlab.reward import Reward, error_outcome
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers._code_tests import (
    BadTests,
    TestPlan,
    defines_function,
    extract_code,
    outputs_match,
    plan_tests,
    values_match,
)

_MAX_PER_TEST = 50
_TAIL = 2000


@register("code")
class CodeReward(Reward):
    """Fraction of tests the response's Python program passes, run in a sandbox.

    Args:
        all_or_nothing: Score 1.0 only when every test passes, else 0.0.
        timeout: Total wall-clock seconds for one sample's tests (the program's time limit; a
            program past it fails the unfinished tests).
        test_timeout: Wall-clock seconds for each test (assert or stdin case).
        memory_mb: Address-space limit for each of the program's processes; the sample's
            worst case is ``max_processes * memory_mb`` (``details.memory_bound_mb``).
        max_processes: Processes/threads the program may run at once.
        max_output_bytes: Output bytes kept; more ends the program.
        extract: Take the code from markdown fences when the response has them.
        isolation: ``auto``/``bwrap`` (bubblewrap) or ``process`` (weaker, needs
            ``allow_weaker``).
        allow_weaker: Fall back to process isolation when bubblewrap is unavailable.
        workers: Sandboxes running samples in parallel (default: CPU count).
        python_paths: Folders programs may import from, e.g. a site-packages with numpy
            (read-only in the sandbox). By default only the standard library is available.
    """

    def __init__(
        self,
        all_or_nothing: bool = False,
        timeout: float = 20.0,
        test_timeout: float = 6.0,
        memory_mb: int = 1024,
        max_processes: int = 8,
        max_output_bytes: int = 1 << 20,
        extract: bool = True,
        isolation: Literal["auto", "bwrap", "process"] = "auto",
        allow_weaker: bool = False,
        workers: int | None = None,
        python_paths: list[str] | None = None,
    ) -> None:
        if timeout <= 0 or test_timeout <= 0:
            raise ValueError("timeout and test_timeout must be positive")
        self.all_or_nothing = all_or_nothing
        self.timeout = float(timeout)
        self.test_timeout = float(test_timeout)
        self.limits = Limits(cpu_s=self.timeout, memory_mb=memory_mb, processes=max_processes,
                             output_bytes=max_output_bytes)
        self.extract = extract
        self.isolation = isolation
        self.allow_weaker = allow_weaker
        self.workers = workers
        self.python_paths = tuple(python_paths or ())
        for path in self.python_paths:
            if not os.path.isdir(path):
                raise ValueError(f"python_paths entry {path!r} is not a directory")
        self._pool: SandboxPool | None = None

    @property
    def pool(self) -> SandboxPool:
        """The sandboxes this reward runs in (shared process-wide per configuration)."""
        if self._pool is None or self._pool._closed:
            self._pool = shared_pool(self.workers, self.isolation, self.allow_weaker,
                                     self.python_paths)
        return self._pool

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        pool = self.pool  # raises SandboxUnavailable before any work when there is no sandbox
        return list(await asyncio.gather(*(self._score_safe(pool, s) for s in samples)))

    async def _score_safe(self, pool: SandboxPool, sample: Sample) -> Outcome:
        try:
            return await self.score_sample(pool, sample)
        except Exception as exc:
            return error_outcome(exc, self.describe())

    async def score_sample(self, pool: SandboxPool, sample: Sample) -> Outcome:
        """Score one sample in ``pool``."""
        try:
            plan = plan_tests(sample.reference, sample.prompt_text)
        except BadTests as exc:
            return Outcome.fail(Status.BAD_REFERENCE, str(exc))
        code = extract_code(sample.response) if self.extract else sample.response
        if not code.strip():
            return Outcome.fail(Status.UNPARSEABLE, "the response contains no code")
        if plan.kind == "asserts":
            return self._grade_asserts(plan, await self._run_asserts(pool, plan, code))
        if plan.kind == "call":
            result = await pool.arun("call", code, fn_name=plan.fn_name, calls=plan.inputs,
                                     timeout=self.timeout, test_timeout=self.test_timeout,
                                     limits=self.limits)
            if result.killed in ("sandbox_crashed", "sandbox_timeout"):
                return _sandbox_failure(result)
            return self._grade_calls(plan, result)
        return await self._run_stdio(pool, plan, code)

    # -- asserts (HumanEval, MBPP, plain) ------------------------------------------------------

    async def _run_asserts(self, pool: SandboxPool, plan: TestPlan, code: str) -> RunResult:
        if plan.entry_point and plan.prefix:
            if defines_function(code, plan.entry_point):
                # A full function: keep the prompt's imports and helpers. The prompt's own
                # header (its body is just the docstring) parses and is then redefined.
                code = f"{plan.prefix}\n\n{code}"
            else:
                code = plan.prefix + code  # a completion continues the prompt
        return await pool.arun("tests", code, tests=plan.sources, prelude=plan.prelude,
                               names=plan.names, solution_wins=plan.solution_wins,
                               timeout=self.timeout, test_timeout=self.test_timeout,
                               limits=self.limits)

    def _grade_asserts(self, plan: TestPlan, result: RunResult) -> Outcome:
        if result.killed in ("sandbox_crashed", "sandbox_timeout"):
            return _sandbox_failure(result)
        failures: dict[int, str] = {}
        passes: set[int] = set()
        flags = _flags_of(result)
        load_error = None
        errors: list[str] = []
        finished = False
        for event in result.events:
            kind = event.get("event")
            if kind == "end":
                index = event.get("test")
                if not isinstance(index, int) or not 0 <= index < plan.count:
                    continue
                if event.get("passed"):
                    passes.add(index)
                else:
                    failures.setdefault(index, str(event.get("error", "failed")))
                    if event.get("hack"):
                        flags.add("always_equal")
            elif kind == "load" and not event.get("ok"):
                load_error = str(event.get("error", "the solution failed to load"))
                if event.get("protocol"):
                    flags.add("protocol_violation")
            elif kind == "prelude_error":
                return Outcome.fail(Status.BAD_REFERENCE, "the reference's prompt/setup code "
                                    f"failed in the judge: {event.get('error')}"[:500])
            elif kind == "error":
                errors.append(f"{event.get('where')}: {event.get('error')}")
            elif kind == "candidate_gone":
                flags.add("protocol_violation" if event.get("protocol") else "exited_early")
            elif kind == "finished":
                finished = True
        if not finished and result.killed is None:
            return Outcome.fail(Status.ERROR, "the sandbox's judge did not finish: "
                                f"{result.stderr[-300:] or 'no output'}",
                                isolation=result.isolation)
        if result.open_test is not None and result.killed:
            failures.setdefault(int(result.open_test), _why_stopped(result))
        passed = passes - set(failures)
        if flags & {"protocol_violation", "forbidden_syscall"}:
            passed = set()  # the program attacked the harness: no credit at all
        per_test = [{"test": i, "passed": i in passed,
                     **({"error": failures[i]} if i in failures else {})}
                    for i in range(min(plan.count, _MAX_PER_TEST))]
        first_error = (load_error
                       or next((failures[i] for i in sorted(failures)), None)
                       or (errors[0] if errors else None))
        if first_error is None and len(passed) < plan.count:
            first_error = _why_stopped(result)
        handles = next((e.get("handles", 0) for e in result.events
                        if e.get("event") == "finished"), 0)
        return self._outcome(len(passed), plan.count, result, per_test, first_error, flags,
                             handles=handles, verdict="judge")

    # -- call-based (fn_name) ----------------------------------------------------------------

    def _grade_calls(self, plan: TestPlan, result: RunResult) -> Outcome:
        passed, failures, flags = 0, {}, _flags_of(result)
        load_error = None
        per_test: list[dict[str, Any]] = []
        seen: set[int] = set()
        for event in result.events:
            if event.get("event") == "load" and not event.get("ok"):
                load_error = str(event.get("error"))
            if event.get("event") == "candidate_gone":
                flags.add("protocol_violation" if event.get("protocol") else "exited_early")
            if event.get("event") != "end" or not isinstance(event.get("test"), int):
                continue
            i = event["test"]
            if i in seen or not 0 <= i < plan.count:
                continue
            seen.add(i)
            if "value" in event and values_match(event["value"], plan.outputs[i]):
                passed += 1
                ok, err = True, None
            else:
                ok = False
                err = event.get("error") or (f"returned {_short(event.get('value'))}, expected "
                                             f"{_short(plan.outputs[i])}")
                if event.get("hack"):
                    flags.add("always_equal")
                failures[i] = err
            if i < _MAX_PER_TEST:
                per_test.append({"test": i, "passed": ok, **({"error": err} if err else {})})
        if result.open_test is not None and result.killed:
            failures.setdefault(int(result.open_test), _why_stopped(result))
        if flags & {"protocol_violation", "forbidden_syscall"}:
            passed = 0
        first_error = load_error or next((failures[i] for i in sorted(failures)), None)
        if first_error is None and passed < plan.count:
            first_error = _why_stopped(result)
        return self._outcome(passed, plan.count, result, per_test, first_error, flags)

    # -- stdin/stdout ----------------------------------------------------------------------

    async def _run_stdio(self, pool: SandboxPool, plan: TestPlan, code: str) -> Outcome:
        started = time.monotonic()
        per_test: list[dict[str, Any]] = []
        passed, first_error, flags = 0, None, set()
        last: RunResult | None = None
        for i, (stdin, expected) in enumerate(zip(plan.inputs, plan.outputs, strict=True)):
            remaining = self.timeout - (time.monotonic() - started)
            if remaining <= 0:
                first_error = first_error or f"total deadline of {self.timeout:g} s reached"
                break
            last = await pool.arun("script", code, stdin=stdin,
                                   timeout=min(self.test_timeout, remaining), limits=self.limits)
            if last.killed in ("sandbox_crashed", "sandbox_timeout"):
                return _sandbox_failure(last)
            flags |= _flags_of(last)
            ok = last.killed is None and last.exit_code == 0 and outputs_match(last.stdout,
                                                                                 expected)
            error = None
            if not ok:
                error = _why_failed_script(last, expected)
                first_error = first_error or error
            passed += ok
            if i < _MAX_PER_TEST:
                per_test.append({"test": i, "passed": ok, **({"error": error} if error else {})})
            if not ok and self.all_or_nothing:
                break
        if last is None:
            last = RunResult(None, None, isolation=self.pool.isolation_level)
        return self._outcome(passed, plan.count, last, per_test, first_error, flags)

    # -- shared ----------------------------------------------------------------------------

    def _outcome(self, passed: int, total: int, result: RunResult, per_test: list[dict[str, Any]],
                 first_error: str | None, flags: set[str], handles: int = 0,
                 verdict: str = "host") -> Outcome:
        fraction = passed / total if total else 0.0
        score = (1.0 if passed == total else 0.0) if self.all_or_nothing else fraction
        details: dict[str, Any] = {
            "tests_passed": passed, "tests_total": total, "per_test": per_test,
            "isolation": result.isolation, "flags": sorted(flags),
            "exit_code": result.exit_code, "killed": result.killed,
            "wall_s": round(result.wall_s, 4),
            "verdict_in": verdict,
            "seccomp": result.seccomp, "separate_uids": result.separate_uids,
            "limits": {"enforced_by": "rlimit (cgroups are not used)",
                       "memory_mb_per_process": self.limits.memory_mb,
                       "processes": self.limits.processes,
                       "memory_bound_mb": self.limits.memory_bound_mb},
        }
        if result.timed_out:
            details["time_limit_exceeded"] = True
        if handles:
            # Objects the solution returned that are not data (class instances, generators)
            # stayed in its process; tests could only call into them, never compare them.
            details["solution_objects"] = handles
        if first_error:
            details["first_error"] = first_error[:_TAIL]
        if passed < total and result.stderr:
            details["stderr"] = result.stderr[-_TAIL:]
        if flags:
            reason = "possible reward hack: " + ", ".join(sorted(flags))
        elif passed == total:
            reason = ""
        else:
            reason = f"{passed}/{total} tests passed" + (f"; {first_error}"[:300]
                                                         if first_error else "")
        return Outcome.ok(score, reason, **details)


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _flags_of(result: RunResult) -> set[str]:
    flags = set()
    if result.signal == "SIGSYS":
        flags.add("forbidden_syscall")
    return flags


def _why_stopped(result: RunResult) -> str:
    if result.killed == "timeout":
        return f"time limit exceeded: the program ran past the {result.wall_s:.1f} s total"
    if result.killed == "test_timeout":
        return f"time limit exceeded: test {result.open_test} ran past its per-test limit"
    if result.killed == "output_limit":
        return "output limit exceeded"
    if result.signal == "SIGSYS":
        return "the program made a system call the sandbox forbids (killed by SIGSYS)"
    if result.signal:
        return f"killed by {result.signal}"
    return f"the program exited (code {result.exit_code}) before the tests finished"


def _why_failed_script(result: RunResult, expected: str) -> str:
    if result.killed or result.signal or result.exit_code not in (0, None):
        tail = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
        base = _why_stopped(result) if result.killed or result.signal else (
            f"exit code {result.exit_code}")
        return base + (f": {tail[0]}" if tail else "")
    return f"wrong output: got {_short(result.stdout)}, expected {_short(expected)}"


def _sandbox_failure(result: RunResult) -> Outcome:
    if result.killed == "sandbox_timeout":  # the grader's own deadline, not the program's
        return Outcome.fail(Status.TIMEOUT, f"the sandbox did not answer: {result.stderr}"[:500],
                            isolation=result.isolation)
    return Outcome.fail(Status.ERROR, f"the sandbox failed: {result.stderr}"[:500],
                        isolation=result.isolation)
