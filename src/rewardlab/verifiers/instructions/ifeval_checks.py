"""The 25 instruction types of IFEval (Zhou et al., 2023), with the kwargs of Google's
``instruction_following_eval`` registry.

Each checker reproduces the official verdict rule (measured against the official verdicts in
``docs/instruction-following.md``). Where the official harness would pick a random value for a
missing kwarg, a missing kwarg here is a :class:`BadInstruction` (the reward reports
``bad_reference``): a reward must not depend on chance. Keywords, forbidden words, postscript
markers and section splitters are regular expressions as in the official checker; one that is
not a valid pattern is matched literally.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from rewardlab.verifiers.instructions import _text
from rewardlab.verifiers.instructions.constraints import Undecidable, constraint

Relation = Literal["less than", "at least"]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
NonEmpty = Annotated[str, Field(min_length=1)]


def _compare(value: int, relation: Relation, threshold: int) -> bool:
    return value < threshold if relation == "less than" else value >= threshold


def _pattern(text: str) -> str:
    """``text`` as a regular expression, or its literal form when it is not a valid one."""
    try:
        re.compile(text)
    except re.error:
        return re.escape(text)
    return text


def _ifeval(instruction_id: str, validate: Callable[[dict[str, Any]], str | None] | None = None
            ) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    return constraint(instruction_id, "ifeval", validate)


# --- keywords -------------------------------------------------------------------------------

@_ifeval("keywords:existence")
def keywords_existence(text: str, *, keywords: list[NonEmpty]) -> bool:
    """Every keyword appears (case-insensitive)."""
    return all(re.search(_pattern(k), text, flags=re.IGNORECASE) for k in keywords)


@_ifeval("keywords:frequency")
def keywords_frequency(text: str, *, keyword: NonEmpty, frequency: Count,
                       relation: Relation) -> bool:
    """The keyword appears fewer than / at least ``frequency`` times (case-insensitive)."""
    found = len(re.findall(_pattern(keyword.strip()), text, flags=re.IGNORECASE))
    return _compare(found, relation, frequency)


@_ifeval("keywords:forbidden_words")
def forbidden_words(text: str, *, forbidden_words: list[NonEmpty]) -> bool:
    """None of the words appears as a whole word (case-insensitive)."""
    return not any(re.search(r"\b" + _pattern(w) + r"\b", text, flags=re.IGNORECASE)
                   for w in forbidden_words)


@_ifeval("keywords:letter_frequency")
def letter_frequency(text: str, *, letter: Annotated[str, Field(pattern=r"^\s*\S\s*$")],
                     let_frequency: Count, let_relation: Relation) -> bool:
    """The letter occurs fewer than / at least ``let_frequency`` times (case-insensitive)."""
    counts = Counter(text.lower())
    return _compare(counts[letter.strip().lower()], let_relation, let_frequency)


# --- language and case ------------------------------------------------------------------------

def _language(text: str) -> str:
    try:
        return _text.detect_language(text)
    except _text.LanguageUndetectable as exc:
        raise Undecidable(f"no language detectable: {exc}") from None


@_ifeval("language:response_language")
def response_language(text: str, *, language: NonEmpty) -> bool:
    """The whole response is in the language (an ISO 639-1 code, as langdetect reports it)."""
    return _language(text) == language


@_ifeval("change_case:english_capital")
def english_capital(text: str) -> bool:
    """The response is English and all its cased letters are capitals."""
    return text.isupper() and _language(text) == "en"


@_ifeval("change_case:english_lowercase")
def english_lowercase(text: str) -> bool:
    """The response is English and all its cased letters are lowercase."""
    return text.islower() and _language(text) == "en"


@_ifeval("change_case:capital_word_frequency")
def capital_word_frequency(text: str, *, capital_frequency: Count,
                           capital_relation: Relation) -> bool:
    """Fewer than / at least ``capital_frequency`` all-capital words (NLTK word tokens)."""
    capitals = _text.count_capital_words(text, stop_at=capital_frequency)
    return _compare(capitals, capital_relation, capital_frequency)


# --- length -----------------------------------------------------------------------------------

@_ifeval("length_constraints:number_sentences")
def number_sentences(text: str, *, num_sentences: Count, relation: Relation) -> bool:
    """Fewer than / at least ``num_sentences`` Punkt sentences."""
    return _compare(_text.count_sentences(text), relation, num_sentences)


@_ifeval("length_constraints:number_words")
def number_words(text: str, *, num_words: Count, relation: Relation) -> bool:
    """Fewer than / at least ``num_words`` words (runs of word characters)."""
    return _compare(_text.count_words(text), relation, num_words)


_DIVIDER = re.compile(r"\s?\*\*\*\s?")


@_ifeval("length_constraints:number_paragraphs")
def number_paragraphs(text: str, *, num_paragraphs: Positive) -> bool:
    """Exactly ``num_paragraphs`` paragraphs separated by the markdown divider ``***``.

    An empty paragraph is allowed only before the first or after the last divider.
    """
    parts = _DIVIDER.split(text)
    inner = parts[1:-1]
    if any(not p.strip() for p in inner):
        return False
    found = sum(1 for p in parts if p.strip())
    return found == num_paragraphs


_FIRST_WORD_STOP = frozenset(".,?!'\"")


@_ifeval("length_constraints:nth_paragraph_first_word",
         lambda kw: "nth_paragraph must not exceed num_paragraphs"
         if kw["nth_paragraph"] > kw["num_paragraphs"] else None)
def nth_paragraph_first_word(text: str, *, num_paragraphs: Positive, nth_paragraph: Positive,
                             first_word: NonEmpty) -> bool:
    """Exactly ``num_paragraphs`` paragraphs (split on blank lines ``\\n\\n``) and paragraph
    ``nth_paragraph`` starts with ``first_word`` (case-insensitive, punctuation ignored)."""
    parts = text.split("\n\n")
    found = sum(1 for p in parts if p.strip())
    # The official rule indexes the raw split (empty pieces included) but compares the count of
    # non-empty ones; kept, because it decides which paragraph is "nth".
    if nth_paragraph > found:
        return False
    paragraph = parts[nth_paragraph - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    head = []
    for ch in word:
        if ch in _FIRST_WORD_STOP:
            break
        head.append(ch.lower())
    return found == num_paragraphs and "".join(head) == first_word.lower()


# --- detectable content -----------------------------------------------------------------------

@_ifeval("detectable_content:number_placeholders")
def number_placeholders(text: str, *, num_placeholders: Count) -> bool:
    """At least ``num_placeholders`` square-bracket placeholders such as ``[address]``."""
    return len(re.findall(r"\[.*?\]", text)) >= num_placeholders


@_ifeval("detectable_content:postscript")
def postscript(text: str, *, postscript_marker: NonEmpty) -> bool:
    """A line (after optional whitespace) starting with the postscript marker, e.g. ``P.S.``."""
    marker = postscript_marker.strip()
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + _pattern(marker.lower()) + r".*$"
    return bool(re.search(pattern, text.lower(), flags=re.MULTILINE))


# --- detectable format ------------------------------------------------------------------------

_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", re.MULTILINE)


@_ifeval("detectable_format:number_bullet_lists")
def number_bullet_lists(text: str, *, num_bullets: Count) -> bool:
    """Exactly ``num_bullets`` markdown bullet lines (``* item`` or ``- item``)."""
    return len(_STAR_BULLET.findall(text)) + len(_DASH_BULLET.findall(text)) == num_bullets


CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@_ifeval("detectable_format:constrained_response")
def constrained_response(text: str) -> bool:
    """The response contains one of IFEval's fixed answer options."""
    stripped = text.strip()
    return any(option in stripped for option in CONSTRAINED_RESPONSES)


@_ifeval("detectable_format:number_highlighted_sections")
def number_highlighted_sections(text: str, *, num_highlights: Count) -> bool:
    """At least ``num_highlights`` markdown highlights ``*like this*`` (``**bold**`` spans
    count too, as in the official checker)."""
    single = sum(1 for h in re.findall(r"\*[^\n\*]*\*", text) if h.strip("*").strip())
    double = sum(1 for h in re.findall(r"\*\*[^\n\*]*\*\*", text)
                 if h.removeprefix("**").removesuffix("**").strip())
    return single + double >= num_highlights


@_ifeval("detectable_format:multiple_sections")
def multiple_sections(text: str, *, section_spliter: NonEmpty, num_sections: Count) -> bool:
    """At least ``num_sections`` sections headed by the splitter and a number (``Section 1``)."""
    splitter = r"\s?" + _pattern(section_spliter.strip()) + r"\s?\d+\s?"
    return len(re.split(splitter, text)) - 1 >= num_sections


@_ifeval("detectable_format:json_format")
def json_format(text: str) -> bool:
    """The whole response is JSON (a surrounding markdown code fence is allowed)."""
    body = text.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        if body.startswith(fence):
            body = body[len(fence):]
            break
    body = body.removesuffix("```").strip()
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


@_ifeval("detectable_format:title")
def title(text: str) -> bool:
    """A title in double angular brackets on one line, ``<<like this>>``, with some text."""
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", text))


# --- combinations, start/end, punctuation -----------------------------------------------------

@_ifeval("combination:two_responses")
def two_responses(text: str) -> bool:
    """Exactly two different responses separated by six asterisks ``******``."""
    parts = text.split("******")
    kept = []
    for i, part in enumerate(parts):
        if part.strip():
            kept.append(part)
        elif 0 < i < len(parts) - 1:
            return False
    return len(kept) == 2 and kept[0].strip() != kept[1].strip()


@_ifeval("combination:repeat_prompt")
def repeat_prompt(text: str, *, prompt_to_repeat: NonEmpty) -> bool:
    """The response starts by repeating the request word for word (case-insensitive)."""
    return text.strip().lower().startswith(prompt_to_repeat.strip().lower())


@_ifeval("startend:end_checker")
def end_checker(text: str, *, end_phrase: NonEmpty) -> bool:
    """The response ends with the phrase (case-insensitive; a closing quote is ignored)."""
    return text.strip().strip('"').lower().endswith(end_phrase.strip().lower())


@_ifeval("startend:quotation")
def quotation(text: str) -> bool:
    """The whole response is wrapped in double quotation marks."""
    body = text.strip()
    return len(body) > 1 and body[0] == '"' and body[-1] == '"'


@_ifeval("punctuation:no_comma")
def no_comma(text: str) -> bool:
    """No ASCII comma anywhere in the response."""
    return "," not in text
