"""Group rows by prompt with bounded memory and an order that does not depend on the input's.

Rollout files are often grouped already, but not always (several runs concatenated, shuffled
logs), and they can be larger than memory. Rows are therefore spread over spill files by a
stable hash of their group key; each spill file is then read back alone, its groups formed
and sorted. Memory holds one spill file at a time. The groups come out ordered by (hash bucket,
key), and the rows inside a group by (score descending, response, line), so the output is the
same whatever order the input rows came in.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from rewardlab.data.rows import ScoredRow

VIRTUAL_BUCKETS = 4096
"""Hash buckets of the output order; spill files hold ranges of them."""

_SPILL_BUFFERED_ROWS = 1 << 16
"""Rows buffered across all spill files before they are written (bounds that memory too)."""

DEFAULT_SPILL_BYTES = 64 << 20
"""Target size of one spill file: the most row data held in memory at once (roughly)."""


@functools.lru_cache(maxsize=1 << 16)
def bucket_of(key: str) -> int:
    """A stable bucket for a group key (not Python's salted ``hash``)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % VIRTUAL_BUCKETS


def row_order(row: ScoredRow) -> tuple[float, str, int]:
    """Best first; equal scores by response text, then by input line."""
    return (-row.score, row.response, row.line)


def _sorted_groups(rows: Iterable[ScoredRow]) -> Iterator[tuple[str, list[ScoredRow]]]:
    groups: dict[str, list[ScoredRow]] = defaultdict(list)
    for row in rows:
        groups[row.key].append(row)
    for key in sorted(groups, key=lambda k: (bucket_of(k), k)):
        yield key, sorted(groups[key], key=row_order)


def spill_count(input_bytes: int, spill_bytes: int = DEFAULT_SPILL_BYTES) -> int:
    """How many spill files an input of ``input_bytes`` is spread over (1: no spilling)."""
    return max(1, min(VIRTUAL_BUCKETS, -(-input_bytes // max(1, spill_bytes))))


def grouped(rows: Iterable[ScoredRow], spills: int = 1,
            workdir: str | Path | None = None) -> Iterator[tuple[str, list[ScoredRow]]]:
    """Yield ``(key, rows)`` per group, in the input-order-independent order.

    With ``spills == 1`` everything is grouped in memory; otherwise rows go through
    ``spills`` temporary files in ``workdir`` (deleted afterwards).
    """
    if spills <= 1:
        yield from _sorted_groups(rows)
        return
    # Spill files are private temporary files of this process, so pickle (several times
    # faster than JSON here) is safe; rows are written in batches to keep calls few.
    with tempfile.TemporaryDirectory(prefix="rewardlab-data-", dir=workdir) as tmp:
        paths = [Path(tmp) / f"spill-{i:04d}.pickle" for i in range(spills)]
        handles = [p.open("wb") for p in paths]
        buffers: list[list[ScoredRow]] = [[] for _ in range(spills)]
        batch = max(8, _SPILL_BUFFERED_ROWS // spills)
        try:
            for row in rows:
                # Contiguous ranges of virtual buckets per file keep the global order intact.
                index = bucket_of(row.key) * spills // VIRTUAL_BUCKETS
                buffer = buffers[index]
                buffer.append(row)
                if len(buffer) >= batch:
                    pickle.dump(buffer, handles[index], protocol=pickle.HIGHEST_PROTOCOL)
                    buffer.clear()
            for buffer, fh in zip(buffers, handles, strict=True):
                if buffer:
                    pickle.dump(buffer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for fh in handles:
                fh.close()
        del buffers
        for path in paths:
            loaded: list[ScoredRow] = []
            with path.open("rb") as fh:
                while True:
                    try:
                        loaded.extend(pickle.load(fh))
                    except EOFError:
                        break
            os.unlink(path)
            yield from _sorted_groups(loaded)
            del loaded
