"""Reading code-test references and instrumenting their asserts (host side, trusted input).

Every supported format becomes a :class:`TestPlan`:

* HumanEval ``{"prompt", "test", "entry_point"}``: the ``check`` function's asserts.
* MBPP ``{"test_list", "test_imports"?, "test_setup_code"?}``.
* stdin/stdout ``{"inputs": [...], "outputs": [...], "fn_name"?}`` (verl, APPS; APPS'
  ``input_output`` JSON string too), CodeContests' ``{"input": [...], "output": [...]}`` and
  lists of ``{"input", "output"}`` cases.
* A plain list of assert strings (or ``{"asserts": [...]}``).

Assert statements are rewritten so that each one reports ``begin``/``end`` to the sandbox
server (a test only passes by reaching its end). The rewritten tests run in the sandbox's judge
process, never in the candidate's: names the solution defines (:func:`free_names`) reach the
judge as proxies that return plain data only, so comparisons and builtins are the judge's own.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewardlab.errors import RewardlabError


class BadTests(RewardlabError, ValueError):
    """The reference's tests cannot be used (unknown format, syntax error, no tests)."""


@dataclass
class TestPlan:
    """How to run one sample's tests.

    Attributes:
        kind: ``asserts`` (instrumented sources), ``stdio`` (program per input) or ``call``
            (function called per input).
        sources: Instrumented test sources (``asserts``).
        prelude: Trusted source the judge runs before the tests (a HumanEval prompt's helpers
            and imports, MBPP's test imports and setup code).
        names: Names the tests use that are not builtins (the judge asks the solution for them).
        solution_wins: Names whose solution definition replaces the prelude's (the entry point
            a HumanEval prompt declares with an empty body).
        count: Number of tests.
        prefix: Code put before the solution (HumanEval prompt or its imports).
        inputs: Standard inputs or argument lists.
        outputs: Expected outputs or return values.
        fn_name: Function to call (``call``).
        entry_point: HumanEval entry point, used to decide whether to prepend the prompt.
    """

    kind: Literal["asserts", "stdio", "call"]
    sources: list[str] = field(default_factory=list)
    prelude: str = ""
    names: list[str] = field(default_factory=list)
    solution_wins: list[str] = field(default_factory=list)
    count: int = 0
    prefix: str = ""
    inputs: list[Any] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    fn_name: str | None = None
    entry_point: str | None = None


class _Instrument(ast.NodeTransformer):
    def __init__(self, start: int) -> None:
        self.next_index = start

    def visit_Assert(self, node: ast.Assert) -> Any:
        if isinstance(node.test, ast.Constant):  # "assert True, 'debug note'" tests nothing
            return node
        index = self.next_index
        self.next_index += 1
        guarded = ast.Assert(test=node.test, msg=node.msg)
        begin = ast.Expr(_call("_rlbegin", [ast.Constant(index)]))
        failed = ast.ExceptHandler(
            type=ast.Name("BaseException", ast.Load()), name="_rl_error",
            body=[ast.Expr(_call("_rlend", [ast.Constant(index), ast.Name("_rl_error",
                                                                              ast.Load())]))])
        passed = [ast.Expr(_call("_rlend", [ast.Constant(index)]))]
        return [begin, ast.Try(body=[guarded], handlers=[failed], orelse=passed, finalbody=[])]


def _call(name: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])


def instrument(source: str, start: int = 0) -> tuple[str, int]:
    """Rewrite every assert in ``source``; returns the new source and the number of asserts.

    Raises:
        BadTests: the source does not parse.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise BadTests(f"test code does not parse: {exc}") from None
    transformer = _Instrument(start)
    tree = ast.fix_missing_locations(transformer.visit(tree))
    return ast.unparse(tree), transformer.next_index - start


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadTests(f"{what} is a string that is not JSON") from None
    if not isinstance(value, list):
        raise BadTests(f"{what} must be a list, got {type(value).__name__}")
    return value


_BUILTIN_NAMES = frozenset(dir(builtins))


def free_names(*sources: str) -> list[str]:
    """Names the sources read that are not builtins: the solution may define them.

    Asking for more names than needed is harmless (the judge's own definitions, run later,
    replace the solution's), so every loaded name counts.
    """
    names: set[str] = set()
    for source in sources:
        if not source:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        names.update(node.id for node in ast.walk(tree)
                     if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))
    return sorted(n for n in names - _BUILTIN_NAMES if not n.startswith("_rl"))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _asserts_plan(asserts: Sequence[Any], prelude: str = "") -> TestPlan:
    sources, count = [], 0
    for item in asserts:
        if not isinstance(item, str):
            raise BadTests(f"each test must be a string of Python, got {type(item).__name__}")
        source, n = instrument(item, count)
        sources.append(source)
        count += n
    if count == 0:
        raise BadTests("the tests contain no assert statements")
    if prelude and not _parses(prelude):
        raise BadTests("the test imports/setup code does not parse")
    return TestPlan("asserts", sources=sources, prelude=prelude, count=count,
                    names=free_names(prelude, *asserts))


def plan_tests(reference: Any, prompt: str = "") -> TestPlan:
    """Turn a sample's reference into a :class:`TestPlan`.

    Args:
        reference: The tests, in one of the supported formats (dict, list, or a JSON string).
        prompt: The sample's prompt text (HumanEval: the function header the completion
            continues, when the reference has no ``prompt``).

    Raises:
        BadTests: the reference is not a usable test description.
    """
    if isinstance(reference, str):
        try:
            reference = json.loads(reference)
        except ValueError:
            return _asserts_plan([reference])
    if isinstance(reference, list | tuple):
        if reference and all(isinstance(c, Mapping) and "input" in c and "output" in c
                             for c in reference):  # [{"input": ..., "output": ...}, ...]
            return plan_tests({"inputs": [c["input"] for c in reference],
                               "outputs": [c["output"] for c in reference]}, prompt)
        return _asserts_plan(list(reference))
    if not isinstance(reference, Mapping):
        raise BadTests(f"unsupported test reference of type {type(reference).__name__}")
    if "input_output" in reference and "inputs" not in reference:
        inner = reference["input_output"]
        inner = json.loads(inner) if isinstance(inner, str) else inner
        return plan_tests(dict(inner), prompt)
    if "test" in reference and "entry_point" in reference:
        entry = reference["entry_point"]
        if not isinstance(entry, str) or not entry.isidentifier():
            raise BadTests(f"entry_point must be a function name, got {entry!r}")
        test = f"{reference['test']}\n\ncheck({entry})\n"
        source, count = instrument(test)
        if count == 0:
            raise BadTests("the HumanEval test has no assert statements")
        prefix = str(reference.get("prompt") or prompt)
        # The prompt is trusted reference text: the judge runs it, so the helpers the tests
        # use (HumanEval/38's encode_cyclic, /32's poly) are the prompt's, not the solution's.
        prelude = prefix if _parses(prefix) else ""
        return TestPlan("asserts", sources=[source], count=count, prefix=prefix,
                        entry_point=entry, prelude=prelude, solution_wins=[entry],
                        names=sorted({*free_names(prelude, test), entry}))
    if "test_list" in reference:
        imports = reference.get("test_imports") or []
        if isinstance(imports, str):
            imports = [imports]
        setup = "\n".join([*imports, str(reference.get("test_setup_code") or "")])
        return _asserts_plan(_as_list(reference["test_list"], "test_list"), setup.strip())
    if "asserts" in reference:
        return _asserts_plan(_as_list(reference["asserts"], "asserts"))
    if "input" in reference and "output" in reference and "inputs" not in reference:
        # CodeContests-style {"input": [...], "output": [...]} (public/private/generated tests)
        return plan_tests({**reference, "inputs": reference["input"],
                           "outputs": reference["output"]}, prompt)
    if "inputs" in reference and "outputs" in reference:
        inputs = _as_list(reference["inputs"], "inputs")
        outputs = _as_list(reference["outputs"], "outputs")
        if len(inputs) != len(outputs):
            raise BadTests(f"{len(inputs)} inputs but {len(outputs)} outputs")
        if not inputs:
            raise BadTests("no test cases (empty inputs)")
        fn_name = reference.get("fn_name")
        if fn_name:
            calls = [args if isinstance(args, list) else [args] for args in inputs]
            return TestPlan("call", count=len(inputs), inputs=calls, outputs=outputs,
                            fn_name=str(fn_name))
        stdin = ["\n".join(map(str, i)) if isinstance(i, list) else str(i) for i in inputs]
        expected = ["\n".join(map(str, o)) if isinstance(o, list) else str(o) for o in outputs]
        return TestPlan("stdio", count=len(inputs), inputs=stdin, outputs=expected)
    raise BadTests(
        "unknown test format: expected HumanEval (test, entry_point), MBPP (test_list), "
        f"stdin/stdout (inputs, outputs) or a list of asserts; got keys {sorted(reference)}")


_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PY_TAGS = {"", "python", "py", "python3", "py3"}


def extract_code(response: str) -> str:
    """The program in a response: the last Python (or untagged) markdown fence, else the text.

    When a response has several Python fences, the last one is taken (models usually end
    with the final version).
    """
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(response)]
    python = [body for tag, body in blocks if tag in _PY_TAGS]
    if python:
        return python[-1]
    if blocks:
        return blocks[-1][1]
    return response


def defines_function(code: str, name: str) -> bool:
    """Whether ``code`` has a top-level ``def name``."""
    return re.search(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def outputs_match(actual: str, expected: str, tolerance: float = 1e-6) -> bool:
    """Compare program output to the expected output, token by token.

    Line structure and surrounding whitespace are ignored; numeric tokens match within
    ``tolerance`` (absolute or relative).
    """
    got, want = actual.split(), expected.split()
    if got == want:
        return True
    if len(got) != len(want):
        return False
    for a, b in zip(got, want, strict=True):
        if a == b:
            continue
        if not (_NUMBER.match(a) and _NUMBER.match(b)):
            return False
        x, y = float(a), float(b)
        if abs(x - y) > tolerance * max(1.0, abs(y)):
            return False
    return True


def values_match(actual: Any, expected: Any, tolerance: float = 1e-6) -> bool:
    """Compare a returned value (JSON-decoded) with the expected one (APPS call-based style).

    Tuples and lists are equal, floats match within ``tolerance``, and an expected value
    wrapped in a one-element list also matches the bare value.
    """
    if _equal(actual, expected, tolerance):
        return True
    return (isinstance(expected, list) and len(expected) == 1
            and _equal(actual, expected[0], tolerance))


def _equal(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (type(a) is type(b) and a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or abs(a - b) <= tolerance * max(1.0, abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y, tolerance) for x, y in zip(a, b,
                                                                                    strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k], tolerance) for k in a)
    return a == b
