"""The answer part of a response: reasoning blocks cut away.

For each tag name (``think``, ``thinking``, ``reasoning`` by default; case-insensitive):

* ``<tag>...</tag>`` is removed;
* an opening ``<tag>`` that is never closed removes everything after it (an unfinished
  thought is not an answer);
* a closing ``</tag>`` with no opening tag removes everything before it (chat templates such
  as Qwen3's and DeepSeek-R1's put the opening tag in the prompt).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

REASONING_TAGS: tuple[str, ...] = ("think", "thinking", "reasoning")


def _strip_blocks(text: str, opening: re.Pattern[str], closing: re.Pattern[str]) -> str:
    first_close, first_open = closing.search(text), opening.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        text = text[first_close.end():]
    kept, pos = [], 0
    # One pass, each search starting where the last ended: linear in the text even when a
    # response holds thousands of tags.
    while True:
        start = opening.search(text, pos)
        if start is None:
            kept.append(text[pos:])
            break
        kept.append(text[pos:start.start()])
        end = closing.search(text, start.end())
        if end is None:
            break
        kept.append(" ")
        pos = end.end()
    return "".join(kept)


def answer_part(response: str, tags: Sequence[str] = REASONING_TAGS) -> str:
    """The response without its reasoning blocks (see the module docstring for the rule)."""
    text = response
    for tag in tags:
        name = re.escape(tag)
        # Attributes are bounded so a run of unterminated "<think " costs linear time.
        opening = re.compile(rf"<{name}(?:\s[^<>]{{0,200}})?>", re.IGNORECASE)
        closing = re.compile(rf"</{name}\s*>", re.IGNORECASE)
        text = _strip_blocks(text, opening, closing)
    return text
