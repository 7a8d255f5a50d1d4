"""Step-level error detection benchmarks for PRMs: PRMBench and ProcessBench.

Both give solutions as lists of steps with the erroneous steps marked:

* **PRMBench** records (``question``, ``modified_process``, ``error_steps`` 1-based,
  ``original_process``, ``classification``): every step is labelled correct or erroneous. The
  metric is step-level: F1 of the "correct" class, F1 of the "erroneous" class and their mean
  (PRMBench's PRM-Score), plus the accuracy on each class.
* **ProcessBench** records (``problem``, ``steps``, ``label`` = 0-based index of the first
  erroneous step or -1): the model must name the earliest error, or say there is none. The
  metric is the harmonic mean (F1) of the accuracy on erroneous and on fully correct solutions.

Either source becomes a list of :class:`LabelledSolution`; a PRM reward scores them
(:func:`score_solutions`) and the metrics take the step scores plus a threshold that turns a
score into a verdict, which :func:`calibrate_threshold` can choose on held-out data.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.errors import RewardlabError
from rewardlab.prm.aggregate import first_error_index
from rewardlab.reward import Reward
from rewardlab.types import Sample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledSolution:
    """A solution split into steps, each labelled correct (True) or erroneous (False).

    Args:
        question: The problem statement.
        steps: The solution's steps, in order.
        labels: One label per step.
        id: The record's identifier.
        category: The error type (PRMBench ``classification``) or ``"correct"``.
    """

    question: str
    steps: list[str]
    labels: list[bool]
    id: str = ""
    category: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.labels):
            raise ValueError(
                f"solution {self.id!r}: {len(self.steps)} steps but {len(self.labels)} labels"
            )
        if not self.steps:
            raise ValueError(f"solution {self.id!r} has no steps")

    @property
    def first_error(self) -> int:
        """0-based index of the first erroneous step, or -1 for a fully correct solution."""
        return next((i for i, ok in enumerate(self.labels) if not ok), -1)

    def to_sample(self) -> Sample:
        """A Sample whose ``metadata["steps"]`` carries the steps, so a PRM scores exactly these."""
        return Sample(
            response="\n\n".join(self.steps),
            prompt=self.question,
            metadata={"steps": list(self.steps)},
            id=self.id or None,
        )


@dataclass(frozen=True)
class MalformedRecord:
    """A benchmark record that could not be used as given, and why.

    Args:
        id: The record's identifier (``idx``/``id``, else its position).
        line: 1-based line in the file (0 when records were passed in memory).
        reason: What is wrong.
        kept: The record was still used, repaired as ``reason`` says (e.g. out-of-range error
            steps dropped while others remain); ``False``: it was skipped.
    """

    id: str
    line: int
    reason: str
    kept: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for reports."""
        return {"id": self.id, "line": self.line, "reason": self.reason, "kept": self.kept}


def _read_jsonl(
    path: str | Path, malformed: list[MalformedRecord] | None = None
) -> list[tuple[int, Any]]:
    """``(line number, parsed record)`` pairs; bad JSON raises, or is reported to
    ``malformed`` when a list is given."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                if malformed is None:
                    raise
                malformed.append(MalformedRecord(f"line {n}", n, f"invalid JSON: {exc}"))
    return rows


def _records(
    records: Iterable[Mapping[str, Any]] | str | Path, malformed: list[MalformedRecord] | None
) -> list[tuple[int, Any]]:
    if isinstance(records, str | Path):
        return _read_jsonl(records, malformed)
    return [(0, r) for r in records]


class _Skip(RewardlabError, ValueError):
    """A record that cannot be used (reported, or raised in strict mode)."""


def prmbench_solutions(
    records: Iterable[Mapping[str, Any]] | str | Path, *, include_original: bool = False,
    malformed: list[MalformedRecord] | None = None,
) -> list[LabelledSolution]:
    """Labelled solutions from PRMBench records (a JSONL path or parsed records).

    Each record's ``modified_process`` becomes a solution whose ``error_steps`` (1-based) are
    erroneous and all other steps correct. Some public records list error steps past the end
    of their process (``prm_test_p1_24``, ``prm_test_p1_47``...): out-of-range indices are
    dropped (listed in ``metadata["dropped_error_steps"]``); a record left with no error step
    is malformed. Empty steps are kept: an empty step is a step.

    Args:
        records: PRMBench records or the path of a JSONL file of them.
        include_original: Also add each record's ``original_process`` as a fully correct
            solution (category ``"correct"``), which gives ProcessBench-style negatives.
        malformed: When a list is given, malformed records (bad JSON, missing fields, no error
            step inside the process) are appended to it and skipped, and repaired ones are
            listed with ``kept=True``; otherwise the first malformed record raises.

    Raises:
        ValueError: a malformed record, when ``malformed`` is ``None``.
    """
    out: list[LabelledSolution] = []
    for n, (line, rec) in enumerate(_records(records, malformed)):
        rid = str(rec.get("idx", n)) if isinstance(rec, Mapping) else str(n)
        try:
            solution, dropped = _prmbench_solution(rec, rid)
        except _Skip as exc:
            if malformed is None:
                raise ValueError(str(exc)) from None
            malformed.append(MalformedRecord(rid, line, str(exc).split(": ", 1)[-1]))
            continue
        if dropped:
            log.info("PRMBench record %s: dropped out-of-range error steps %s", rid, dropped)
            if malformed is not None:
                malformed.append(MalformedRecord(
                    rid, line, f"error steps {dropped} past the end of its "
                    f"{len(solution.steps)} steps: dropped", kept=True))
        out.append(solution)
        if include_original and rec.get("original_process"):
            original = [str(s) for s in rec["original_process"]]
            out.append(
                LabelledSolution(
                    question=str(rec.get("original_question") or rec["question"]),
                    steps=original,
                    labels=[True] * len(original),
                    id=f"{rid}/original",
                    category="correct",
                )
            )
    return out


def _prmbench_solution(rec: Any, rid: str) -> tuple[LabelledSolution, list[int]]:
    if not isinstance(rec, Mapping):
        raise _Skip(f"PRMBench record {rid}: not a JSON object")
    try:
        steps = [str(s) for s in rec["modified_process"]]
        error_steps = [int(i) for i in rec["error_steps"]]
        question = rec.get("modified_question") or rec["question"]
    except (KeyError, TypeError, ValueError) as exc:
        raise _Skip(f"PRMBench record {rid}: missing or bad field ({exc})") from None
    if not steps:
        raise _Skip(f"PRMBench record {rid}: no steps")
    kept = {i for i in error_steps if 1 <= i <= len(steps)}
    dropped = sorted(set(error_steps) - kept)
    if not kept:
        raise _Skip(
            f"PRMBench record {rid}: no error step inside the process (error_steps "
            f"{sorted(set(error_steps))} for {len(steps)} steps)"
        )
    labels = [(i + 1) not in kept for i in range(len(steps))]
    solution = LabelledSolution(
        question=str(question),
        steps=steps,
        labels=labels,
        id=rid,
        category=str(rec.get("classification", "")),
        metadata={"dropped_error_steps": dropped} if dropped else {},
    )
    return solution, dropped


def processbench_solutions(
    records: Iterable[Mapping[str, Any]] | str | Path,
    *, malformed: list[MalformedRecord] | None = None,
) -> list[LabelledSolution]:
    """Labelled solutions from ProcessBench records (``problem``, ``steps``, ``label``).

    ``label`` is the 0-based index of the earliest erroneous step, or -1. Steps after the first
    error are unlabelled in ProcessBench; they are marked erroneous here, which only matters for
    the step-level metrics (the ProcessBench metric looks at the first error alone).

    Args:
        records: ProcessBench records or the path of a JSONL file of them.
        malformed: When a list is given, malformed records are appended to it and skipped;
            otherwise the first one raises ``ValueError``.
    """
    out = []
    for n, (line, rec) in enumerate(_records(records, malformed)):
        rid = str(rec.get("id", n)) if isinstance(rec, Mapping) else str(n)
        try:
            out.append(_processbench_solution(rec, rid))
        except _Skip as exc:
            if malformed is None:
                raise ValueError(str(exc)) from None
            malformed.append(MalformedRecord(rid, line, str(exc).split(": ", 1)[-1]))
    return out


def _processbench_solution(rec: Any, rid: str) -> LabelledSolution:
    if not isinstance(rec, Mapping):
        raise _Skip(f"ProcessBench record {rid}: not a JSON object")
    try:
        steps = [str(s) for s in rec["steps"]]
        label = int(rec["label"])
        question = str(rec["problem"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _Skip(f"ProcessBench record {rid}: missing or bad field ({exc})") from None
    if not steps:
        raise _Skip(f"ProcessBench record {rid}: no steps")
    if not -1 <= label < len(steps):
        raise _Skip(f"ProcessBench record {rid}: label {label} outside its {len(steps)} steps")
    labels = [True] * len(steps) if label == -1 else [i < label for i in range(len(steps))]
    return LabelledSolution(
        question=question,
        steps=steps,
        labels=labels,
        id=rid,
        category="correct" if label == -1 else "error",
    )


def load_solutions(
    path: str | Path, data_format: str, include_original: bool = False,
    malformed: list[MalformedRecord] | None = None,
) -> list[LabelledSolution]:
    """Labelled solutions from a ``prmbench`` or ``processbench`` JSONL file.

    Args:
        path: The JSONL file.
        data_format: ``prmbench`` or ``processbench``.
        include_original: prmbench: also each record's original (correct) process.
        malformed: Collects malformed records, which are then skipped instead of raising.

    Raises:
        ValueError: an unknown format, or (without ``malformed``) a record that cannot be read.
    """
    try:
        if data_format == "prmbench":
            return prmbench_solutions(path, include_original=include_original,
                                      malformed=malformed)
        if data_format == "processbench":
            return processbench_solutions(path, malformed=malformed)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from None
    raise ValueError(f"unknown PRM data format {data_format!r}; formats: prmbench, processbench")


def malformed_summary(malformed: Sequence[MalformedRecord]) -> dict[str, Any]:
    """Counts and the full list of malformed records, for reports."""
    return {
        "skipped": sum(not m.kept for m in malformed),
        "repaired": sum(m.kept for m in malformed),
        "records": [m.to_dict() for m in malformed],
    }


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _harmonic(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def processbench_metrics(labels: Sequence[int], predictions: Sequence[int]) -> dict[str, float]:
    """ProcessBench: accuracy on erroneous and on correct solutions, and their harmonic mean.

    A solution with an error (label >= 0) counts as right only when the predicted first error is
    exactly that step; a correct solution (label -1) only when the prediction is -1.

    Args:
        labels: Gold first-error indices (-1: no error).
        predictions: Predicted first-error indices (-1: no error).

    Returns:
        ``error_acc``, ``correct_acc``, ``f1``, ``n_error``, ``n_correct``. An accuracy is NaN
        when its class is empty (and then so is ``f1``).
    """
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    err = [(lab, p) for lab, p in zip(labels, predictions, strict=True) if lab != -1]
    cor = [p for lab, p in zip(labels, predictions, strict=True) if lab == -1]
    error_acc = sum(lab == p for lab, p in err) / len(err) if err else math.nan
    correct_acc = sum(p == -1 for p in cor) / len(cor) if cor else math.nan
    f1 = math.nan if not (err and cor) else _harmonic(error_acc, correct_acc)
    return {
        "error_acc": error_acc,
        "correct_acc": correct_acc,
        "f1": f1,
        "n_error": float(len(err)),
        "n_correct": float(len(cor)),
    }


def step_metrics(
    step_labels: Sequence[Sequence[bool]],
    step_scores: Sequence[Sequence[float]],
    threshold: float = 0.5,
) -> dict[str, float]:
    """PRMBench's step-level metrics: a step is judged correct when its score >= ``threshold``.

    Returns:
        ``f1_correct`` (F1 of the correct class), ``f1_error`` (F1 of the erroneous class),
        ``prm_score`` (their mean, PRMBench's headline), ``acc_correct`` and ``acc_error``
        (recall of each class), ``accuracy`` and the step counts.
    """
    if len(step_labels) != len(step_scores):
        raise ValueError(f"{len(step_labels)} label lists but {len(step_scores)} score lists")
    tp = fp = fn = tn = 0  # positive = "step is correct"
    for i, (labels, scores) in enumerate(zip(step_labels, step_scores, strict=True)):
        if len(labels) != len(scores):
            raise ValueError(f"solution {i}: {len(labels)} labels but {len(scores)} scores")
        for lab, score in zip(labels, scores, strict=True):
            pred = score >= threshold
            if lab and pred:
                tp += 1
            elif lab:
                fn += 1
            elif pred:
                fp += 1
            else:
                tn += 1
    f1_correct = _f1(tp, fp, fn)
    f1_error = _f1(tn, fn, fp)
    n = tp + fp + fn + tn
    return {
        "f1_correct": f1_correct,
        "f1_error": f1_error,
        "prm_score": (f1_correct + f1_error) / 2,
        "acc_correct": tp / (tp + fn) if tp + fn else math.nan,
        "acc_error": tn / (tn + fp) if tn + fp else math.nan,
        "accuracy": (tp + tn) / n if n else math.nan,
        "n_correct_steps": float(tp + fn),
        "n_error_steps": float(tn + fp),
    }


def solution_metrics(
    solutions: Sequence[LabelledSolution],
    step_scores: Sequence[Sequence[float]],
    threshold: float = 0.5,
) -> dict[str, float]:
    """Both families of metrics for scored solutions at one threshold.

    Keys: the :func:`step_metrics` keys, plus ``processbench_f1``, ``processbench_error_acc``
    and ``processbench_correct_acc`` (first error = first step scored under the threshold).
    """
    labels = [s.labels for s in solutions]
    out = step_metrics(labels, step_scores, threshold)
    pb = processbench_metrics(
        [s.first_error for s in solutions],
        [first_error_index(sc, threshold) for sc in step_scores],
    )
    out.update(
        processbench_f1=pb["f1"],
        processbench_error_acc=pb["error_acc"],
        processbench_correct_acc=pb["correct_acc"],
        threshold=threshold,
    )
    return out


Objective = Literal["prm_score", "processbench_f1", "accuracy"]


def calibrate_threshold(
    solutions: Sequence[LabelledSolution],
    step_scores: Sequence[Sequence[float]],
    objective: Objective = "prm_score",
    candidates: Sequence[float] | None = None,
) -> tuple[float, float]:
    """The threshold that maximizes ``objective`` on these (held-out) solutions.

    Candidates default to the midpoints between consecutive distinct step scores (plus one
    below the lowest and one above the highest), so the search is exact for these data. Ties go
    to the threshold closest to 0.5 for stability.

    Returns:
        ``(threshold, objective value)``.
    """
    if candidates is None:
        values = sorted({float(s) for scores in step_scores for s in scores})
        if not values:
            raise ValueError("no step scores to calibrate on")
        mids = [(a + b) / 2 for a, b in itertools.pairwise(values)]
        candidates = [values[0] - 1e-6, *mids, values[-1] + 1e-6]
    best: tuple[float, float] | None = None
    for t in candidates:
        value = solution_metrics(solutions, step_scores, t)[
            "processbench_f1" if objective == "processbench_f1" else objective
        ]
        if math.isnan(value):
            continue
        if (
            best is None
            or value > best[1] + 1e-12
            or (abs(value - best[1]) <= 1e-12 and abs(t - 0.5) < abs(best[0] - 0.5))
        ):
            best = (float(t), value)
    if best is None:
        raise ValueError(f"objective {objective!r} is undefined on these solutions")
    return best


@dataclass
class PRMEvaluation:
    """Step scores of a PRM over labelled solutions, with failures counted."""

    solutions: list[LabelledSolution]
    step_scores: list[list[float]]
    failures: list[tuple[str, str]]

    def metrics(self, threshold: float = 0.5) -> dict[str, Any]:
        """All metrics at ``threshold`` (see :func:`solution_metrics`), plus ``n_failed`` and
        the :func:`degeneracy` flags."""
        out = solution_metrics(self.solutions, self.step_scores, threshold)
        out["n_solutions"] = float(len(self.solutions))
        out["n_failed"] = float(len(self.failures))
        out.update(degeneracy(self.step_scores, threshold))
        return out


def degeneracy(step_scores: Sequence[Sequence[float]], threshold: float) -> dict[str, Any]:
    """Whether a PRM predicts one class for every step at ``threshold``.

    A PRM that calls every step correct (trained on ~90 % correct steps, it easily learns to)
    still gets a PRM-Score near 0.45 while detecting no error at all; ``degenerate`` says so
    outright. Returns ``predicted_error_share`` (share of steps scored under the threshold),
    ``degenerate`` and, when degenerate, ``degenerate_class`` (``correct`` or ``error``).
    """
    flat = [float(x) for scores in step_scores for x in scores]
    if not flat:
        return {"predicted_error_share": None, "degenerate": False}
    errors = sum(x < threshold for x in flat)
    out: dict[str, Any] = {"predicted_error_share": errors / len(flat),
                           "degenerate": errors in (0, len(flat))}
    if out["degenerate"]:
        out["degenerate_class"] = "correct" if errors == 0 else "error"
    return out


async def score_solutions(
    reward: Reward, solutions: Sequence[LabelledSolution], *, batch_size: int = 16
) -> PRMEvaluation:
    """Run a PRM reward over labelled solutions and collect its per-step scores.

    The reward must put one score per step in ``details["step_scores"]`` (every ``prm``
    backend does). Solutions it fails on, or that come back with the wrong number of step
    scores, are counted in ``failures`` (id, reason) and left out of the metrics.
    """
    from tqdm.auto import tqdm

    kept, scores, failures = [], [], []
    with tqdm(total=len(solutions), desc="PRM eval", unit="sol", leave=False) as bar:
        for start in range(0, len(solutions), batch_size):
            chunk = solutions[start : start + batch_size]
            outcomes = await reward.ascore([s.to_sample() for s in chunk])
            for sol, out in zip(chunk, outcomes, strict=True):
                step_scores = out.details.get("step_scores") if out.is_ok else None
                if step_scores is None:
                    failures.append((sol.id, out.reason or f"no step scores ({out.status})"))
                elif len(step_scores) != len(sol.steps):
                    failures.append(
                        (sol.id, f"{len(step_scores)} step scores for {len(sol.steps)} steps")
                    )
                else:
                    kept.append(sol)
                    scores.append([float(x) for x in step_scores])
            bar.update(len(chunk))
    return PRMEvaluation(kept, scores, failures)


def constant_baselines(solutions: Sequence[LabelledSolution]) -> dict[str, dict[str, Any]]:
    """Step metrics of the two constant predictors on these solutions: ``all_correct`` (every
    step correct: error-step F1 0) and ``all_error`` (every step an error: error-step recall
    1), the floors a trained PRM must clear."""
    labels = [s.labels for s in solutions]
    out = {}
    for name, value in (("all_correct", 1.0), ("all_error", 0.0)):
        m = step_metrics(labels, [[value] * len(s.steps) for s in solutions], 0.5)
        out[name] = {k: m[k] for k in ("f1_error", "f1_correct", "prm_score")}
    return out


def _json_safe(metrics: dict[str, Any]) -> dict[str, Any]:
    """NaN (a metric undefined on these data) as ``None``, which JSON can carry."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}


def evaluation_report(
    reward: Reward,
    solutions: Sequence[LabelledSolution],
    threshold: float,
    calibrate: bool,
    malformed: Sequence[MalformedRecord] | None = None,
) -> dict[str, Any]:
    """Score ``solutions`` with a PRM reward and return the metrics (and calibration).

    ``malformed`` (records the loader skipped or repaired) is counted and listed in the
    report; so is every solution the PRM failed on. With ``calibrate``, the best threshold
    for PRMBench's PRM-Score and ProcessBench's F1 on these same data is added (an optimistic
    figure). :func:`degenerate_warning` says when the PRM predicts one class for every step.
    """
    from rewardlab.reward import run_sync

    evaluation = run_sync(score_solutions(reward, solutions))
    report = _json_safe(evaluation.metrics(threshold))
    if calibrate and evaluation.step_scores:
        for objective in ("prm_score", "processbench_f1"):
            try:
                t, value = calibrate_threshold(
                    evaluation.solutions, evaluation.step_scores, objective
                )
            except ValueError:
                continue
            report[f"calibrated_{objective}"] = {"threshold": t, "value": value}
    report["failures"] = [list(f) for f in evaluation.failures]
    report["malformed_records"] = malformed_summary(malformed or [])
    return report


def degenerate_warning(report: Mapping[str, Any]) -> str | None:
    """A one-line warning when an :func:`evaluation_report` shows a degenerate PRM."""
    if not report.get("degenerate"):
        return None
    return (f"warning: degenerate PRM: every step is predicted {report['degenerate_class']} "
            f"at threshold {report['threshold']}")
