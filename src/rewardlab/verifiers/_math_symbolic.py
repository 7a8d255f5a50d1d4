"""The symbolic path of the ``math`` reward: math-verify (latex2sympy2 + sympy) plus guards.

Imported lazily (sympy takes about a second to import), so the fast paths and ``import
rewardlab`` stay light. Timeouts: math-verify's own timeouts use ``SIGALRM``, which only works on
the main thread. We pass them only when running on the main thread with no other ``SIGALRM``
handler installed (the engine's workers run tasks exactly like that); anywhere else we pass
``None`` and rely on the engine's deadline, which is enforced from outside the process. A
math-verify timeout is raised to us (``raise_on_error=True``) and becomes a ``timeout`` outcome,
never a silent "wrong".
"""

from __future__ import annotations

import functools
import re
import signal
import threading
from typing import Any

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from math_verify.errors import TimeoutException
from sympy import Basic, Float, MatrixBase, N
from sympy.core.relational import Relational

from rewardlab.errors import RewardlabError

__all__ = ["SymbolicTimeout", "TimeoutException", "only_strings", "parse_answer",
           "parse_response", "symbolic_equal"]

_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())
_STATEMENT_RE = re.compile(
    r"\\(?:forall|exists|nexists|cong|equiv|implies|impliedby|Rightarrow|Leftarrow|iff|"
    r"Leftrightarrow|longrightarrow|mapsto|subset|subseteq|supset|supseteq|perp|parallel|"
    r"sim|mid|nmid)\b|∀|∃|≅|≡|⇒|⇔"
)
_PLUS_MINUS_RE = re.compile(r"\\pm\b|\\mp\b|±|∓")
_EXACT_REL_TOL = 1e-12


class SymbolicTimeout(RewardlabError, Exception):
    """math-verify ran out of its (soft) time budget."""


def _signal_timeout(seconds: int) -> int | None:
    """A SIGALRM timeout only where it is safe: main thread, no foreign SIGALRM handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return None
    return max(1, int(seconds))


@functools.lru_cache(maxsize=4096)
def _parse_cached(latex: str, timeout: int | None) -> tuple[Any, ...]:
    try:
        return tuple(parse(latex, _CONFIG, parsing_timeout=timeout, raise_on_error=True))
    except TimeoutException as exc:
        raise SymbolicTimeout("parsing timed out") from exc
    except Exception:  # math-verify's own behaviour: an unreadable expression parses to nothing
        return ()


_PYTHON_SYNTAX_RE = re.compile(r"\*\*|(?<!\\)\b(?:sqrt|exp|log|sin|cos|tan|pi)\(|\d\s*\*\s*\w")


def parse_answer(answer: str, timeout_s: float) -> tuple[Any, ...]:
    """Parse an extracted answer (math delimiters already removed) with math-verify.

    Plain-expression answers written in Python syntax (``2**(1/4)``, ``-1 + sqrt(3)``) are
    read by math-verify's expression parser when its LaTeX reading finds nothing.
    """
    timeout = _signal_timeout(int(timeout_s))
    if "\\" not in answer and _PYTHON_SYNTAX_RE.search(answer):
        latex = python_to_latex(answer)
        if latex is not None:
            return _parse_cached(f"${latex}$", timeout)
    return _parse_cached(f"${answer}$", timeout)


def python_to_latex(expr: str) -> str | None:
    """``2**(1/4)`` -> ``2^{(1/4)}``, ``sqrt(3)`` -> ``\\sqrt{3}``: a text rewrite (nothing is
    evaluated), or ``None`` when the parentheses do not balance."""
    out: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        if expr.startswith("**", i):
            j = i + 2
            while j < n and expr[j] == " ":
                j += 1
            end = _operand_end(expr, j)
            if end is None:
                return None
            out.append("^{" + (python_to_latex(expr[j:end]) or "") + "}")
            i = end
            continue
        m = re.match(r"(sqrt|exp|log|sin|cos|tan)\(", expr[i:])
        if m and (i == 0 or not expr[i - 1].isalpha()):
            close = _operand_end(expr, i + len(m.group(1)))
            if close is None:
                return None
            inner = python_to_latex(expr[i + len(m.group(1)) + 1:close - 1])
            if inner is None:
                return None
            name = m.group(1)
            out.append(f"\\sqrt{{{inner}}}" if name == "sqrt" else f"\\{name}({inner})")
            i = close
            continue
        if expr.startswith("pi", i) and (i == 0 or not expr[i - 1].isalpha()) and (
                i + 2 >= n or not expr[i + 2].isalpha()):
            out.append("\\pi ")
            i += 2
            continue
        out.append("\\cdot " if expr[i] == "*" else expr[i])
        i += 1
    return "".join(out)


def _operand_end(expr: str, start: int) -> int | None:
    """End of the operand starting at ``start``: a parenthesised group or a number/name."""
    if start < len(expr) and expr[start] == "(":
        depth = 0
        for k in range(start, len(expr)):
            depth += {"(": 1, ")": -1}.get(expr[k], 0)
            if depth == 0:
                return k + 1
        return None
    m = re.match(r"[-+]?[\w.]+", expr[start:])
    return start + m.end() if m else None


def parse_response(response: str, timeout_s: float) -> tuple[Any, ...]:
    """Let math-verify find and parse an answer in a whole response (its own extraction)."""
    return _parse_cached(response, _signal_timeout(int(timeout_s)))


def _is_plain_number(x: Any) -> bool:
    return isinstance(x, Basic) and not isinstance(x, Relational) and getattr(
        x, "is_number", False) and not isinstance(x, MatrixBase)


def _lifted_number(raw: str, parsed: Any) -> bool:
    """A bare number parsed out of a statement (``\\forall x>0, f(x)=0`` -> ``0``)."""
    return _is_plain_number(parsed) and _STATEMENT_RE.search(raw) is not None


def _exactly_different(gold: Any, pred: Any) -> bool:
    """True when two exact numbers (no floats) differ beyond rounding, e.g. 1/2004! vs 1/2006!.

    math-verify compares numbers after rounding, which calls tiny distinct values equal.
    """
    if not (_is_plain_number(gold) and _is_plain_number(pred)):
        return False
    if gold.atoms(Float) or pred.atoms(Float):
        return False
    try:  # sympy Floats: arbitrary exponents, so 1/2004! does not underflow to 0.0
        diff = abs(N(gold - pred, 60))
        scale = max(abs(N(gold, 60)), abs(N(pred, 60)))
        return bool(diff > _EXACT_REL_TOL * scale)
    except (TypeError, ValueError, ArithmeticError):
        return False


def symbolic_equal(
    gold_raw: str,
    gold: tuple[Any, ...],
    pred_raw: str,
    pred: tuple[Any, ...],
    *,
    float_rounding: int,
    strict: bool,
    allow_set_relation_comp: bool,
    timeout_s: float,
) -> bool:
    """math-verify's ``verify`` over every (gold, pred) candidate pair, with our guards.

    Guards against known false positives: a number lifted out of a statement (quantifiers,
    congruences, implications), ``\\pm`` on one side only, and distinct exact values that agree
    after rounding.

    Raises:
        SymbolicTimeout: every pair that did not match timed out.
    """
    gold_pm, pred_pm = bool(_PLUS_MINUS_RE.search(gold_raw)), bool(_PLUS_MINUS_RE.search(pred_raw))
    if gold_pm != pred_pm and "," not in (pred_raw if gold_pm else gold_raw):
        return False  # \pm on one side only, unless the other side lists both values
    timeout = _signal_timeout(int(timeout_s))
    timed_out = False
    for g in gold:
        if _lifted_number(gold_raw, g):
            continue
        for p in pred:
            if _lifted_number(pred_raw, p):
                continue
            try:
                same = verify(g, p, float_rounding=float_rounding, strict=strict,
                              allow_set_relation_comp=allow_set_relation_comp,
                              timeout_seconds=timeout, raise_on_error=True)
            except TimeoutException:
                timed_out = True
                continue
            except Exception:  # math-verify's own behaviour: an error compares unequal
                continue
            if same and not _exactly_different(g, p):
                return True
    if timed_out:
        raise SymbolicTimeout("symbolic comparison timed out")
    return False


def only_strings(parsed: tuple[Any, ...]) -> bool:
    """True when math-verify could only keep the raw text (nothing became a sympy object)."""
    return all(isinstance(x, str) for x in parsed)
