"""Safe arithmetic formulas over named values (OpenAI ``multi`` graders' ``calculate_output``).

The formula is parsed with :mod:`ast` and evaluated by walking a whitelist of node types:
numbers, names, ``+ - * /``, power as ``^`` (OpenAI's spelling, with the usual mathematical
precedence: ``-a ^ 2`` is ``-(a ^ 2)``, ``2 * a ^ 2`` is ``2 * (a ^ 2)``) or ``**``, unary
``+ -``, and calls to OpenAI's functions ``min max abs floor ceil exp sqrt log`` (plus
``round``, a rewardlab extension). Nothing
is ever passed to ``eval``; attribute access, subscripts, comprehensions, lambdas and every
other construct are rejected at parse time.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping

from rewardlab.errors import RewardlabError

MAX_FORMULA_CHARS = 2000
MAX_EXPONENT = 64.0

FUNCTIONS: dict[str, Callable[..., float]] = {
    "min": min, "max": max, "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil,
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class FormulaError(RewardlabError, ValueError):
    """A formula that is not allowed, refers to unknown names, or cannot be evaluated."""


class Formula:
    """A parsed, validated arithmetic formula.

    Args:
        text: The formula, e.g. ``"0.5 * accuracy + 0.5 * min(style, 1)"``.
        names: The names it may use.

    Raises:
        FormulaError: syntax errors, forbidden constructs or unknown names.
    """

    def __init__(self, text: str, names: Iterable[str]) -> None:
        if not isinstance(text, str) or not text.strip():
            raise FormulaError("the formula is empty")
        if len(text) > MAX_FORMULA_CHARS:
            raise FormulaError(f"the formula is longer than {MAX_FORMULA_CHARS} characters")
        try:
            # OpenAI writes power as ^; Python's ^ is XOR with a lower precedence than + and *,
            # so it is rewritten to ** (same precedence as in mathematics) before parsing
            tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"invalid formula {text!r}: {exc.msg}") from None
        self.text, self.allowed = text, set(names)
        self.names: set[str] = set()
        self._check(tree.body)
        self._tree = tree.body

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise FormulaError(f"only numbers are allowed as constants, got {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id not in self.allowed:
                raise FormulaError(f"unknown name {node.id!r} in formula; known: "
                                   f"{sorted(self.allowed)}")
            self.names.add(node.id)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            self._check(node.operand)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise FormulaError(f"only these functions are allowed: {sorted(FUNCTIONS)}")
            if node.keywords or not node.args:
                raise FormulaError(f"{node.func.id}() takes positional arguments only")
            for arg in node.args:
                self._check(arg)
        else:
            raise FormulaError(f"{type(node).__name__} is not allowed in a formula")

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value for ``values`` (a finite float).

        Raises:
            FormulaError: a missing value, a math error (division by zero, domain error,
                overflow) or a non-finite result.
        """
        missing = sorted(self.names - set(values))
        if missing:
            raise FormulaError(f"no value for {missing}")
        try:
            result = float(self._eval(self._tree, values))
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise FormulaError(f"cannot evaluate {self.text!r}: {exc}") from None
        if not math.isfinite(result):
            raise FormulaError(f"{self.text!r} evaluated to {result}")
        return result

    def _eval(self, node: ast.AST, values: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            return node.value  # type: ignore[return-value]
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, values), self._eval(node.right, values)
            if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
                raise ValueError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, values))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return FUNCTIONS[node.func.id](*(self._eval(a, values) for a in node.args))
