"""Pick one of N sampled responses: best-of-N, majority vote, reward-weighted self-consistency.

The selection rules work on plain lists (scores, extracted answers) so they apply to stored
scores as well as to live rewards; :func:`best_of_n` runs any :class:`~rewardlab.Reward` over the
candidates first. Ties always go to the earliest candidate, so results are reproducible.
Failed outcomes (no score) are never selected.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample


def argmax_index(scores: Sequence[float | None]) -> int | None:
    """Index of the highest score (the earliest on ties); ``None`` scores are skipped.

    Returns:
        The index, or ``None`` when no candidate has a score.

    Raises:
        ValueError: a score is NaN or infinite.
    """
    best: int | None = None
    for i, s in enumerate(scores):
        if s is None:
            continue
        if not math.isfinite(s):
            raise ValueError(f"score {i} is not finite: {s}")
        if best is None or s > scores[best]:  # type: ignore[operator]
            best = i
    return best


def vote_index(
    answers: Sequence[Hashable | None],
    weights: Sequence[float | None] | None = None,
) -> int | None:
    """Majority (or weighted) vote over extracted answers; returns a candidate of the winner.

    Each candidate adds its weight (1 without ``weights``) to its answer; the answer with the
    largest total wins, ties going to the answer seen first. The returned index is the first
    candidate giving the winning answer. Candidates whose answer or weight is ``None`` do not vote.

    Args:
        answers: One extracted (normalized) answer per candidate.
        weights: Optional non-negative weight per candidate (reward-weighted self-consistency).

    Raises:
        ValueError: lengths differ or a weight is negative or not finite.
    """
    if weights is not None and len(weights) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights")
    totals: dict[Hashable, float] = {}
    first: dict[Hashable, int] = {}
    for i, ans in enumerate(answers):
        w = 1.0 if weights is None else weights[i]
        if ans is None or w is None:
            continue
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"weight {i} must be finite and non-negative, got {w}")
        totals[ans] = totals.get(ans, 0.0) + w
        first.setdefault(ans, i)
    if not totals:
        return None
    winner = max(totals, key=lambda a: (totals[a], -first[a]))
    return first[winner]


def softmax_weights(scores: Sequence[float | None], temperature: float = 1.0) -> list[float | None]:
    """Turn raw reward scores (logits, possibly negative) into positive voting weights."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    finite = [s for s in scores if s is not None]
    if not finite:
        return [None] * len(scores)
    top = max(finite)
    return [None if s is None else math.exp((s - top) / temperature) for s in scores]


Method = Literal["best", "majority", "weighted"]


@dataclass
class Selection:
    """The chosen candidate and how it was chosen.

    Args:
        index: Index of the chosen candidate, ``None`` when nothing could be chosen.
        method: ``best``, ``majority`` or ``weighted``.
        outcomes: The reward's outcome for every candidate (empty for pure voting).
    """

    index: int | None
    method: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def scores(self) -> list[float | None]:
        """The candidates' scores (``None`` for failed outcomes)."""
        return [o.score for o in self.outcomes]


async def best_of_n(
    reward: Reward | None,
    candidates: Sequence[Sample],
    *,
    method: Method = "best",
    answers: Sequence[Hashable | None] | None = None,
    temperature: float = 1.0,
) -> Selection:
    """Score N candidates with a reward and select one.

    Args:
        reward: Any reward (verifier, reward model, PRM, judge). Not needed for ``majority``.
        candidates: The N responses to the same prompt.
        method: ``best`` (highest score), ``majority`` (most common answer) or ``weighted``
            (answers voted with ``softmax(score / temperature)`` weights).
        answers: Extracted answers, required for ``majority`` and ``weighted``.
        temperature: Softmax temperature for ``weighted``.
    """
    if method not in ("best", "majority", "weighted"):
        raise ValueError(f"unknown method {method!r}; use best, majority or weighted")
    if method != "best" and answers is None:
        raise ValueError(f"method {method!r} needs the candidates' extracted answers")
    if answers is not None and len(answers) != len(candidates):
        raise ValueError(f"{len(candidates)} candidates but {len(answers)} answers")
    if method == "majority":
        return Selection(vote_index(answers or []), method)
    if reward is None:
        raise ValueError(f"method {method!r} needs a reward")
    outcomes = await reward.ascore(candidates)
    scores = [o.score for o in outcomes]
    if method == "best":
        return Selection(argmax_index(scores), method, outcomes)
    return Selection(
        vote_index(answers or [], softmax_weights(scores, temperature)), method, outcomes
    )
