"""Normalize math answer strings and read plain numbers exactly (no sympy).

The fast path of the ``math`` reward: most answers are integers, decimals, fractions or mixed
numbers, possibly wrapped in units, currency, percent or degree signs. Reading those exactly
with :class:`fractions.Fraction` settles most items in microseconds; anything else goes to the
symbolic path.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

_TEXT_CMD_RE = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}"
)
_UNIT_WORDS = (
    "square|sq|cubic|units?|unit|cm|mm|km|m|meters?|metres?|centimeters?|millimeters?|"
    "kilometers?|inches|inch|in|feet|foot|ft|yards?|yd|miles?|mi|mph|kg|g|grams?|kilograms?|"
    "pounds?|lbs?|lb|ounces?|oz|tons?|liters?|litres?|l|ml|gallons?|cups?|seconds?|sec|s|"
    "minutes?|min|hours?|hrs?|h|days?|weeks?|months?|years?|dollars?|cents?|euros?|"
    "people|persons?|students?|apples?|marbles?|cookies?|pieces?|points?|times|ways|degrees?|"
    "rupees?|yuan|usd|eur|gbp"
)
_TRAILING_UNITS_RE = re.compile(
    rf"(?<=[\d}}.])\s+(?:(?:{_UNIT_WORDS})\b(?:\^?\{{?[23]\}}?|²|³)?\.?\s*)+$",
    re.IGNORECASE,
)
_PERCENT_RE = re.compile(r"\s*(?:\\%|%|\\text\{\s*%\s*\}|percent(?:age)?|pct)\s*$", re.IGNORECASE)
_DEGREE_RE = re.compile(r"\s*(?:\^\s*\{?\\circ\}?|°|\\circ|\\degree)\s*$")
_CURRENCY_RE = re.compile(r"\\\$|\$|€|£|¥|₹|\\euro|\\pounds|(?<![a-z])(?:USD|EUR|GBP)\b")
_SPACING_RE = re.compile(r"\\[,;:! ]|\\q?quad|~")
_RIGHT_ASSIGNMENT_RE = re.compile(r"\s*=\s*[a-zA-Z](?:_\{?\w+\}?)?$")
_ASSIGNMENT_RE = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*(?:=|\\approx|≈)\s*")

_FRAC_VARIANT_RE = re.compile(r"\\[dtc]frac")
_FRAC_DIGITS_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_BRACE_RE = re.compile(r"\\frac\s*(\d)\s*\{")
_FRAC_BRACE_DIGIT_RE = re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)")
_INT = r"\d+"
_THOUSANDS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_SPACE_THOUSANDS = r"\d{1,3}(?: \d{3})+(?:\.\d+)?"
_DECIMAL = r"\d*\.\d+|\d+\."
_DECIMAL_COMMA = r"\d+,\d+"
_FRAC_RE = re.compile(r"^\\frac\{\s*([+-]?\d+)\s*\}\{\s*([+-]?\d+)\s*\}$")
_SLASH_RE = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")
_MIXED_RE = re.compile(r"^(\d+)\s*\\frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}$")
_SCI_RE = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|\*|\u00d7)\s*10\^\{?\s*([+-]?\d+)\s*\}?$"
)
_MAX_DIGITS = 400


@dataclass(frozen=True)
class Number:
    """An exactly-read number.

    Args:
        value: The value (a percent is *not* divided by 100 here).
        is_decimal: Written with a decimal point (so compared after rounding).
        percent: Written with a percent sign.
    """

    value: Fraction
    is_decimal: bool = False
    percent: bool = False
    places: int = 0
    """Digits written after the decimal point (in scientific notation, of the value)."""


def clean(answer: str) -> str:
    """Canonical text of an answer: spacing commands, ``\\left``/``\\right``, ``\\dfrac`` and
    ``\\tfrac``, ``\\text{}`` wrappers and trailing punctuation removed; whitespace collapsed."""
    s = answer.strip()
    s = s.replace("\\left", "").replace("\\right", "")
    if "frac" in s:
        s = _FRAC_VARIANT_RE.sub(r"\\frac", s)
        s = _FRAC_DIGITS_RE.sub(r"\\frac{\1}{\2}", s)
        s = _FRAC_DIGIT_BRACE_RE.sub(r"\\frac{\1}{", s)
        s = _FRAC_BRACE_DIGIT_RE.sub(r"\\frac{\1}{\2}", s)
    s = s.replace("{,}", ",").replace("\\!", "")
    for _ in range(3):  # nested \text{\textbf{...}}
        s = _TEXT_CMD_RE.sub(r"\1", s)
    s = _SPACING_RE.sub(" ", s)
    s = s.replace("\u2212", "-").replace("\\displaystyle", "")
    s = " ".join(s.split())
    return s.rstrip(" .;").strip()


def _read_plain(s: str) -> tuple[Fraction, bool] | None:
    """An integer, decimal, thousands-separated or decimal-comma number; None otherwise."""
    sign = -1 if s.startswith("-") else 1
    body = s[1:].strip() if s[:1] in "+-" else s
    if len(body) > _MAX_DIGITS or not body:
        return None
    if re.fullmatch(_INT, body):
        return Fraction(int(body)) * sign, False
    if re.fullmatch(_DECIMAL, body):
        return Fraction(body) * sign, True
    if re.fullmatch(_THOUSANDS, body) and not body.startswith("0,"):
        plain = body.replace(",", "")
        return Fraction(plain) * sign, "." in plain
    if re.fullmatch(_SPACE_THOUSANDS, body):
        plain = body.replace(" ", "")
        return Fraction(plain) * sign, "." in plain
    if re.fullmatch(_DECIMAL_COMMA, body):
        return Fraction(body.replace(",", ".")) * sign, True
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+,\d{1,2}|\d{1,3}(?:\.\d{3})+,\d+", body):
        # European style: 1.000,99 (dot thousands, comma decimals)
        plain = body.replace(".", "").replace(",", ".")
        return Fraction(plain) * sign, True
    return None


def read_number(answer: str, *, strip_assignment: bool = True) -> Number | None:
    """Read an answer as an exact number (see :func:`_read_number`); short answers are cached."""
    if len(answer) <= 200:
        return _read_number_cached(answer, strip_assignment)
    return _read_number(answer, strip_assignment=strip_assignment)


@functools.lru_cache(maxsize=8192)
def _read_number_cached(answer: str, strip_assignment: bool) -> Number | None:
    return _read_number(answer, strip_assignment=strip_assignment)


def _read_number(answer: str, *, strip_assignment: bool = True) -> Number | None:
    """Read an answer as an exact number, or ``None`` when it is not a plain number.

    Understands thousands separators (``7,425,000``, ``1 000``, ``1{,}000``), decimal commas
    (``1000,99``), currency (``$``, ``€``, ``£``), trailing units (``10 cm``,
    ``\\text{ miles}``), percent (``28\\%``, ``28 percent``), degrees (``90^\\circ``),
    fractions (``\\frac{10}{9}``, ``\\dfrac12``, ``10/9``), mixed numbers (``12\\frac{3}{5}``),
    ``a \\times 10^{k}`` and a leading single-variable assignment (``x = 5``). ``\\pm``,
    variables and lists are deliberately *not* numbers.

    Args:
        answer: The answer text.
        strip_assignment: Drop a leading ``x =`` (so ``k=1`` reads as 1).
    """
    s = clean(answer)
    if strip_assignment:
        s = _ASSIGNMENT_RE.sub("", s, count=1)
        s = _RIGHT_ASSIGNMENT_RE.sub("", s, count=1)  # "2 = x"
        if "=" in s:
            return None
    s = _CURRENCY_RE.sub("", s).strip()
    percent = False
    for _ in range(2):
        stripped = _TRAILING_UNITS_RE.sub("", s).strip()
        m = _PERCENT_RE.search(stripped)
        if m:
            percent = True
            stripped = stripped[:m.start()].strip()
        stripped = _DEGREE_RE.sub("", stripped).strip()
        if stripped == s:
            break
        s = stripped
    s = unwrap_braces(s)
    if not s or len(s) > _MAX_DIGITS + 20:
        return None
    sign = 1
    if s.startswith("-"):
        sign, s = -1, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    if s.startswith("(") and s.endswith(")") and s.count("(") == 1:
        if "," in s or ";" in s:
            return None  # (1,5) and (3,200) are tuples, never 1.5 or 3200
        s = s[1:-1].strip()
    plain = _read_plain(s)
    if plain is not None:
        return Number(plain[0] * sign, plain[1], percent, _places(s) if plain[1] else 0)
    m = _FRAC_RE.match(s) or _SLASH_RE.match(s)
    if m:
        num, den = int(m.group(1)), int(m.group(2))
        if den == 0:
            return None
        return Number(Fraction(num, den) * sign, False, percent)
    m = _MIXED_RE.match(s)
    if m:
        whole, num, den = (int(g) for g in m.groups())
        if den == 0 or num >= den:
            return None  # not a proper mixed number: let the symbolic path decide
        return Number((whole + Fraction(num, den)) * sign, False, percent)
    m = _SCI_RE.match(s)
    if m and abs(int(m.group(2))) <= 300:
        exponent = int(m.group(2))
        written = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
        return Number(Fraction(m.group(1)) * Fraction(10) ** exponent * sign,
                      "." in m.group(1), percent, max(0, written - exponent))
    return None


def _places(s: str) -> int:
    digits = re.sub(r"[^\d.,]", "", s)
    for sep in (".", ","):
        if sep in digits and not re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
            return len(digits.rsplit(sep, 1)[1])
    return 0


def numbers_equal(a: Number, b: Number, *, float_rounding: int = 6, rel_tol: float = 0.0) -> bool:
    """Compare two exactly-read numbers.

    Exact values must be equal. When either side was written as a decimal, both are rounded to
    the places that decimal was written with, and never fewer than ``float_rounding`` (so
    ``1/12`` equals ``0.0833333`` and ``1/3`` equals ``0.333333``, but ``0.0000004`` never
    equals ``0`` nor ``1.0000001`` equals ``1``: a written digit is never rounded away). A
    percent on one side also matches the value divided by 100 (``28%`` equals ``0.28``);
    ``rel_tol`` > 0 accepts ``|a - b| <= rel_tol * max(|a|, |b|)``.
    """
    candidates_a = [a.value] + ([a.value / 100] if a.percent and not b.percent else [])
    candidates_b = [b.value] + ([b.value / 100] if b.percent and not a.percent else [])
    rounded = a.is_decimal or b.is_decimal
    places = max(float_rounding, a.places, b.places)
    for x in candidates_a:
        for y in candidates_b:
            if x == y:
                return True
            if rounded and round(x, places) == round(y, places):
                return True
            if rel_tol > 0 and abs(x - y) <= Fraction(rel_tol) * max(abs(x), abs(y)):
                return True
    return False


_CHOICE_RE = re.compile(
    r"^(?:\\text\{)?\(?\s*(?:option|choice|answer)?\s*\(?([A-J])\)?\s*\}?\)?[.:]?$", re.IGNORECASE
)


def read_choice(answer: str, *, allow_lowercase: bool = True) -> str | None:
    """A multiple-choice letter written as ``C``, ``(C)``, ``\\text{(C)}``, ``option C``..."""
    s = clean(answer)
    m = _CHOICE_RE.match(s)
    if not m:
        return None
    letter = m.group(1)
    if not allow_lowercase and letter.islower():
        return None
    return letter.upper()


def canonical_text(answer: str) -> str:
    """A whitespace-free canonical form for the exact-string fast path."""
    s = clean(answer)
    s = _CURRENCY_RE.sub("", s)
    s = _DEGREE_RE.sub("", s)
    s = s.replace('\\"', "").replace('"', "").replace("``", "").replace("''", "")
    return unwrap_braces(re.sub(r"\s+", "", s))


def unwrap_braces(s: str) -> str:
    """Remove braces that wrap the whole string (``{5}`` -> ``5``), not ``\\frac{1}{2}``'s.

    Linear time however deep the wrapping: each brace's partner is found in one pass.
    """
    s = s.strip()
    if not (s.startswith("{") and s.endswith("}")):
        return s
    partner: dict[int, int] = {}
    stack: list[int] = []
    for i, ch in enumerate(s):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            partner[stack.pop()] = i
    left, right = 0, len(s) - 1
    while left < right and s[left] == "{" and partner.get(left) == right:
        left += 1
        right -= 1
        while left <= right and s[left].isspace():
            left += 1
        while right >= left and s[right].isspace():
            right -= 1
    return s[left:right + 1]
