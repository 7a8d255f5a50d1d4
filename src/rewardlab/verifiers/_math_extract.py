"""Find the final answer in a free-form math response or reference (pure text, no sympy).

Everything here runs in time linear in the input: braces are matched in one pass, and the
regular expressions only look at the tail of long texts (answers sit at the end), so a 1 MB
response or 10^5 nested braces cannot stall a worker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

TAIL_CHARS = 20_000
_MAX_JOINED_BOXES = 10
"""Phrase and math-span searches only look at this many trailing characters."""

_BOX_RE = re.compile(r"\\(?:begin)?(?:boxed|fbox)\b\s*")
_MINERVA_RE = re.compile(
    r"Final Answer:\s*The final answer is\s*(.+?)\s*\.?\s*I hope it is correct", re.IGNORECASE
)
_HASHES_RE = re.compile(r"^[ \t]*####[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_ANSWER_IS_RE = re.compile(
    r"(?:final|correct)?\s*(?:answer|option|choice)\s+(?:is|would be|will be|should be)"
    r"\s*[:=]?[ \t]*(.+)",
    re.IGNORECASE,
)
_MARKDOWN_RE = re.compile(r"^[*_`\s]+|[*_`\s]+$")
_ANSWER_COLON_RE = re.compile(
    r"^[ \t>*_#]*(?:A|Answer|Final answer|Réponse|Respuesta|Antwort|Risposta|Resposta|答案|回答|"
    r"الإجابة|उत्तर)[*_]*[ \t]*[:\uff1a][ \t]*(.+)$",
    re.MULTILINE | re.IGNORECASE)
_NUMBER_RE = re.compile(
    r"(?<![A-Za-z0-9_.^{])[-\u2212]?(?:\d+\s*/\s*\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|[.,]\d+)(?![\d\u29f8])"
)
# Between two boxes: a word that replaces the earlier box with the later one (a correction),
# or a sentence break; anything else short ("and", ",", "for part (a) and", "\\) and \\( y_2 =")
# makes the boxes parts of one answer.
_SUPERSEDE_RE = re.compile(r"\b(?:then|instead|actually|wait|correction|corrected|rather|hmm|"
                           r"but|no|not|oops|recheck|re-check|double-check|verify|so)\b",
                           re.IGNORECASE)
_SENTENCE_BREAK_RE = re.compile(r"\n\s*\n|[.!?](?:\s|\*|$)(?!\s*\\boxed)")
_MAX_GAP = 60


@dataclass(frozen=True)
class Extracted:
    """An answer found in a text: the answer string and how it was found.

    Args:
        text: The answer, stripped of the surrounding phrase or box.
        source: ``boxed``, ``final_answer``, ``hashes``, ``answer_is``, ``answer_colon``,
            ``math_span``, ``last_line``, ``last_number`` or ``whole``.
    """

    text: str
    source: str
    start: int = -1
    parts: int = 1
    end: int = -1


_BRACE_TOKEN_RE = re.compile(r"\\.|[{}]", re.DOTALL)


def match_braces(text: str) -> dict[int, int]:
    """Map the index of every ``{`` to the index of its matching ``}`` (unescaped ones only).

    One pass with a stack that only visits braces and backslash escapes, so deep nesting
    costs linear time and ordinary text costs almost nothing.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_TOKEN_RE.finditer(text):
        token = m.group(0)
        if token == "{":
            stack.append(m.start())
        elif token == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


def find_boxes(text: str) -> list[tuple[int, int, str]]:
    """Every top-level ``\\boxed{...}``/``\\fbox{...}`` (or ``\\boxed 5``) as (start, end, content).

    Boxes nested inside another box are not listed separately.
    """
    if "boxed" not in text and "\\fbox" not in text:
        return []
    pairs = match_braces(text)
    boxes: list[tuple[int, int, str]] = []
    covered_until = -1
    for m in _BOX_RE.finditer(text):
        start, pos = m.start(), m.end()
        if start < covered_until:
            continue  # nested inside the previous box
        if pos < len(text) and text[pos] == "{":
            close = pairs.get(pos)
            if close is None:
                continue  # unbalanced: not an answer
            boxes.append((start, close + 1, text[pos + 1:close].strip()))
            covered_until = close + 1
        else:
            token = re.match(r"[^\s$]+", text[pos:pos + 200])
            if token:
                boxes.append((start, pos + token.end(), token.group(0)))
                covered_until = pos + token.end()
    return boxes


def final_box_group(text: str) -> tuple[list[tuple[int, int, str]], bool]:
    """The boxes that make up the final answer, and whether they form a wall.

    Walking back from the last box: a short gap with no correction word and no sentence break
    joins the earlier box to the answer (``\\boxed{1}, \\boxed{2}``, ``\\boxed{(3,3)} \\text{ for
    part (a) and } \\boxed{(1,1)}``); a correction word (``then``, ``instead``, ``wait``) or a
    sentence break ends it. More than ``_MAX_JOINED_BOXES`` joined boxes is a wall.
    """
    boxes = find_boxes(text)
    if not boxes:
        return [], False
    group = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        gap = text[box[1]:group[0][0]]
        if (len(gap) > _MAX_GAP or _SUPERSEDE_RE.search(gap)
                or _SENTENCE_BREAK_RE.search(gap.strip(" $")) or "\n" in gap.strip()):
            break
        group.insert(0, box)
        if len(group) > _MAX_JOINED_BOXES:
            return group, True
    return group, False


def last_boxed(text: str) -> str | None:
    """The content of the final answer's boxes; boxes of one answer (``\\boxed{1}, \\boxed{2}``)
    are joined with commas, because models often box each part of a multi-part answer. A wall
    of boxes is returned whole, joined, so that the caller sees every value it offers."""
    group, _wall = final_box_group(text)
    parts = [b[2] for b in group if b[2]]
    return ", ".join(parts) if parts else None


def strip_math_delimiters(answer: str) -> str:
    """Remove surrounding ``$``/``\\(``/``\\[`` delimiters and trailing sentence punctuation."""
    s = answer.strip()
    for _ in range(3):
        before = s
        for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
            if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
                s = s[len(left):len(s) - len(right)].strip()
        s = s.rstrip(" .;:,").strip()
        if s.startswith("\\boxed") or s.startswith("\\fbox"):
            boxed = last_boxed(s)
            if boxed is not None:
                s = boxed
        if s == before:
            break
    return s


def math_spans(text: str) -> Iterator[str]:
    """The contents of the math spans ``$$…$$``, ``\\[…\\]``, ``\\(…\\)`` and ``$…$`` in
    the text, left to right, without overlaps.

    A scanner rather than one regular expression: with many unclosed openers a regex retries
    the search for a closer from every opener (quadratic); here each delimiter's next position
    is remembered, so the scan stays linear.
    """
    memo: dict[str, tuple[int, int]] = {}

    def find(token: str, start: int) -> int:
        cached = memo.get(token)
        if cached is not None and start >= cached[0] and (cached[1] == -1 or cached[1] >= start):
            return cached[1]
        found = text.find(token, start)
        memo[token] = (start, found)
        return found

    i, n = 0, len(text)
    while i < n:
        openers = [p for p in (find("$", i), find("\\[", i), find("\\(", i)) if p >= 0]
        if not openers:
            return
        j = min(openers)
        if text.startswith("$$", j):
            close = find("$$", j + 2)
            if close > j + 2:
                yield text[j + 2:close]
                i = close + 2
            else:
                i = j + 2
        elif text.startswith("\\[", j) or text.startswith("\\(", j):
            close = find("\\]" if text[j + 1] == "[" else "\\)", j + 2)
            if close > j + 2 and text[j + 1] == "(" and "\n" in text[j + 2:close]:
                i = j + 2
            elif close > j + 2:
                yield text[j + 2:close]
                i = close + 2
            else:
                i = j + 1
        elif j > 0 and text[j - 1] == "\\":  # an escaped dollar sign
            i = j + 1
        else:
            close = find("$", j + 1)
            if close > j + 1 and text[close - 1] != "\\" and "\n" in text[j + 1:close]:
                i = j + 1  # inline math does not span lines (math-verify's rule too)
            elif close > j + 1 and text[close - 1] != "\\":
                yield text[j + 1:close]
                i = close + 1
            else:
                i = j + 1


def _phrase_answer(answer: str) -> str:
    """Clean the text after an "answer is" phrase: keep its math, cut trailing prose."""
    s = _MARKDOWN_RE.sub("", answer.strip())
    boxed = last_boxed(s)
    if boxed is not None:
        return boxed
    if s.startswith(("$", "\\(", "\\[")):
        first = next(math_spans(s), None)
        if first is not None:
            return first.strip()
    # Cut at the end of the sentence (a period followed by a space or end), not in "3.5".
    s = re.split(r"\.(?:\s|$)", s, maxsplit=1)[0]
    return _MARKDOWN_RE.sub("", strip_math_delimiters(s))


def last_number(text: str) -> str | None:
    """The last number written in the text (thousands separators and decimal commas kept)."""
    found = last_number_match(text)
    return found[0] if found else None


def last_number_match(text: str) -> tuple[str, int] | None:
    """The last number written in the text and where it starts."""
    tail = text[-TAIL_CHARS:]
    last = None
    for last in _NUMBER_RE.finditer(tail):  # noqa: B007 - we want the last match
        pass
    if last is None:
        return None
    return last.group(0).replace("\u2212", "-"), len(text) - len(tail) + last.start()


def extract_answer(text: str, *, number_fallback: bool = False) -> Extracted | None:
    """Find the final answer in a response, trying the usual conventions in order.

    Order: the last ``\\boxed{}``/``\\fbox{}`` (adjacent final boxes joined); Minerva's "Final
    Answer: The final answer is X. I hope it is correct."; GSM8K's ``#### X``; "the answer is
    X"; a line ``A: X`` / ``Answer: X``; the last math span (``$…$``, ``\\(…\\)``, ``\\[…\\]``);
    a last line that is plain LaTeX outside a math environment; and, when ``number_fallback``
    is set, the last number in the text. A short single-line text is its own answer.

    Args:
        text: The response (or reference solution).
        number_fallback: Fall back to the last number (for numeric references).

    Returns:
        The answer and where it came from, or ``None`` when nothing answer-like was found.
    """
    tail = text[-TAIL_CHARS:]
    offset = len(text) - len(tail)
    group, wall = final_box_group(text)
    boxes = group
    last_box_end = boxes[-1][1] - offset if boxes else -1
    for regex, source in ((_MINERVA_RE, "final_answer"), (_HASHES_RE, "hashes"),
                          (_ANSWER_IS_RE, "answer_is"), (_ANSWER_COLON_RE, "answer_colon")):
        if boxes and source in ("answer_is", "answer_colon"):
            break  # a box outranks looser phrases
        found = None
        for found in regex.finditer(tail):  # noqa: B007 - we want the last match
            pass
        if found is not None and found.start() >= last_box_end:
            # An explicit final-answer line written after the last box is the final answer.
            answer = _phrase_answer(found.group(1))
            if source == "answer_colon" and _SCRIPT_RE.search(answer):
                continue  # "答案:每份应该是 ..." is a sentence, not an answer: read on
            if answer:
                return Extracted(answer, source, offset + found.start())
    if boxes:
        contents = [b[2] for b in group if b[2]]
        return Extracted(", ".join(contents), "boxed_wall" if wall else "boxed", group[0][0],
                         len(contents), group[-1][1])
    stripped = text.strip()
    if (stripped and "\n" not in stripped and len(stripped) <= 80 and not _has_prose(stripped)
            and _is_one_formula(stripped)):
        return Extracted(strip_math_delimiters(stripped), "whole", text.find(stripped))
    span = None
    for span in math_spans(tail):  # noqa: B007 - we want the last one
        pass
    if span is not None:
        content = strip_math_delimiters(span.strip())
        if content:
            return Extracted(content, "math_span", offset + tail.rfind(span))
    last_line = stripped.rsplit("\n", 1)[-1].strip() if stripped else ""
    if last_line and "\\" in last_line and not _has_prose(last_line):
        return Extracted(strip_math_delimiters(last_line), "last_line", text.rfind(last_line))
    if number_fallback:
        found_number = last_number_match(text)
        if found_number is not None:
            number, start = found_number
            listed = _LIST_BEFORE_RE.search(text, max(0, start - 2000), start)
            if listed:  # "Numbers: 3, 4, 10, 11": the list is the answer, not its last item
                return Extracted(text[listed.start():start] + number, "number_list",
                                 listed.start(), end=start + len(number))
            return Extracted(number, "last_number", start, end=start + len(number))
    return None


_TWO_WORDS_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]+\s+[A-Za-z]+\b")


def _is_one_formula(text: str) -> bool:
    """True when the text is a formula or a bare answer, not a sentence (``It is 0.5``) or a
    sentence with embedded math (``Thus $x=2$ holds``)."""
    if _TWO_WORDS_RE.search(_COMMAND_RE.sub(" ", text)):
        return False
    if not any(d in text for d in ("$", "\\(", "\\[")):
        return True
    inner = strip_math_delimiters(text)
    return not any(d in inner for d in ("$", "\\(", "\\[", "\\)", "\\]"))


_PROSE_RE = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}\b(?:\s+[a-zA-Z]{2,}\b){2,}")


_COMMAND_RE = re.compile(r"\\[a-zA-Z]+(?:\{[a-zA-Z*]*\})?")
# Letters of scripts written as words (CJK, Arabic, Devanagari, Cyrillic, Hebrew, Thai, ...):
# text in them is prose, not a formula (Greek letters stay math).
_SCRIPT_RE = re.compile("[\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u0e00-\u0eff"
                        "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff01-\uff5e]")


def _has_prose(text: str) -> bool:
    """True when the text reads as words rather than a formula: a run of ordinary words, or
    two or more words of three letters or more outside LaTeX commands ("no idea, sorry")."""
    if _PROSE_RE.search(text) is not None or _SCRIPT_RE.search(text) is not None:
        return True
    return len(re.findall(r"[A-Za-z]{3,}", _COMMAND_RE.sub(" ", text))) >= 2


def extract_reference(reference: str) -> Extracted | None:
    """Read a reference in its native form: a GSM8K solution (``#### N`` or a final ``A: N``
    line), a MATH solution (the last box), or a bare answer (``$...$`` delimiters removed)."""
    if len(reference) <= 20_000:  # the same reference recurs across a rollout group
        return _extract_reference_cached(reference)
    return _extract_reference(reference)


@functools.lru_cache(maxsize=2048)
def _extract_reference_cached(reference: str) -> Extracted | None:
    return _extract_reference(reference)


_LIST_BEFORE_RE = re.compile(r"(?:-?\d+(?:\.\d+)?\s*(?:,|;|\bor\b|\band\b|/)\s*)+$")
_SPAN_JOINER_RE = re.compile(r"^(?:\s|,|;|\band\b|\bor\b|\.)*$")


def _only_math_spans(text: str) -> list[str] | None:
    """``$1$ and $2$ and $3$``: several math spans joined only by connectors, else ``None``."""
    if text.count("$") < 4 and text.count("\\(") < 2:
        return None
    spans = list(math_spans(text))
    if len(spans) < 2:
        return None
    rest = text
    for span in spans:
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            rest = rest.replace(f"{left}{span}{right}", " ", 1)
    if not _SPAN_JOINER_RE.match(rest):
        return None
    return [s.strip() for s in spans if s.strip()]


def _extract_reference(reference: str) -> Extracted | None:
    text = reference.strip()
    if not text:
        return None
    boxes, _wall = final_box_group(text)
    if boxes:
        # The final boxes of one answer are its parts (math-verify reads references the same
        # way): "\\(\\boxed{1}\\) and \\(\\boxed{-2}\\)" is the answer {1, -2}.
        contents: list[str] = []
        for box in boxes:
            if box[2] and box[2] not in contents:
                contents.append(box[2])
        return Extracted(", ".join(contents), "boxed", boxes[0][0], len(contents))
    spans = _only_math_spans(text)
    if spans is not None:
        return Extracted(", ".join(spans), "math_spans", 0, len(spans))
    for regex, source in ((_HASHES_RE, "hashes"), (_MINERVA_RE, "final_answer")):
        found = None
        for found in regex.finditer(text[-TAIL_CHARS:]):  # noqa: B007
            pass
        if found is not None:
            return Extracted(_phrase_answer(found.group(1)), source)
    if "\n" in text or _has_prose(text):
        return extract_answer(text, number_fallback=False)
    return Extracted(strip_math_delimiters(text), "bare")
