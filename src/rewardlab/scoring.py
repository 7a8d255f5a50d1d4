"""Streaming scoring of JSONL files: bounded memory, ordered output, resumable, with a summary."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from rewardlab.errors import RewardlabError
from rewardlab.jsonl import BadLine, parse_json_line
from rewardlab.records import RecordError, get_path, sample_from_record
from rewardlab.reward import Reward
from rewardlab.runlog import ResumableOutput, dumps
from rewardlab.runrecord import InputFingerprint, RunIdentity, RunRecord
from rewardlab.types import Outcome, Sample, Status


class OutputExists(RewardlabError, ValueError):
    """A fresh run would overwrite an output that already holds rows."""


@dataclass
class Summary:
    """What a scoring run produced: counts per status, mean score over ``ok`` rows, time."""

    counts: Counter[str] = field(default_factory=Counter)
    score_sum: float = 0.0
    seconds: float = 0.0
    resumed_from: int = 0

    def add(self, status: str, score: float | None) -> None:
        self.counts[status] += 1
        if status == Status.OK and score is not None:
            self.score_sum += score

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def mean_score(self) -> float | None:
        ok = self.counts.get(Status.OK, 0)
        return self.score_sum / ok if ok else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "counts": {s.value: self.counts.get(s.value, 0) for s in Status},
            "mean_score": self.mean_score,
            "seconds": round(self.seconds, 3),
            "resumed_from": self.resumed_from,
        }

    def render(self) -> str:
        counts = "  ".join(f"{s.value}: {self.counts[s.value]}" for s in Status
                           if self.counts.get(s.value))
        mean = "n/a" if self.mean_score is None else f"{self.mean_score:.4f}"
        scored_now = self.total - self.resumed_from
        rate = scored_now / self.seconds if self.seconds > 0 else 0.0
        lines = [f"scored {self.total} samples ({scored_now} in this run, {self.seconds:.2f} s, "
                 f"{rate:.1f}/s)", f"  {counts or 'no rows'}", f"  mean score (ok rows): {mean}"]
        if self.resumed_from:
            lines.append(f"  resumed after {self.resumed_from} rows already written")
        return "\n".join(lines)


def output_row(outcome: Outcome, sample_id: Any = None) -> dict[str, Any]:
    """The JSON row written for one outcome (``id`` first when the input had one)."""
    row: dict[str, Any] = {} if sample_id is None else {"id": sample_id}
    row.update(outcome.to_dict())
    return row


def _parse_line(line_no: int, line: str, fields: Mapping[str, str]) -> Sample | Outcome:
    """One input line -> a sample, or an ``error`` outcome naming the line (never raises)."""

    def fail(why: str) -> Outcome:
        return Outcome.fail(Status.ERROR, f"line {line_no}: {why}"[:1000], line=line_no)

    record = parse_json_line(line, line_no)
    if isinstance(record, BadLine):
        return fail("invalid input: nested too deeply to read" if record.kind == "too_deep"
                    else record.describe())
    try:
        return sample_from_record(record, fields)
    except RecordError as exc:
        return fail(str(exc))
    except RecursionError:
        return fail("invalid record: nested too deeply to use")
    except (TypeError, ValueError) as exc:
        return fail(f"invalid record: {exc}")


def _record_id(line: str, fields: Mapping[str, str]) -> Any:
    # Best effort, for malformed lines: echo the id when the line is JSON with a simple one.
    record = parse_json_line(line)
    value = get_path(record, fields.get("id", "id"), None) if isinstance(record, dict) else None
    return value if isinstance(value, str | int | float | bool) else None


_Parsed = tuple[int, str, Sample | Outcome]
# A chunk and the fingerprint of the input up to its last line (rows count, digest).
_Mark = tuple[int, str]


async def _score_chunk(reward: Reward, chunk: list[_Parsed],
                       fields: Mapping[str, str]) -> list[dict[str, Any]]:
    samples = [item for _, _, item in chunk if isinstance(item, Sample)]
    scored = iter(await reward.ascore(samples))
    rows = []
    for _, line, item in chunk:
        if isinstance(item, Sample):
            rows.append(output_row(next(scored), item.id))
        else:
            rows.append(output_row(item, _record_id(line, fields)))
    return rows


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as fh:
            return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None


def _is_blank(line: str) -> bool:
    # JSON's own whitespace only: a line holding anything else is a row (maybe an error row).
    return not line.strip(" \t\r\n")


def _open_input(path: Path) -> IO[str]:
    # Lines end at "\n" only: a bare CR inside a record is JSON whitespace, not a line break.
    return path.open(encoding="utf-8", errors="replace", newline="\n")


def _numbered_lines(fh: IO[str]) -> Iterator[tuple[int, str]]:
    return ((n, line) for n, line in enumerate(fh, start=1) if not _is_blank(line))


def _skip(lines: Iterator[tuple[int, str]], count: int, fingerprint: InputFingerprint) -> None:
    for _, line in itertools.islice(lines, count):
        fingerprint.add(line)


def _group_of(item: Sample | Outcome) -> Any:
    return item.group if isinstance(item, Sample) else None


def _chunks(lines: Iterator[tuple[int, str]], fields: Mapping[str, str], batch_size: int,
            max_chunk: int, fingerprint: InputFingerprint
            ) -> Iterator[tuple[list[_Parsed], _Mark]]:
    """Batches of parsed lines that keep consecutive rows of one group together.

    Group-level rewards (GRPO-style normalization) need a whole group in one call, so a batch
    that reaches ``batch_size`` is extended while the next row continues the last row's group,
    up to ``max_chunk`` rows.
    """
    chunk: list[_Parsed] = []
    for n, line in lines:
        item = _parse_line(n, line, fields)
        if len(chunk) >= batch_size:
            last_group = _group_of(chunk[-1][2])
            same_group = last_group is not None and _group_of(item) == last_group
            if not same_group or len(chunk) >= max_chunk:
                yield chunk, (fingerprint.count, fingerprint.digest())
                chunk = []
        chunk.append((n, line, item))
        fingerprint.add(line)
    if chunk:
        yield chunk, (fingerprint.count, fingerprint.digest())


async def score_jsonl_async(
    reward: Reward,
    source: str | Path,
    output: str | Path | None,
    *,
    fields: Mapping[str, str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    spec: Any = None,
    batch_size: int = 64,
    max_batches_in_flight: int = 8,
    progress: bool = True,
) -> Summary:
    """Score a JSONL file line by line into a JSONL output (``None``: stdout).

    Memory stays bounded (at most ``batch_size * max_batches_in_flight`` rows in flight, more
    only to keep a group of consecutive rows with the same ``group`` in one batch, up to 4096
    rows); rows come out in input order; blank lines are skipped; a malformed line becomes an
    ``error`` row naming its line number (no input line can stop the run).

    With an ``output`` file, what the run is (input, ``spec``, version: see
    :mod:`rewardlab.runrecord`) is recorded beside it. With ``resume``, rows already in
    ``output`` are checked and kept (a torn or corrupted tail is cut off and redone, with a note
    on stderr) and the run continues after them; without it a non-empty ``output`` is only
    replaced when ``overwrite`` is set.

    Raises:
        OutputExists: a fresh run would replace rows without ``overwrite``.
        rewardlab.runrecord.RunMismatch: resuming an output of another input, spec or version.
        rewardlab.runlog.OutputCorrupted: resuming an output with a bad row before good ones.
    """
    fields = dict(fields or {})
    summary = Summary()
    started = time.perf_counter()
    source = Path(source)
    out, record = _open_output(reward, source, output, resume=resume, overwrite=overwrite,
                               spec=spec)
    if out is not None:
        for row in out.existing_rows():
            summary.add(row.get("status", "error"), row.get("score"))
        summary.resumed_from = out.done

    def emit(rows: list[dict[str, Any]], mark: _Mark) -> None:
        if out is not None:
            if record is not None:
                record.commit(*mark)  # before the rows: the record always covers the output
            out.write(rows)
        else:
            sys.stdout.write("".join(dumps(r) + "\n" for r in rows))
            sys.stdout.flush()
        for row in rows:
            summary.add(row["status"], row["score"])
        bar.update(len(rows))

    total = _count_lines(source) if source.is_file() else None
    bar = tqdm(total=total, initial=summary.resumed_from, unit="sample", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, desc="scoring")
    in_flight: deque[tuple[asyncio.Task[list[dict[str, Any]]], _Mark]] = deque()
    try:
        with _open_input(source) as fh:
            lines = _numbered_lines(fh)
            fingerprint = InputFingerprint()
            _skip(lines, summary.resumed_from, fingerprint)
            for chunk, mark in _chunks(lines, fields, batch_size, max(batch_size, 4096),
                                       fingerprint):
                task = asyncio.create_task(_score_chunk(reward, chunk, fields))
                in_flight.append((task, mark))
                while len(in_flight) >= max_batches_in_flight:
                    task, mark = in_flight.popleft()
                    emit(await task, mark)
            while in_flight:
                task, mark = in_flight.popleft()
                emit(await task, mark)
    finally:
        for task, _ in in_flight:
            task.cancel()
        bar.close()
        if out is not None:
            out.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _open_output(reward: Reward, source: Path, output: str | Path | None, *, resume: bool,
                 overwrite: bool, spec: Any) -> tuple[ResumableOutput | None, RunRecord | None]:
    """The output file (checked, repaired or refused) and its run record."""
    if output is None:
        if resume:
            raise ValueError("--resume needs an output file (-o)")
        return None, None
    output = Path(output)
    record = RunRecord(output, RunIdentity.of(source, spec if spec is not None
                                              else reward.describe()))
    if not resume:
        if not overwrite and output.exists() and output.stat().st_size > 0:
            raise OutputExists(f"{output} already holds rows; pass --resume to continue that "
                               "run or --overwrite to replace it")
        record.remove()
        return ResumableOutput(output), record
    out = ResumableOutput(output, resume=True, row_check=_output_row_problem)
    try:
        with _open_input(source) as fh:
            record.verify(out.done, (line for _, line in _numbered_lines(fh)))
    except BaseException:
        out.close()
        raise
    for note in out.notes:
        print(f"rewardlab: {note}", file=sys.stderr, flush=True)
    return out, record


_STATUSES = frozenset(s.value for s in Status)


def _output_row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    if row.get("status") not in _STATUSES:
        return "no valid 'status'"
    return None
