"""Streaming a scored JSONL file through a builder into a training-data JSONL file.

The run is deterministic (same input rows in any order, same options: same output bytes), so
``resume`` simply rebuilds and skips the rows already in the output: an interrupted run
continues without loss or duplication, as ``rewardlab score --resume`` does.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rewardlab.data.builders import (
    FilterOptions,
    PairOptions,
    RelabelOptions,
    SelectOptions,
    filter_group,
    pairs_group,
    relabel_group,
    select_group,
)
from rewardlab.data.groups import DEFAULT_SPILL_BYTES, grouped, spill_count
from rewardlab.data.rows import Dropped, ScoredRow, read_rows
from rewardlab.runlog import ResumableOutput, dumps
from rewardlab.scoring import _count_lines

Options = SelectOptions | PairOptions | FilterOptions | RelabelOptions
Builder = Callable[[str, list[ScoredRow], Any], tuple[list[dict[str, Any]], Counter[str]]]

_BUILDERS: dict[type, tuple[str, Builder]] = {
    SelectOptions: ("select", select_group),
    PairOptions: ("pairs", pairs_group),
    FilterOptions: ("filter", filter_group),
    RelabelOptions: ("relabel", relabel_group),
}


@dataclass
class DataReport:
    """What a data command read, used, wrote and dropped (with the reason for each drop)."""

    command: str
    rows_read: int = 0
    rows_used: int = 0
    groups: int = 0
    groups_with_output: int = 0
    written: int = 0
    resumed_from: int = 0
    dropped_rows: Counter[str] = field(default_factory=Counter)
    dropped_in_groups: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command, "rows_read": self.rows_read, "rows_used": self.rows_used,
            "groups": self.groups, "groups_with_output": self.groups_with_output,
            "written": self.written, "resumed_from": self.resumed_from,
            "dropped_rows": dict(sorted(self.dropped_rows.items())),
            "dropped_in_groups": dict(sorted(self.dropped_in_groups.items())),
            "seconds": round(self.seconds, 3),
        }

    def render(self) -> str:
        lines = [f"{self.command}: read {self.rows_read} rows, used {self.rows_used} in "
                 f"{self.groups} prompts; wrote {self.written} records from "
                 f"{self.groups_with_output} prompts ({self.seconds:.2f} s)"]
        if self.dropped_rows:
            lines.append("  rows not used: " + ", ".join(
                f"{reason} {n}" for reason, n in sorted(self.dropped_rows.items())))
        if self.dropped_in_groups:
            lines.append("  dropped while building: " + ", ".join(
                f"{reason} {n}" for reason, n in sorted(self.dropped_in_groups.items())))
        if self.resumed_from:
            lines.append(f"  resumed after {self.resumed_from} records already written")
        return "\n".join(lines)


def build_records(rows: Iterator[ScoredRow | Dropped], options: Options, *,
                  report: DataReport | None = None, spills: int = 1,
                  workdir: str | Path | None = None) -> Iterator[dict[str, Any]]:
    """The records a builder makes from a stream of rows (the in-memory Python API).

    ``report`` (when given) is filled in as the records are produced.
    """
    name, builder = _BUILDERS[type(options)]
    report = report if report is not None else DataReport(name)

    def usable() -> Iterator[ScoredRow]:
        for row in rows:
            report.rows_read += 1
            if isinstance(row, Dropped):
                report.dropped_rows[row.reason] += 1
            else:
                report.rows_used += 1
                yield row

    for key, group in grouped(usable(), spills=spills, workdir=workdir):
        report.groups += 1
        records, drops = builder(key, group, options)
        report.dropped_in_groups.update(drops)
        if records:
            report.groups_with_output += 1
        yield from records


def build_file(source: str | Path, output: str | Path | None, options: Options, *,
               fields: Mapping[str, str] | None = None, scores: str | Path | None = None,
               resume: bool = False, progress: bool = False,
               spill_bytes: int = DEFAULT_SPILL_BYTES,
               workdir: str | Path | None = None) -> DataReport:
    """Read ``source`` (plus rewardlab's ``scores`` for it), build, and write JSONL.

    ``output=None`` writes to stdout. Memory is bounded by ``spill_bytes`` of row data (the
    input is spread over spill files of about that size when it is larger).

    Raises:
        rewardlab.data.rows.DataInputError: unreadable or mismatched input files.
    """
    name, _ = _BUILDERS[type(options)]
    report = DataReport(name)
    started = time.perf_counter()
    source = Path(source)
    size = source.stat().st_size if source.is_file() else 0
    rows = read_rows(source, fields, scores)
    bar = tqdm(total=_count_lines(source), unit="row", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, desc=f"{name}: reading")

    def tracked() -> Iterator[ScoredRow | Dropped]:
        for row in rows:
            bar.update(1)
            yield row

    out = ResumableOutput(output, resume=resume) if output is not None else None
    skip = out.done if out is not None else 0
    report.resumed_from = skip
    try:
        batch: list[dict[str, Any]] = []
        for record in build_records(tracked(), options, report=report,
                                    spills=spill_count(size, spill_bytes), workdir=workdir):
            report.written += 1
            if report.written <= skip:
                continue
            batch.append(record)
            if len(batch) >= 1024:
                _emit(out, batch)
                batch = []
        _emit(out, batch)
    finally:
        bar.close()
        if out is not None:
            out.close()
    if skip > report.written:
        raise ValueError(f"{output} already holds {skip} records but this run builds only "
                         f"{report.written}: it was written from other input or options")
    report.seconds = time.perf_counter() - started
    return report


def _emit(out: ResumableOutput | None, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    if out is not None:
        out.write(records)
    else:
        sys.stdout.write("".join(dumps(r) + "\n" for r in records))
        sys.stdout.flush()
