"""Unicode folding for math answers, applied before extraction (pure text, linear time).

Look-alike characters are a cheap way for a policy to make a wrong answer read as a right one
(a zero-width space that splits ``42`` into ``4`` and ``2``, a combining slash that turns ``4``
into "not 4", a superscript that a lax reader drops). Every change is named so that the reward
can record it in ``details["unicode"]``:

- ``superscripts``/``subscripts``: ``2⁴`` -> ``2^{4}``, ``x₁`` -> ``x_{1}`` (before NFKC, which
  would fold ``2⁴`` into ``24``);
- ``vulgar_fractions``: ``3½`` -> ``3\\frac{1}{2}``;
- ``nfkc``: compatibility forms (full-width digits, non-breaking spaces, ligatures);
- ``digits``: decimal digits of any script (Arabic-Indic, Devanagari, ...) -> ASCII;
- ``separators``: the Arabic decimal and thousands separators, the fraction slash, minus signs;
- ``zero_width``: zero-width and invisible formatting characters removed;
- ``combining_marks``: combining marks on letters removed (accents); a combining mark on a
  digit or a symbol changes what it means (``4̸`` reads "not 4"), so it becomes the visible
  marker :data:`POISON` and the answer containing it is never credited.
"""

from __future__ import annotations

import re
import unicodedata

POISON = "\u29f8"  # BIG SOLIDUS: stands for a mark that changed the character it sat on
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", "0123456789+-=()ni")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", "0123456789+-=()")
_SUPER_RE = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ]+")
_SUB_RE = re.compile("[₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎]+")
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5),
           "⅖": (2, 5), "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8),
           "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8), "⅐": (1, 7), "⅑": (1, 9), "⅒": (1, 10)}
_VULGAR_RE = re.compile("[" + "".join(_VULGAR) + "]")
# Zero-width and invisible formatting characters (category Cf), plus the soft hyphen.
_ZERO_WIDTH_RE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                            "\u2066-\u206f\ufeff]")
_SEPARATORS = str.maketrans({"\u066b": ".", "\u066c": ",", "\u2044": "/", "\u2215": "/",
                             "\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-",
                             "\uff0d": "-", "\u00b7": "\\cdot "})


def _fold_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c
                   for c in text)


def _mark_combining(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
            base = out[-1] if out else ""
            if base.isalpha() and base != POISON:
                continue  # an accent on a letter: prose, drop it
            if base != POISON:
                out.append(POISON)
            continue
        out.append(ch)
    return "".join(out)


def normalize_unicode(text: str) -> tuple[str, list[str]]:
    """Fold look-alike characters to ASCII math; return the text and the changes applied."""
    if text.isascii():
        return text, []
    applied: list[str] = []

    def step(name: str, new: str) -> None:
        nonlocal text
        if new != text:
            applied.append(name)
            text = new

    step("zero_width", _ZERO_WIDTH_RE.sub("", text))
    step("superscripts", _SUPER_RE.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPTS)
                                       + "}", text))
    step("subscripts", _SUB_RE.sub(lambda m: "_{" + m.group(0).translate(_SUBSCRIPTS) + "}",
                                   text))
    step("vulgar_fractions", _VULGAR_RE.sub(
        lambda m: "\\frac{{{}}}{{{}}}".format(*_VULGAR[m.group(0)]), text))
    # Compose first so that accents become single letters, then mark what is left.
    step("nfkc", unicodedata.normalize("NFKC", text))
    step("combining_marks", _mark_combining(text))
    step("separators", text.translate(_SEPARATORS))
    step("digits", _fold_digits(text))
    return text, applied
