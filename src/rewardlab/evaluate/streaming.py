"""Streaming, resumable evaluation runs.

A run directory holds ``samples.jsonl`` (one row per item, in input order, appended and flushed
batch by batch through :class:`~rewardlab.runlog.ResumableOutput`), ``summary.json`` and
``report.html``. After a crash or ``kill -9`` the same command with ``resume=True`` keeps the
complete rows, skips those items, and finishes with identical results.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.pairwise import Comparator, is_comparator, judge_pairs
from rewardlab.evaluate.results import item_row
from rewardlab.reward import Reward
from rewardlab.runlog import ResumableOutput
from rewardlab.types import Outcome


async def score_items(reward: Reward | Comparator, items: Sequence[EvalItem],
                      responses: Sequence[Sequence[str]] | None = None) -> list[list[Outcome]]:
    """Score every response of every item in one call; outcomes regrouped per item.

    A scalar reward scores all responses in one batch. A pairwise judge (see
    :mod:`rewardlab.evaluate.pairwise`) compares the two responses of each item; its verdict
    ``p`` becomes the outcomes ``[p, 1 - p]``.

    Args:
        reward: Any reward, or a pairwise judge.
        items: The items.
        responses: Replacement responses per item (probes), defaults to the items' own.
    """
    per_item = [item.samples(None if responses is None else responses[k])
                for k, item in enumerate(items)]
    if is_comparator(reward):
        bad = [it.id for it, s in zip(items, per_item, strict=True) if len(s) != 2]
        if bad:
            raise ValueError(f"a pairwise judge compares two responses; items {bad[:3]} have "
                             "more (evaluate it on pairwise data)")
        return await judge_pairs(reward, [(s[0], s[1]) for s in per_item])
    outcomes = await reward.ascore([s for group in per_item for s in group])
    grouped, start = [], 0
    for group in per_item:
        grouped.append(outcomes[start:start + len(group)])
        start += len(group)
    return grouped


def _batches(items: Iterator[EvalItem], max_samples: int) -> Iterator[list[EvalItem]]:
    batch: list[EvalItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += len(item.responses)
        if size >= max_samples:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def run_items(reward: Reward | Comparator, items: Iterable[EvalItem], output: str | Path, *,
              resume: bool = False, batch_size: int = 32, total: int | None = None,
              progress: bool = True, max_batches_in_flight: int = 4) -> list[dict[str, Any]]:
    """Score items into ``output`` (JSONL, one row per item) and return all rows.

    Args:
        reward: The reward under evaluation.
        items: The items, in a deterministic order (resume skips the first rows already saved).
        output: The per-item JSONL file.
        resume: Keep complete rows already in ``output`` and continue after them.
        batch_size: Responses per reward call (items are never split across calls).
        total: Number of items, for the progress bar.
        progress: Show a progress bar on stderr.
        max_batches_in_flight: Reward calls running concurrently (rows are still written in
            order).
    """
    from rewardlab.reward import run_sync

    return run_sync(_run_items(reward, items, output, resume=resume, batch_size=batch_size,
                               total=total, progress=progress,
                               max_batches_in_flight=max_batches_in_flight))


async def _run_items(reward: Reward | Comparator, items: Iterable[EvalItem],
                     output: str | Path, *,
                     resume: bool, batch_size: int, total: int | None, progress: bool,
                     max_batches_in_flight: int) -> list[dict[str, Any]]:
    out = ResumableOutput(output, resume=resume)
    for note in out.notes:  # a torn or corrupted tail was cut off: say so
        print(f"rewardlab: {note}", file=sys.stderr, flush=True)
    rows = list(out.existing_rows())
    remaining = iter(items)
    done = list(itertools.islice(remaining, len(rows)))
    if [it.id for it in done] != [r.get("id") for r in rows]:
        out.close()
        raise RuntimeError(f"{output} holds rows for other items (different data, order or "
                           "limit?); run again without resume")
    bar = tqdm(total=total, initial=len(rows), unit="item", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, desc=f"eval {_describe(reward)}")

    async def score(batch: list[EvalItem]) -> list[dict[str, Any]]:
        grouped = await score_items(reward, batch)
        return [item_row(item, outcomes) for item, outcomes in zip(batch, grouped, strict=True)]

    in_flight: list[asyncio.Task[list[dict[str, Any]]]] = []
    try:
        for batch in _batches(remaining, max(1, batch_size)):
            in_flight.append(asyncio.create_task(score(batch)))
            while len(in_flight) >= max_batches_in_flight:
                done = await in_flight.pop(0)
                out.write(done)
                rows.extend(done)
                bar.update(len(done))
        while in_flight:
            done = await in_flight.pop(0)
            out.write(done)
            rows.extend(done)
            bar.update(len(done))
    finally:
        for task in in_flight:
            task.cancel()
        bar.close()
        out.close()
    return rows


def _describe(reward: object) -> str:
    describe = getattr(reward, "describe", None)
    return describe() if callable(describe) else type(reward).__name__


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically (a temp file renamed over the target)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def elapsed(started: float) -> float:
    """Seconds since ``started`` (``time.perf_counter``), rounded for summaries."""
    return round(time.perf_counter() - started, 3)
