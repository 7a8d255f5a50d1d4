"""Best-of-N evaluation from stored outputs: how often each selector picks a correct response.

Qwen2.5-Math evaluation output (N sampled responses per problem, each with its extracted answer,
correctness and optionally a stored reward-model score) is read once, by
:func:`rewardlab.evaluate.loaders.qwen_math_item`, and becomes :class:`CandidateGroup` items here;
the selectors themselves (best-of-N, majority vote, reward-weighted vote) live in
:mod:`rewardlab.search.best_of_n`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab.search.best_of_n import argmax_index, softmax_weights, vote_index
from rewardlab.types import Sample


@dataclass(frozen=True)
class CandidateGroup:
    """N sampled responses to one prompt, with what is known about them.

    Args:
        prompt: The prompt (question).
        reference: The gold answer.
        responses: The N responses.
        answers: The answer extracted from each response.
        correct: Whether each response is correct (the data set's own judgement).
        scores: A stored reward-model score per response, if any.
    """

    prompt: str
    reference: Any
    responses: list[str]
    answers: list[str | None]
    correct: list[bool]
    scores: list[float] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def samples(self) -> list[Sample]:
        """The responses as Samples carrying the prompt, the reference and, when stored, the
        reward-model score in ``metadata["stored_score"]`` (read by the ``stored_score``
        reward, so stored scores select through the same :func:`best_of_n` as live rewards)."""
        return [
            Sample(
                response=r, prompt=self.prompt, reference=self.reference,
                metadata={} if self.scores is None else {"stored_score": self.scores[i]},
            )
            for i, r in enumerate(self.responses)
        ]


def qwen_math_bon_groups(records: Iterable[Mapping[str, Any]] | str | Path) -> list[CandidateGroup]:
    """Candidate groups from Qwen2.5-Math evaluation output (``math_cot.jsonl``-style records).

    Fields used: ``question``, ``gt``, ``code`` (responses), ``pred`` (extracted answers),
    ``score`` (correctness flags) and ``pred_score`` (reward-model scores, optional). The format
    is read by :func:`rewardlab.evaluate.loaders.qwen_math_item` (its one reader); a file goes
    through evaluate's record reader, so a line that is not JSON names its line number.

    Raises:
        ValueError: a record (or line) is malformed; the message names it.
    """
    # Imported here: search/ is loaded by the registry's discovery, evaluate/ is not needed
    # for selecting.
    from rewardlab.evaluate.loaders import DataError, qwen_math_item, read_records

    if isinstance(records, str | Path):
        if not Path(records).is_file():  # not a hub name: this reads local evaluation output
            raise FileNotFoundError(f"no such file: {records}")
        rows: Iterable[Any] = (record for _, record in read_records(records))
    else:
        rows = records
    groups = []
    for n, rec in enumerate(rows):
        if isinstance(rec, DataError):
            raise rec
        try:
            item = qwen_math_item(rec, f"qwen_math-{n}")
            answers = item.metadata["answers"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"record {rec.get('idx', n)}: missing or bad field ({exc})") from None
        groups.append(
            CandidateGroup(
                prompt=str(rec.get("question", "")),
                reference=item.reference,
                responses=list(item.responses),
                answers=list(answers),
                correct=[bool(label) for label in item.labels],
                scores=None if item.stored_scores is None else list(item.stored_scores),
                metadata={"idx": rec.get("idx", n), "level": rec.get("level")},
            )
        )
    return groups


def selection_accuracy(groups: Sequence[CandidateGroup], choices: Sequence[int | None]) -> float:
    """Fraction of groups whose chosen candidate is correct (no choice counts as wrong)."""
    if len(groups) != len(choices):
        raise ValueError(f"{len(groups)} groups but {len(choices)} choices")
    if not groups:
        raise ValueError("no groups")
    return sum(c is not None and g.correct[c] for g, c in zip(groups, choices, strict=True)) / len(
        groups
    )


def bon_report(groups: Sequence[CandidateGroup]) -> dict[str, float]:
    """Accuracies of the standard selectors over groups, from stored answers and scores.

    Keys: ``oracle`` (any candidate correct, pass@N), ``first`` (the first sample),
    ``majority``, and when scores are stored ``rm_best`` (best-of-N by score, RM@N) and
    ``rm_weighted`` (reward-weighted self-consistency with ``softmax(score)`` weights).
    """
    report = {
        "n_groups": float(len(groups)),
        "oracle": sum(any(g.correct) for g in groups) / len(groups),
        "first": selection_accuracy(groups, [0] * len(groups)),
        "majority": selection_accuracy(groups, [vote_index(g.answers) for g in groups]),
    }
    if all(g.scores is not None for g in groups):
        report["rm_best"] = selection_accuracy(groups, [argmax_index(g.scores) for g in groups])  # type: ignore[arg-type]
        report["rm_weighted"] = selection_accuracy(
            groups, [vote_index(g.answers, softmax_weights(g.scores)) for g in groups]  # type: ignore[arg-type]
        )
    return report
