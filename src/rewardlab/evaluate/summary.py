"""Aggregate per-item rows into the run summary: accuracy with intervals, per-subset and section
scores, benchmark-specific figures, calibration, score distributions and the length baseline."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rewardlab.evaluate import metrics as m
from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.results import decision, item_result


def _group(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row["subset"])].append(row)
    return dict(sorted(groups.items()))


def _pairwise_calibration(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    margins = []
    for row in rows:
        if row["kind"] not in ("pairwise", "annotated") or row.get("margin") is None:
            continue
        labels = row["labels"]
        if not any(labels):
            continue  # a human tie has no preferred side
        # margin is stored as first-minus-second; orient it towards the preferred response
        margins.append(row["margin"] if labels[0] == 1 else -row["margin"])
    if not margins:
        return None
    x = np.asarray(margins, dtype=float)
    # Both orientations of every pair, so the outcome is not always "first wins".
    both = np.concatenate([x, -x])
    outcome = np.concatenate([np.ones_like(x), np.zeros_like(x)])
    temperature = m.fit_temperature(both, outcome)
    raw = m.expected_calibration_error(m.sigmoid(both), outcome)
    fitted = m.expected_calibration_error(m.sigmoid(both / temperature), outcome)
    return {"method": "Bradley-Terry P(first preferred) = sigmoid(score difference / T), "
                      "both orientations of each pair",
            "ece_raw": raw["ece"], "temperature": temperature, "ece": fitted["ece"],
            "bins": fitted["bins"], "bins_raw": raw["bins"], "n": fitted["n"]}


def _graded_calibration(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    scores, labels = [], []
    for row in rows:
        if row["kind"] != "graded":
            continue
        for s, y in zip(row["scores"], row["labels"], strict=True):
            if s is not None:
                scores.append(float(s))
                labels.append(int(y))
    if not scores:
        return None
    s = np.asarray(scores)
    in_unit = bool(np.all((s >= 0) & (s <= 1)))
    probs = s if in_unit else m.sigmoid(s)
    ece = m.expected_calibration_error(probs, labels)
    return {"method": "score as P(correct)" if in_unit else "P(correct) = sigmoid(score)",
            "ece": ece["ece"], "bins": ece["bins"], "n": ece["n"],
            "correlation": m.correctness_correlation(scores, labels)}


def _distributions(rows: Sequence[Mapping[str, Any]], n_bins: int = 24) -> dict[str, Any] | None:
    good, bad = [], []
    for row in rows:
        for s, y in zip(row["scores"], row["labels"], strict=True):
            if s is not None:
                (good if y else bad).append(float(s))
    values = good + bad
    if not values:
        return None
    lo, hi = np.quantile(values, [0.01, 0.99]) if len(values) > 20 else (min(values), max(values))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, n_bins + 1)

    def hist(xs: list[float]) -> list[int]:
        return np.histogram(np.clip(xs, lo, hi), bins=edges)[0].astype(int).tolist() if xs \
            else [0] * n_bins

    return {"edges": edges.tolist(), "preferred": hist(good), "other": hist(bad),
            "labels": ["preferred / correct", "rejected / incorrect"]}


def length_baseline_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How far "the longer response wins" gets on each subset, next to the reward, and how often
    the reward's choice agrees with the longest response (agreement near 1 on a subset the
    length baseline solves flags a length-biased reward)."""
    per_subset: dict[str, Any] = {}
    all_len, all_agree = [], []
    for subset, group in _group(rows).items():
        accs, agree = [], []
        for row in group:
            item = EvalItem(id=str(row["id"]), kind=row["kind"],
                            responses=tuple(" " * n for n in row["lengths"]),
                            labels=tuple(row["labels"]),
                            votes=tuple(row.get("votes") or ()) or None,
                            metadata={"tie_rule": row["tie_rule"]} if "tie_rule" in row else {})
            lengths = [float(n) for n in row["lengths"]]
            accs.append(item_result(item, lengths)["result"])
            agree.append(float(decision(lengths) == row["decision"]))
        per_subset[subset] = {"length_accuracy": float(np.mean(accs)),
                              "reward_accuracy": float(np.mean([r["result"] for r in group])),
                              "agreement_with_length": float(np.mean(agree)), "n": len(group)}
        all_len += accs
        all_agree += agree
    flagged = [s for s, v in per_subset.items()
               if v["length_accuracy"] >= v["reward_accuracy"] and v["n"] >= 5]
    return {"subsets": per_subset, "length_accuracy": float(np.mean(all_len)) if all_len else None,
            "agreement_with_length": float(np.mean(all_agree)) if all_agree else None,
            "flips": int(len(all_agree) - sum(all_agree)),
            "subsets_solved_by_length": flagged}


def summarize(rows: Sequence[Mapping[str, Any]], *, data_format: str = "auto",
              seed: int = 0) -> dict[str, Any]:
    """The summary of a run from its per-item rows (deterministic for a given ``seed``).

    Args:
        rows: Rows as written by :func:`rewardlab.evaluate.results.item_row`.
        data_format: The format the items came from (enables RewardBench sections etc.).
        seed: Bootstrap seed.
    """
    statuses: Counter[str] = Counter()
    for row in rows:
        statuses.update(row["statuses"])
    kinds = Counter(row["kind"] for row in rows)
    subsets = _group(rows)
    ok_scores = [s for row in rows for s in row["scores"] if s is not None]
    summary: dict[str, Any] = {
        "items": len(rows),
        "responses": sum(len(r["scores"]) for r in rows),
        "kinds": dict(kinds),
        "statuses": dict(statuses),
        "score_std": float(np.std(ok_scores)) if ok_scores else None,
        "accuracy": m.mean_with_ci([r["result"] for r in rows], seed=seed),
        "subsets": {name: m.mean_with_ci([r["result"] for r in group], seed=seed)
                    for name, group in subsets.items()},
    }
    if data_format == "rewardbench" or set(subsets) & set(m.REWARDBENCH_EXAMPLE_COUNTS):
        known = {k: v["mean"] for k, v in summary["subsets"].items()
                 if k in m.REWARDBENCH_EXAMPLE_COUNTS}
        summary["rewardbench"] = m.rewardbench_sections(known)
    if data_format == "rewardbench2":
        scores = {}
        for name, group in subsets.items():
            ties_ids = all(str(r["id"]).partition(":")[2].isdigit() for r in group)
            if name.lower() == "ties" and ties_ids:
                scores[name] = m.rewardbench2_ties_score(
                    [(r["id"], r["scores"], r.get("num_correct", 1)) for r in group])
            else:  # (a Ties subset without "ref:N"/"tied:N" ids falls back to best-of-N)
                scores[name] = float(np.mean([r["result"] for r in group]))
        summary["rewardbench2"] = {"subsets": scores,
                                   "Score": float(np.mean(list(scores.values())))}
    if kinds.get("rmbench"):
        rm_rows = [r for r in rows if r["kind"] == "rmbench"]
        summary["rmbench"] = m.rmbench_accuracy([np.asarray(r["matrix"]) for r in rm_rows])
        summary["rmbench"]["domains"] = {
            name: {k: v for k, v in m.rmbench_accuracy(
                [np.asarray(r["matrix"]) for r in group if r["kind"] == "rmbench"]).items()
                if k != "matrix"}
            for name, group in subsets.items()}
    if kinds.get("annotated"):
        ann = [r for r in rows if r["kind"] == "annotated"]
        summary["agreement"] = m.annotator_agreement([r["prediction"] for r in ann],
                                                     [r["votes"] for r in ann])
    if kinds.get("graded"):
        graded = [r for r in rows if r["kind"] == "graded"]
        pair = [r["pair_accuracy"] for r in graded if r["pair_accuracy"] is not None]
        summary["best_of_n"] = {
            "top1_accuracy": m.mean_with_ci([r["result"] for r in graded], seed=seed),
            "pair_accuracy": float(np.mean(pair)) if pair else None,
            "oracle_pass_at_n": float(np.mean([r["oracle"] for r in graded])),
            "random_pick": float(np.mean([r["mean_correct"] for r in graded])),
        }
    if kinds.get("instructions"):
        from rewardlab.evaluate.ifeval_formats import instruction_following_metrics

        summary["instruction_following"] = instruction_following_metrics(
            [r for r in rows if r["kind"] == "instructions"])
    calibration = _pairwise_calibration(rows) or _graded_calibration(rows)
    if calibration is not None:
        summary["calibration"] = calibration
    distributions = _distributions(rows)
    if distributions is not None:
        summary["distributions"] = distributions
    summary["length_baseline"] = length_baseline_summary(rows)
    return summary
