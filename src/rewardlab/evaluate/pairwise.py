"""Comparing two responses: the :class:`Comparator` protocol evaluation uses for pairwise verdicts.

(Named apart from the LLM judge ``rewardlab.judges.comparative.PairwiseJudge``, which
is one reward that can be adapted into a comparator here.)

A scalar reward compares two responses by scoring each one. A pairwise judge sees both at once
and says which is better, so its verdict can depend on the order it sees them in. Evaluation
treats both through :class:`Comparator`: ``compare_batch`` takes ``(first, second)`` sample
pairs (same prompt) and returns one :class:`~rewardlab.types.Outcome` per pair whose score is the
probability that the *first* response is better (1 first, 0 second, 0.5 tie).

Any object with that method is evaluated as a judge: its verdict ``p`` on an item becomes the
scores ``[p, 1 - p]`` of the two responses, so accuracy, agreement and calibration apply
unchanged, and the ``position`` probe (responses shown in the other order) measures its position
bias.

Rewards that judge ``sample.response`` against a baseline response in
``sample.metadata["baseline"]`` (the ``judge_pairwise`` LLM judge) are adapted by
:class:`BaselineJudge`; :func:`as_comparator` does it automatically for the registered names in
:data:`BASELINE_PAIRWISE_REWARDS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status


@runtime_checkable
class Comparator(Protocol):
    """Anything that judges which of two responses to the same prompt is better."""

    async def compare_batch(self, pairs: list[tuple[Sample, Sample]]) -> list[Outcome]:
        """One outcome per pair: score = P(first is better) in [0, 1]; failures keep their
        status."""
        ...


def is_comparator(obj: object) -> bool:
    """Whether ``obj`` compares pairs (a :class:`Comparator`)."""
    return callable(getattr(obj, "compare_batch", None)) and not isinstance(obj, Reward)


class RewardComparator:
    """A :class:`Comparator` made from a scalar reward: score both, prefer the higher.

    Args:
        reward: The reward.
    """

    def __init__(self, reward: Reward) -> None:
        self.reward = reward

    async def compare_batch(self, pairs: list[tuple[Sample, Sample]]) -> list[Outcome]:
        flat = [s for pair in pairs for s in pair]
        outcomes = await self.reward.ascore(flat)
        out = []
        for k in range(len(pairs)):
            a, b = outcomes[2 * k], outcomes[2 * k + 1]
            if not (a.is_ok and b.is_ok):
                bad = a if not a.is_ok else b
                out.append(Outcome.fail(bad.status, bad.reason))
                continue
            p = 1.0 if a.score > b.score else 0.0 if a.score < b.score else 0.5
            out.append(Outcome.ok(p, first=a.score, second=b.score))
        return out


BASELINE_PAIRWISE_REWARDS: frozenset[str] = frozenset({"judge_pairwise"})
"""Registered rewards that score a response against ``metadata["baseline"]``."""


class BaselineJudge:
    """A :class:`Comparator` from a reward that scores ``response`` against a baseline
    response given in ``metadata["baseline"]`` (score: P(response better than baseline)).

    Args:
        reward: The baseline-comparing reward (e.g. ``judge_pairwise``).
    """

    def __init__(self, reward: Reward) -> None:
        self.reward = reward

    async def compare_batch(self, pairs: list[tuple[Sample, Sample]]) -> list[Outcome]:
        import dataclasses

        samples = [dataclasses.replace(a, metadata={**a.metadata, "baseline": b.response})
                   for a, b in pairs]
        return await self.reward.ascore(samples)

    def describe(self) -> str:
        return self.reward.describe()

    def close(self) -> None:
        self.reward.close()


def as_comparator(obj: object) -> Comparator | None:
    """``obj`` as a pairwise judge: itself if it compares pairs, a :class:`BaselineJudge` for a
    baseline-comparing reward, ``None`` for a plain scalar reward."""
    if is_comparator(obj):
        return obj  # type: ignore[return-value]
    if isinstance(obj, Reward) and obj.name in BASELINE_PAIRWISE_REWARDS:
        return BaselineJudge(obj)
    return None


async def judge_pairs(judge: Comparator, pairs: Sequence[tuple[Sample, Sample]]
                      ) -> list[list[Outcome]]:
    """Judge pairs and express each verdict as per-response outcomes ``[p, 1 - p]``."""
    if not pairs:
        return []
    try:
        verdicts = list(await judge.compare_batch(list(pairs)))
    except Exception as exc:  # a broken judge must not end the run
        from rewardlab.errors import error_outcome

        failed = error_outcome(exc, type(judge).__name__)
        return [[failed, failed] for _ in pairs]
    if len(verdicts) != len(pairs):
        failed = Outcome.fail(Status.ERROR, f"judge returned {len(verdicts)} verdicts for "
                                            f"{len(pairs)} pairs")
        return [[failed, failed] for _ in pairs]
    out = []
    for v in verdicts:
        if not isinstance(v, Outcome):
            v = Outcome.fail(Status.ERROR, f"judge returned a {type(v).__name__}")
        if v.is_ok and not 0.0 <= v.score <= 1.0:
            v = Outcome.fail(Status.ERROR, f"judge verdict {v.score} is not a probability")
        if not v.is_ok:
            out.append([v, v])
        else:
            out.append([Outcome.ok(v.score, v.reason, **dict(v.details)),
                        Outcome.ok(1.0 - v.score, v.reason)])
    return out
