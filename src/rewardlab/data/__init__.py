"""From scored rollouts to training data: selection, preference pairs, prompt filters, relabels.

    >>> from rewardlab.data import PairOptions, build_file
    >>> report = build_file("scored.jsonl", "pairs.jsonl", PairOptions(chosen_min_score=1.0))

Rows whose reward failed (any status but ``ok``) are never chosen, rejected, selected or
counted in a prompt's statistics; every command reports what it dropped and why.
"""

from rewardlab.data.builders import (
    FilterOptions,
    PairOptions,
    RelabelOptions,
    SelectOptions,
    group_stats,
    pair_record,
)
from rewardlab.data.rows import DataInputError, Dropped, ScoredRow, read_rows, row_from_record
from rewardlab.data.run import DataReport, build_file, build_records

__all__ = [
    "DataInputError",
    "DataReport",
    "Dropped",
    "FilterOptions",
    "PairOptions",
    "RelabelOptions",
    "ScoredRow",
    "SelectOptions",
    "build_file",
    "build_records",
    "group_stats",
    "pair_record",
    "read_rows",
    "row_from_record",
]
