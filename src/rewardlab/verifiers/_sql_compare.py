"""Result-set comparison of the ``sql`` reward: Spider's and BIRD's execution-accuracy rules.

``spider`` (the default) follows the Spider test-suite evaluation's ``result_eq``
(``exec_eval.py`` of test-suite-sql-eval): two empty results are equal; otherwise both must
have the same number of rows and columns, and some permutation of the predicted columns must
make the rows equal, as lists when the gold query's text contains ``order by`` (anywhere,
case-insensitive: the script's own test), else as multisets (duplicates count).

``bird`` follows BIRD's ``evaluation.py``: ``set(predicted) == set(gold)``: row order,
duplicate rows and the number of rows are ignored, columns are compared in place.

Values compare with Python's ``==``, as both scripts do: ``1`` equals ``1.0``, a blob never
equals a text (``x'4142'`` is not ``'4142'`` nor ``'AB'``), no rounding. Two explicit
options loosen this, each off by default: ``round_floats`` (floats rounded to that many
decimals first) and ``fold_types`` (a text that reads as a number equals that number).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, Literal

Row = tuple[Any, ...]
COMPARE_MODES = ("spider", "bird")


def spider_orders(gold_sql: str) -> bool:
    """Spider test-suite's rule for "order matters": ``order by`` occurs in the gold text."""
    return "order by" in gold_sql.lower()


def _canonical(value: Any, round_floats: int | None, fold_types: bool) -> Any:
    if fold_types and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        value = int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if round_floats is not None and isinstance(value, float) and math.isfinite(value):
        value = round(value, round_floats)
    return value


def canonical_rows(rows: Sequence[Row], round_floats: int | None = None,
                   fold_types: bool = False) -> list[Row]:
    """Rows with the optional loosenings applied (unchanged when both are off)."""
    if round_floats is None and not fold_types:
        return [tuple(row) for row in rows]
    return [tuple(_canonical(v, round_floats, fold_types) for v in row) for row in rows]


def _unorder_row(row: Row) -> Row:
    return tuple(sorted(row, key=lambda x: str(x) + str(type(x))))


def _column_permutations(gold: Sequence[Row], predicted: Sequence[Row]) -> Iterator[Row]:
    """Column permutations ``perm`` (``predicted`` column ``perm[i]`` as gold column ``i``)
    that are possible: every value of the predicted column occurs in the gold column."""
    columns = len(gold[0])
    gold_sets = [{row[i] for row in gold} for i in range(columns)]
    pred_sets = [{row[j] for row in predicted} for j in range(columns)]
    allowed = [[j for j in range(columns) if pred_sets[j] <= gold_sets[i]]
               for i in range(columns)]

    def extend(i: int, used: set[int], chosen: list[int]) -> Iterator[Row]:
        if i == columns:
            yield tuple(chosen)
            return
        for j in allowed[i]:
            if j not in used:
                used.add(j)
                chosen.append(j)
                yield from extend(i + 1, used, chosen)
                chosen.pop()
                used.remove(j)

    return extend(0, set(), [])


def spider_equal(gold: Sequence[Row], predicted: Sequence[Row], order_matters: bool) -> bool:
    """Spider test-suite's denotation equality (column permutations allowed)."""
    if not gold and not predicted:
        return True
    if len(gold) != len(predicted) or len(gold[0]) != len(predicted[0]):
        return False
    # Necessary condition: the same rows when each row's values are sorted.
    s1, s2 = [_unorder_row(r) for r in gold], [_unorder_row(r) for r in predicted]
    if (s1 != s2) if order_matters else (set(s1) != set(s2)):
        return False
    for perm in _column_permutations(gold, predicted):
        permuted = [tuple(row[j] for j in perm) for row in predicted]
        if order_matters:
            if list(gold) == permuted:
                return True
        elif Counter(gold) == Counter(permuted):
            return True
    return False


def bird_equal(gold: Sequence[Row], predicted: Sequence[Row]) -> bool:
    """BIRD's execution match: the two results are equal as sets of rows."""
    return set(predicted) == set(gold)


def results_equal(gold: Sequence[Row], predicted: Sequence[Row], gold_sql: str,
                  compare: Literal["spider", "bird"] = "spider",
                  round_floats: int | None = None, fold_types: bool = False) -> bool:
    """Whether the predicted result matches the gold one under ``compare``'s rules."""
    g = canonical_rows(gold, round_floats, fold_types)
    p = canonical_rows(predicted, round_floats, fold_types)
    if compare == "bird":
        return bird_equal(g, p)
    if compare == "spider":
        return spider_equal(g, p, spider_orders(gold_sql))
    raise ValueError(f"compare must be one of {COMPARE_MODES}")


__all__ = ["COMPARE_MODES", "bird_equal", "canonical_rows", "results_equal", "spider_equal",
           "spider_orders"]
