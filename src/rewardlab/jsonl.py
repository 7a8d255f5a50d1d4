"""Reading JSON Lines: one parser for every JSONL input rewardlab reads.

Each non-blank line becomes ``(line number, value)``; a line that is not JSON becomes a
:class:`BadLine` in its place instead of an exception, so every caller decides what a bad line
means for it (an ``error`` row in ``rewardlab score``, a reported item in ``evaluate``, a
dropped row in ``rewardlab data``, a skipped line when sniffing fields) and keeps the line
number. Callers open the file themselves when they need particular decoding (``errors=
"replace"``) or to sniff the first character; :func:`read_jsonl` opens it for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class BadLine:
    """A line that does not parse as JSON.

    Args:
        line: 1-based line number.
        kind: ``invalid_json``, or ``too_deep`` when the nesting exceeds Python's recursion limit.
        message: The parser's own words (empty for ``too_deep``).
    """

    line: int
    kind: Literal["invalid_json", "too_deep"]
    message: str = ""

    def describe(self) -> str:
        """``invalid JSON: <parser message>`` or ``JSON nested too deeply to read``."""
        if self.kind == "too_deep":
            return "JSON nested too deeply to read"
        return f"invalid JSON: {self.message}"


def parse_json_line(text: str, line: int = 0) -> Any | BadLine:
    """The JSON value of one line, or a :class:`BadLine` (never raises)."""
    try:
        return json.loads(text)
    except RecursionError:
        return BadLine(line, "too_deep")
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        return BadLine(line, "invalid_json", str(exc))


def iter_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, Any | BadLine]]:
    """``(line number, value or BadLine)`` for each non-blank line of ``lines``."""
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield number, parse_json_line(text, number)


def read_jsonl(path: str | Path, errors: str = "strict") -> Iterator[tuple[int, Any | BadLine]]:
    """:func:`iter_jsonl` over a UTF-8 file (``errors`` as for :func:`open`)."""
    with open(path, encoding="utf-8", errors=errors) as fh:
        yield from iter_jsonl(fh)
