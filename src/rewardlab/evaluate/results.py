"""Per-item results: what a reward's scores on one :class:`EvalItem` mean for the benchmark.

Each item becomes one JSON row (written to the run's ``samples.jsonl``); every aggregate in the
summary is computed from these rows alone, so a resumed run reports exactly what an
uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.metrics import (
    best_of_n_result,
    correct_pair_accuracy,
    pairwise_win,
    rmbench_matrix,
)
from rewardlab.types import Outcome


def decision(scores: Sequence[float | None]) -> int:
    """The response a reward prefers: the index of the unique top score, -1 on a tie at the top
    or when nothing was scored."""
    scored = [(s, i) for i, s in enumerate(scores) if s is not None]
    if not scored:
        return -1
    top = max(s for s, _ in scored)
    winners = [i for s, i in scored if s == top]
    return winners[0] if len(winners) == 1 else -1


def three_way(scores: Sequence[float | None]) -> int:
    """Pairwise decision in annotator terms: 1 first better, 2 second better, 0 tie."""
    d = decision(scores)
    return 0 if d < 0 else d + 1


def item_result(item: EvalItem, scores: Sequence[float | None]) -> dict[str, Any]:
    """The benchmark's verdict on one item given one score per response.

    Returns a dict with ``result`` (the item's credit in [0, 1]) and kind-specific fields:
    ``margin`` (pairwise), ``matrix`` (RM-Bench), ``pair_accuracy`` (graded), ``prediction``
    (annotated).
    """
    out: dict[str, Any] = {"decision": decision(scores)}
    if item.kind == "pairwise":
        p = item.preferred
        chosen, rejected = scores[p], scores[1 - p]
        out["result"] = pairwise_win(chosen, rejected)
        out["margin"] = None if chosen is None or rejected is None else chosen - rejected
    elif item.kind == "annotated":
        prediction = three_way(scores)
        gold = 0 if not any(item.labels) else item.preferred + 1
        out["prediction"] = prediction
        out["result"] = float(prediction == gold)
        out["margin"] = (None if scores[0] is None or scores[1] is None
                         else scores[0] - scores[1])
    elif item.kind == "rmbench":
        matrix = rmbench_matrix(scores)
        out["matrix"] = matrix.tolist()
        out["result"] = float(matrix.mean())
    elif item.kind == "best_of_n":
        rule = str(item.metadata.get("tie_rule", "rewardbench2"))
        out["result"] = best_of_n_result(scores, item.labels, rule)
        out["num_correct"] = int(sum(item.labels))
    elif item.kind == "instructions":  # verified constraints: the score is the credit
        ok = [s for s in scores if s is not None]
        out["result"] = float(sum(ok) / len(scores)) if ok else 0.0
    else:  # graded
        out["result"] = best_of_n_result(scores, item.labels, "rewardbench2")
        out["pair_accuracy"] = correct_pair_accuracy(scores, item.labels)
        out["oracle"] = float(any(item.labels))
        out["mean_correct"] = sum(item.labels) / len(item.labels)
    return out


def item_row(item: EvalItem, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The JSON row saved for one scored item."""
    scores = [o.score for o in outcomes]
    row: dict[str, Any] = {"id": item.id, "subset": item.subset, "kind": item.kind,
                           "labels": list(item.labels), "scores": scores,
                           "statuses": [o.status.value for o in outcomes]}
    failures = {i: o.reason for i, o in enumerate(outcomes) if not o.is_ok}
    if failures:
        row["failures"] = {str(i): r[:300] for i, r in failures.items()}
    if item.votes is not None:
        row["votes"] = list(item.votes)
    if "tie_rule" in item.metadata:
        row["tie_rule"] = item.metadata["tie_rule"]
    row["lengths"] = [len(r) for r in item.responses]
    row.update(item_result(item, scores))
    if item.kind == "instructions":
        from rewardlab.evaluate.ifeval_formats import instruction_row_fields

        row.update(instruction_row_fields(item, outcomes))
    return row
