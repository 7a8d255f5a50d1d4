"""Scored rows: one response with its prompt, group and outcome, read from JSONL.

Two input shapes are read:

* one JSONL file whose records carry the response, the prompt and a score (``status`` too,
  when it came from rewardlab), e.g. rollouts logged by a trainer;
* an input JSONL plus rewardlab's own output of ``rewardlab score`` on it (``scores``): the two
  are zipped line by line (``score`` writes exactly one row per non-blank input line, in order),
  and ids are checked when both sides have them.

A row whose outcome is not ``ok`` (or whose score is missing or not finite) is never used to
build data: it is counted, by reason, and dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rewardlab.errors import RewardlabError
from rewardlab.jsonl import BadLine, read_jsonl
from rewardlab.records import get_path
from rewardlab.types import Status

FIELDS = ("prompt", "response", "score", "status", "group", "id", "gate")
"""Row fields that ``fields`` may map to paths in the input records."""

_DEFAULT_PATHS = {"prompt": "prompt", "response": "response", "score": "score",
                  "status": "status", "group": "group", "id": "id", "gate": "gate"}


class DataInputError(RewardlabError, ValueError):
    """The input files cannot be read as scored rows at all (a clear message says why)."""


class ScoredRow(NamedTuple):
    """One scored response, as the data builders see it.

    ``prompt`` is text or a list of chat messages; ``key`` is the group key (the ``group``
    field when present, else the prompt), serialized so that equal prompts group together.
    ``gate`` is the value of the optional gate field (``None`` when absent). A named tuple,
    because millions of them are built, pickled to spill files and read back.
    """

    key: str
    prompt: Any
    response: str
    score: float
    id: Any = None
    gate: Any = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Dropped:
    """A line that cannot take part, with the reason it is counted under."""

    reason: str
    line: int


def group_key(prompt: Any, group: Any) -> str:
    """The key rows are grouped by: the explicit group when given, else the prompt itself."""
    if group is not None:
        return "g:" + (group if isinstance(group, str) else json.dumps(group, sort_keys=True))
    if isinstance(prompt, str):
        return "p:" + prompt
    return "p:" + json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def _valid_prompt(prompt: Any) -> bool:
    if isinstance(prompt, str):
        return True
    return isinstance(prompt, list) and all(
        isinstance(m, Mapping) and "role" in m and isinstance(m.get("content"), str)
        for m in prompt)


def _accessor(path: str | None) -> Callable[[Mapping[str, Any]], Any]:
    """A getter for ``path``; plain keys skip the dotted-path walk (the common, hot case)."""
    if path is None:
        return lambda record: None
    if "." not in path:
        return lambda record: record.get(path)
    return lambda record: get_path(record, path, None)


class RowReader:
    """Turns input records (and, optionally, their rewardlab outcome rows) into rows.

    Args:
        fields: Row field -> dotted path in the input records (defaults: the field's name).
    """

    def __init__(self, fields: Mapping[str, str] | None = None) -> None:
        paths = {**_DEFAULT_PATHS, **(fields or {})}
        self._get = {name: _accessor(paths.get(name)) for name in FIELDS}

    def __call__(self, record: Any, line: int,
                 outcome: Mapping[str, Any] | None = None) -> ScoredRow | Dropped:
        if not isinstance(record, Mapping):
            return Dropped("not_an_object", line)
        get = self._get
        response = get["response"](record)
        if not isinstance(response, str):
            return Dropped("missing_response", line)
        prompt = get["prompt"](record)
        if prompt is None:
            prompt = ""
        if not _valid_prompt(prompt):
            return Dropped("bad_prompt", line)
        if outcome is not None:
            status, score = outcome.get("status"), outcome.get("score")
        else:
            status, score = get["status"](record), get["score"](record)
        if status is not None and status != Status.OK:
            return Dropped(f"status:{status}", line)
        if isinstance(score, bool):
            score = float(score)
        if not isinstance(score, int | float) or not math.isfinite(score):
            return Dropped("no_score", line)
        row_id = get["id"](record)
        if outcome is not None and row_id is None:
            row_id = outcome.get("id")
        return ScoredRow(key=group_key(prompt, get["group"](record)), prompt=prompt,
                         response=response, score=float(score), id=row_id,
                         gate=get["gate"](record), line=line)


def row_from_record(record: Any, line: int, fields: Mapping[str, str] | None = None,
                    outcome: Mapping[str, Any] | None = None) -> ScoredRow | Dropped:
    """Turn one input record (and, optionally, its rewardlab outcome row) into a row."""
    return RowReader(fields)(record, line, outcome)


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or a ``Dropped``) for each non-blank line."""
    for number, value in read_jsonl(path, errors="replace"):
        yield number, Dropped("invalid_json", number) if isinstance(value, BadLine) else value


def read_rows(source: str | Path, fields: Mapping[str, str] | None = None,
              scores: str | Path | None = None) -> Iterator[ScoredRow | Dropped]:
    """Stream rows from ``source`` (and rewardlab's output ``scores`` for it, if given).

    Raises:
        DataInputError: a file is missing, or ``scores`` does not line up with ``source``
            (different lengths or ids), which would silently pair responses with the wrong
            scores.
    """
    source = Path(source)
    fields = dict(fields or {})
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise DataInputError(f"unknown row field(s) {sorted(unknown)}; fields: {', '.join(FIELDS)}")
    if not source.is_file():
        raise DataInputError(f"input file not found: {source}")
    reader = RowReader(fields)
    if scores is None:
        for number, record in _json_lines(source):
            yield record if isinstance(record, Dropped) else reader(record, number)
        return
    scores = Path(scores)
    if not scores.is_file():
        raise DataInputError(f"scores file not found: {scores}")
    inputs, outputs = _json_lines(source), _json_lines(scores)
    for index, pair in enumerate(_zip_strict(inputs, outputs, source, scores), start=1):
        (number, record), (_, outcome) = pair
        if isinstance(record, Dropped):
            yield record
            continue
        if not isinstance(outcome, Mapping):
            raise DataInputError(f"{scores}: row {index} is not a rewardlab output row")
        record_id = get_path(record, fields.get("id", "id"), None) \
            if isinstance(record, Mapping) else None
        if record_id is not None and outcome.get("id") is not None \
                and record_id != outcome.get("id"):
            raise DataInputError(
                f"{scores} does not belong to {source}: row {index} has id "
                f"{outcome.get('id')!r}, the input line {number} has id {record_id!r}")
        yield reader(record, number, outcome)


def _zip_strict(inputs: Iterator[Any], outputs: Iterator[Any], source: Path,
                scores: Path) -> Iterator[tuple[Any, Any]]:
    sentinel = object()
    while True:
        a, b = next(inputs, sentinel), next(outputs, sentinel)
        if a is sentinel and b is sentinel:
            return
        if a is sentinel or b is sentinel:
            raise DataInputError(
                f"{scores} and {source} have different numbers of rows: the scores must be "
                f"rewardlab's output for exactly this input (a finished `rewardlab score` run)")
        yield a, b
