"""Answer-set semantics and hedge detection for the ``math`` reward (pure text, no sympy).

Policy (see docs/math-verifier.md, "Answer sets and hedges"):

- A final answer made of several parts (``1, 2, 3``; ``\\{1, 2\\}``; ``x=3 \\text{ or } x=4``;
  several adjacent boxes; labelled parts) is a *list*. Against a multi-part reference it earns
  credit when the parts match one to one, in any order (the reference list is unordered unless it
  is a tuple, which is never split). Against a single-answer reference a list with different
  values is a hedge and earns nothing.
- Hedges are never credited: alternative phrasing (``or maybe``, ``alternatively``,
  ``perhaps``, ``candidates``, ``not sure``), a question mark in the answer, several choice
  letters, a wall of boxes, negation or disjunction inside the answer (``\\not``, ``\\lor``), and
  reasoning reopened after the final answer.
- Words in the final answer must be units, connectors or words the reference also has: text
  that negates (``4 \\text{ is wrong}``) or scales (``4 \\text{ thousand}``) is not dropped.
- Equations: when both sides name a variable, it must be the same one (``y=3`` is not ``x=3``).
"""

from __future__ import annotations

import re

from rewardlab.verifiers._math_unicode import POISON

MAX_PARTS = 24
_HEDGE_RE = re.compile(
    r"\b(?:or\s+maybe|or\s+perhaps|or\s+possibly|maybe|perhaps|possibly|alternatively|"
    r"alternative(?:ly)?\s+answer|either\b.{0,80}\bor|not\s+sure|unsure|"
    r"(?:I|we)\s+(?:don'?t|do\s+not|cannot|can'?t)\s+(?:know|tell|determine|be\s+sure)|"
    r"no\s+idea|just\s+kidding|kidding|candidates?|possible\s+answers?|could\s+also\s+be|might\s+also\s+be|or\s+(?:it\s+)?could\s+be|"
    r"one\s+of\s+(?:these|the\s+following)|(?:I|my)\s+guess|probably|"
    r"ou\s+peut-être|o\s+tal\s+vez)\b",
    re.IGNORECASE,
)
_NEGATION_CMD_RE = re.compile(
    r"\\not\s*(?![=\\<>])|\\(?:neg|lnot|lor|vee|land|wedge|cancel|bcancel|xcancel|sout|"
    r"st|cancelto|phantom)\b|\u00ac|\u2228|\u2227")
_TRAILING_DOTS_RE = re.compile(r"(?:\\[lcv]?dots|\.\.\.|\u2026)\s*\}*\s*$")
_QUESTION_RE = re.compile(r"[\w})\]]\s*\?")
_CONNECTOR_WORDS = {"and", "or", "the", "is", "answer", "final", "so", "thus", "therefore",
                    "for", "part", "case", "cases", "where", "with", "when", "of", "a", "an",
                    "to", "in", "are", "be", "equals", "equal", "total", "all", "both", "each",
                    "units", "unit", "square", "sq", "cubic", "per", "approximately", "about",
                    "roughly", "only", "solution", "solutions", "value", "values", "result",
                    "get", "we", "which", "gives", "then", "hence", "respectively",
                    "just", "pct", "percentage", "percent"}
_UNIT_VOCAB = {
    "mm", "cm", "km", "m", "meter", "meters", "metre", "metres", "centimeter", "centimeters",
    "millimeter", "millimeters", "kilometer", "kilometers", "inch", "inches", "in", "feet",
    "foot", "ft", "yard", "yards", "yd", "mile", "miles", "mi", "mph", "kg", "g", "gram",
    "grams", "kilogram", "kilograms", "pound", "pounds", "lb", "lbs", "ounce", "ounces", "oz",
    "ton", "tons", "liter", "liters", "litre", "litres", "l", "ml", "gallon", "gallons", "cup",
    "cups", "second", "seconds", "sec", "s", "minute", "minutes", "min", "mins", "hour",
    "hours", "hr", "hrs", "h", "day", "days", "week", "weeks", "month", "months", "year",
    "years", "dollar", "dollars", "cent", "cents", "euro", "euros", "rupee", "rupees", "yuan",
    "usd", "eur", "gbp", "degree", "degrees", "deg", "radian", "radians", "rad", "percent",
    "people", "person", "persons", "student", "students", "apple", "apples", "marble",
    "marbles", "cookie", "cookies", "piece", "pieces", "point", "points", "ways", "way",
    "times", "items", "item", "books", "book", "pages", "page", "boxes", "box", "bags", "bag",
    "cars", "car", "eggs", "egg", "children", "kids", "friends", "tickets", "ticket",
    "hundredths", "tenths", "bottles", "cakes", "pies", "slices", "trees", "flowers", "cards",
    "candies", "balls", "stickers", "chairs", "rows", "groups", "teams", "players", "games",
    "animals", "dogs", "cats", "birds", "fish", "chickens", "cows", "sheep", "legs", "wheels",
    "dozen", "sides", "edges", "vertices", "faces", "diagonals", "triangles",
    "numbers", "integers", "digits", "primes", "divisors", "factors", "terms", "steps",
    "moves", "squares", "hexagon", "regular", "midpoints", "form", "odd", "even", "positive",
    "negative", "integer", "real", "no", "none", "infinity", "infinite", "undefined",
}
# Words that change the meaning of the number next to them: never a courtesy unit.
_SCALING_WORDS = {"thousand", "thousands", "million", "millions", "billion", "billions",
                  "trillion", "hundred", "hundreds", "dozen", "dozens", "half", "halves",
                  "twice", "double", "triple", "quarter", "k", "not", "wrong",
                  "incorrect", "false", "no", "never", "except", "minus", "negative", "less",
                  "more", "than", "plus", "over", "under"}
_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_STANDALONE_WORD_RE = re.compile(r"(?<![\S])(?:[a-z]{2,}|[A-Z][a-z]{2,})(?=[\s.,;:!?]|$)")
_LATEX_CMD_RE = re.compile(r"\\[A-Za-z]+")
_TEXT_ARG_RE = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mbox|operatorname|"
                          r"textnormal|mathbf|mathit)\s*\{([^{}]*)\}")
_ASSIGN_RE = re.compile(r"^\s*([A-Za-z](?:_\{?[\w]+\}?)?|\\[A-Za-z]+(?:_\{?\w+\}?)?)\s*=\s*"
                        r"(?!=)")
_CHOICE_TOKEN_RE = re.compile(r"(?<![A-Za-z\\])\(?([A-J])\)?(?![A-Za-z])")
# "not A", "it can't be A or B", "it doesn't make sense for it to be A or B", "non A", "不是 A":
# letters ruled out (a short stretch without "answer"/"so" may sit between the two).
_NEGATED_CHOICE_RE = re.compile(
    r"(?:\bnot|n't|\bnon|\bnicht|\bno\s+es|不是|非)"
    r"(?:(?:(?!answer|so\b|therefore|thus|hence)[^.\n。]){0,40}?\s)?"
    r"(?:\(?[A-J]\)?(?![A-Za-z])(?:\s*(?:,|or|nor|and|ou|o|et|y|或|和)\s*)?)+")


def hedge_in_text(text: str) -> str | None:
    """The hedge phrase in the text around the final answer, if any."""
    m = _HEDGE_RE.search(text)
    return m.group(0) if m else None


def taint_in_answer(answer: str) -> str | None:
    """Why an extracted answer can never be credited as stated, or ``None``.

    A question mark (``4?``), a marked look-alike character, negation or disjunction commands
    (``\\not 4``, ``3 \\lor 4``), or a hedge phrase inside the answer itself.
    """
    if POISON in answer:
        return "the answer contains a combining mark that changes a character"
    if _TRAILING_DOTS_RE.search(answer) and "," not in answer:
        return "the answer trails off (3...): a truncated value is not the value"
    if _QUESTION_RE.search(_TEXT_ARG_RE.sub(r"\1", answer)):
        return "the answer is a question"
    m = _NEGATION_CMD_RE.search(answer)
    if m:
        return f"the answer contains {m.group(0)!r} (negated, struck out, hidden or disjunction)"
    hedge = hedge_in_text(_TEXT_ARG_RE.sub(r" \1 ", answer))
    if hedge:
        return f"the answer hedges ({hedge!r})"
    return None


def _words(text: str) -> list[str]:
    """Prose words: those inside ``\\text{}``, and lowercase or capitalised words standing
    alone (not ``orW`` glued to a formula, not labels such as ``APC``)."""
    out = [w.lower() for arg in _TEXT_ARG_RE.findall(text) for w in _WORD_RE.findall(arg)]
    rest = _LATEX_CMD_RE.sub(" ", _TEXT_ARG_RE.sub(" ", text))
    out += [w.lower() for w in _STANDALONE_WORD_RE.findall(rest)]
    return out


def stray_words(answer: str, reference: str, *, scaling_only: bool = False) -> list[str]:
    """Words in the answer that are neither units, connectors nor words of the reference.

    With ``scaling_only`` (an answer read from a sentence, where prose is expected), only words
    that negate or scale a number count.
    """
    ref_words = set(_words(reference))
    out = []
    for word in _words(answer):
        if word in ref_words:
            continue
        if word in _SCALING_WORDS or (not scaling_only and word not in _UNIT_VOCAB
                                      and word not in _CONNECTOR_WORDS):
            out.append(word)
    return out


def assigned_variable(answer: str) -> str | None:
    """The variable an equation answer names on its left (``y = 3`` -> ``y``), else ``None``."""
    m = _ASSIGN_RE.match(answer)
    if not m:
        return None
    name = re.sub(r"[{}\s]", "", m.group(1))
    if name in ("\\text", "\\mathrm", "\\frac", "\\sqrt"):
        return None
    return name


def choice_letters(answer: str) -> list[str]:
    """Distinct choice letters an answer offers, ignoring letters it explicitly rules out."""
    kept = _NEGATED_CHOICE_RE.sub(" ", answer)
    kept = _TEXT_ARG_RE.sub(r" \1 ", kept)
    letters: list[str] = []
    for letter in _CHOICE_TOKEN_RE.findall(kept):
        if letter not in letters:
            letters.append(letter)
    return letters


_LATEX_SEPARATOR_RE = re.compile(r"\\(?:q?quad|lor|vee)\b|\\text\s*\{\s*(?:and|or|,)\s*\}")
_WORD_SEPARATOR_RE = re.compile(r" (?:and|or|und|et|y|o|ou) ")
_GLUED_OR_RE = re.compile(r"(?:or|and)(?=\s*[(\[])")
_EDGE_SPACING_RE = re.compile(r"^(?:\s|\\[ ,;:!]|\\q?quad|~)+|(?:\s|\\[ ,;:!]|\\q?quad|~)+$")


_CHOICE_ALTERNATIVES_RE = re.compile(
    r"(?<![A-Za-z\\])\(?[A-J]\)?\s*(?:,|or|/|&|and|\|)\s*\(?[A-J]\)?(?![A-Za-z])"
    r"|\([A-J]\)\s*\([A-J]\)")


def offers_several_choices(text: str) -> bool:
    """``B or C``, ``(A) (B) (C)``, ``A, B``: several choice letters offered together (letters
    the text rules out, as in "it can't be A or B", do not count)."""
    kept = _NEGATED_CHOICE_RE.sub(" ", _TEXT_ARG_RE.sub(r" \1 ", text))
    return _CHOICE_ALTERNATIVES_RE.search(kept) is not None and len(choice_letters(kept)) > 1


def _top_level_splits(text: str) -> list[str]:
    """Split on separators outside brackets: ``,`` ``;`` ``\\quad`` ``and`` ``or`` ``\\lor``."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if text.startswith(("\\{", "\\[", "\\("), i):
                depth += 1
                i += 2
                continue
            if text.startswith(("\\}", "\\]", "\\)"), i):
                depth -= 1
                i += 2
                continue
            m = _LATEX_SEPARATOR_RE.match(text, i)
            if m and depth == 0:
                parts.append(text[start:i])
                i = m.end()
                start = i
                continue
            m = re.match(r"\\[A-Za-z]+", text[i:])
            i += m.end() if m else 2
            continue
        if depth == 0 and ch in "oa" and i > 0 and text[i - 1] in ")]}" and (
                m := _GLUED_OR_RE.match(text, i)):
            parts.append(text[start:i])  # (11,7)or(7,11)
            i = m.end()
            start = i
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0 and ch in ",;":
            # 1,000 is a thousands separator, not a list
            if ch == "," and re.match(r"\d{3}(?!\d)", text[i + 1:i + 5]) and re.search(
                    r"(?:^|[^\d.])\d{1,3}(?:,\d{3})*$", text[start:i]):
                i += 1
                continue
            parts.append(text[start:i])
            start = i + 1
        elif depth == 0 and ch == " ":
            word = _WORD_SEPARATOR_RE.match(text, i)
            if word:
                parts.append(text[start:i])
                i = word.end()
                start = i
                continue
        i += 1
    parts.append(text[start:])
    cleaned = [_EDGE_SPACING_RE.sub("", p).strip("$").strip() for p in parts]
    return [p for p in cleaned if p]


_PM_RE = re.compile(r"\\pm|±")


def expand_plus_minus(answer: str) -> list[str] | None:
    """``a \\pm b`` as its two values ``a+b`` and ``a-b`` (one top-level ``\\pm`` only)."""
    found = list(_PM_RE.finditer(answer))
    if len(found) != 1 or "," in answer or "=" in answer or "\\frac" in answer[:found[0].start()]:
        return None
    head, tail = answer[:found[0].start()].strip(), answer[found[0].end():].strip()
    if not tail or head.count("{") != head.count("}") or head.count("(") != head.count(")"):
        return None
    return [f"{head}+{tail}" if head else tail, f"{head}-{tail}" if head else f"-{tail}"]


def split_parts(answer: str) -> list[str]:
    """The parts of a multi-part answer (a list or an unordered set), or ``[answer]``.

    Tuples, intervals, matrices and function arguments are never split (they are one
    ordered object); ``\\{...\\}`` and ``{...}`` sets are unwrapped first.
    """
    s = re.sub(r",\s*\\!\s*", ",", answer.strip().rstrip(".").strip())  # 32,\! 349
    for left, right in (("\\{", "\\}"), ("\\left\\{", "\\right\\}"), ("{", "}")):
        if s.startswith(left) and s.endswith(right):
            inner = s[len(left):len(s) - len(right)]
            if _balanced(inner):
                s = inner.strip()
                break
    if len(s) > 20_000:
        return [answer]  # the cost guards decide what to do with it
    parts = _top_level_splits(s)
    if len(parts) <= 1:
        return expand_plus_minus(answer) or [answer]
    return parts  # callers treat more than MAX_PARTS parts as a list too long to be an answer


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0
