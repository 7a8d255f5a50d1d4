"""Append-only JSONL outputs that survive ``kill -9`` and resume without loss or duplication.

Rows are written in input order, one complete line each, and flushed after every batch. A crash
can at worst leave a partial last line; :class:`ResumableOutput` cuts it off on resume, so the
number of complete lines is exactly the number of input rows already done. On resume every
complete line is also checked: a corrupted tail (only bad lines up to the end) is cut off and
redone, with a note saying so; a bad line followed by good rows is refused
(:class:`OutputCorrupted`), since cutting there would silently drop good work.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from rewardlab.errors import RewardlabError

RowCheck = Callable[[Any], "str | None"]


class OutputCorrupted(RewardlabError, ValueError):
    """An existing output that cannot be resumed; the message names the line and what to do."""


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats (not valid JSON) replaced by their names as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(row: Any) -> str:
    """Compact, deterministic, strictly valid JSON that always encodes as UTF-8.

    Non-serializable values become strings, NaN/Infinity become the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"`` (JSON has no such numbers), and text that UTF-8 cannot
    encode (lone surrogates) is written as ``\\uXXXX`` escapes. A row too deeply nested to
    encode is replaced by an ``error`` row saying so (with its ``id`` when it has one), so the
    output keeps one line per input row.
    """
    try:
        return _encode(row)
    except RecursionError:
        return _encode(_unwritable(row, "nested too deeply to write as JSON"))
    except (TypeError, ValueError) as exc:  # e.g. non-text keys, circular references
        return _encode(_unwritable(row, f"{type(exc).__name__}: {exc}"[:200]))


def _encode(row: Any) -> str:
    try:
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str,
                          allow_nan=False)
    except ValueError:  # NaN or Infinity somewhere (or a circular reference)
        row = _finite(row)
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str,
                          allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. "\ud800" in the input): escape them
        text = json.dumps(row, ensure_ascii=True, separators=(",", ":"), default=str,
                          allow_nan=False)
    return text


def _unwritable(row: Any, why: str) -> dict[str, Any]:
    row_id = row.get("id") if isinstance(row, dict) else None
    out: dict[str, Any] = {}
    if isinstance(row_id, str | int) and not isinstance(row_id, bool):
        out["id"] = row_id
    out.update({"score": None, "status": "error", "reason": f"the row could not be written: {why}",
                "details": {}})
    return out


def object_row(row: Any) -> str | None:
    """The default check of an existing output row: it must be a JSON object."""
    return None if isinstance(row, dict) else f"expected a JSON object, got {type(row).__name__}"


class ResumableOutput:
    """A JSONL output file that can pick up where an interrupted run stopped.

    Args:
        path: The output file.
        resume: Keep complete rows already in the file (and drop a partial last line or a
            corrupted tail); otherwise start afresh.
        row_check: On resume, says what is wrong with a parsed row (``None``: it is fine).

    Attributes:
        notes: What was repaired on resume (a partial line or a corrupted tail cut off).

    Raises:
        OutputCorrupted: on resume, a bad line is followed by good rows.
    """

    def __init__(self, path: str | Path, resume: bool = False,
                 row_check: RowCheck = object_row) -> None:
        self.path = Path(path)
        self.done = 0
        self.notes: list[str] = []
        if resume and self.path.exists():
            self._truncate_partial_line()
            self.done = self._validate(row_check)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(b"")
        self._fh: IO[str] = self.path.open("a", encoding="utf-8")

    def _truncate_partial_line(self) -> None:
        with self.path.open("rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            pos = size
            while pos > 0:
                step = min(65536, pos)
                fh.seek(pos - step)
                chunk = fh.read(step)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    pos = pos - step + newline + 1
                    break
                pos -= step
            if pos != size:
                fh.truncate(pos)
                self.notes.append(f"{self.path}: cut off a partial last line ({size - pos} "
                                  "bytes, an interrupted write); it is redone")

    def _validate(self, row_check: RowCheck) -> int:
        """Check every complete row; cut a corrupted tail, refuse corruption before good rows.

        Returns the number of good rows kept.
        """
        good = 0
        first_bad: tuple[int, int, str] | None = None  # (line number, byte offset, why)
        offset = 0
        with self.path.open("rb") as fh:
            for line_no, raw in enumerate(fh, start=1):
                why = _row_problem(raw, row_check)
                if why is None and first_bad is not None:
                    raise OutputCorrupted(
                        f"{self.path}: line {first_bad[0]} is not a valid output row "
                        f"({first_bad[2]}) but good rows follow it, so it is not an interrupted "
                        "write; remove or fix that line, or start afresh with --overwrite")
                if why is None:
                    good += 1
                elif first_bad is None:
                    first_bad = (line_no, offset, why)
                offset += len(raw)
        if first_bad is not None:
            with self.path.open("rb+") as fh:
                fh.truncate(first_bad[1])
            where = (f"line {line_no} was" if first_bad[0] == line_no
                     else f"lines {first_bad[0]}-{line_no} were")
            self.notes.append(f"{self.path}: {where} corrupted ({first_bad[2]}); cut off and "
                              "redone")
        return good

    def existing_rows(self) -> Iterator[dict[str, Any]]:
        """The complete rows already in the file (for tallies after a resume)."""
        with self.path.open(encoding="utf-8") as fh:
            for _, line in zip(range(self.done), fh, strict=False):
                yield json.loads(line)

    def write(self, rows: list[Any]) -> None:
        """Append rows and flush them to the OS (they then survive the process being killed)."""
        if rows:
            self._fh.write("".join(dumps(r) + "\n" for r in rows))
            self._fh.flush()
            self.done += len(rows)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _row_problem(raw: bytes, row_check: RowCheck) -> str | None:
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8"
    except (ValueError, RecursionError) as exc:
        return f"not JSON: {str(exc)[:80]}"
    return row_check(row)
