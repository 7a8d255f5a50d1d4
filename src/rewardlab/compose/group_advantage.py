"""``group_advantage``: group advantages as a reward, so a spec can ask for them.

The outcome's score is the sample's advantage inside its rollout group (``Sample.group``;
samples without a group id form one group). Failed outcomes keep their failure status and are
excluded from every group statistic. Counts of groups, singleton groups, zero-variance groups and
exclusions of the last batch are in :attr:`GroupAdvantage.last_counts` and in each outcome's
``details["advantage_counts"]``.

Trainers that normalize by themselves (TRL, verl's GRPO estimator, OpenRLHF ``group_norm``) should
receive the *rewards*, not advantages: the integrations unwrap a ``group_advantage`` spec into its
rewards and translate the method into the trainer's own settings (see
:func:`rewardlab.integrations.common.split_advantage_spec`).
"""

from __future__ import annotations

import math
from typing import Literal

from rewardlab.compose.advantage_math import (
    Advantages,
    Convention,
    Scale,
    gdpo_advantages,
    group_advantages,
    pairwise_win_rates,
    tournament_scores,
)
from rewardlab.compose.children import (
    component_details,
    name_children,
    resolve_weights,
    score_children,
)
from rewardlab.compose.combinators import Children, Weights
from rewardlab.compose.trainer_conventions import fits_float32
from rewardlab.compose.transforms import sigmoid
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.spec import RewardRef
from rewardlab.types import Outcome, Sample, Status

AdvantageMethod = Literal["grpo", "dr_grpo", "rloo", "opo", "gdpo", "pairwise", "tournament"]

OTHER_RESPONSE_KEY = "baseline"
"""Metadata key under which a pairwise ``comparator`` reward finds the competing response (the
key ``judge_pairwise`` reads, so that judge works as a comparator as is)."""


@register("group_advantage")
class GroupAdvantage(Reward):
    """Advantages of each sample within its group, from one or several rewards.

    With several rewards, ``gdpo`` normalizes each within its group before combining; every
    other method first takes the weighted sum (``sum_then_normalize``). ``pairwise`` (Pref-GRPO
    win rates) and ``tournament`` (ArenaRL) compare responses with ``comparator``: a reward that
    scores ``Sample(response=A, metadata={"baseline": B, ...})`` with the probability that A
    beats B (``judge_pairwise`` does exactly that); without one, the probability is
    ``sigmoid(r_A - r_B)`` from the summed rewards (Bradley-Terry). Their win rates are then
    centred per group (``dr_grpo``).

    Args:
        rewards: The rewards, as a list or ``{name: reward}``.
        weights: Per-reward weights (list or by name).
        method: ``grpo``, ``dr_grpo``, ``rloo``, ``opo``, ``gdpo``, ``pairwise`` or
            ``tournament``.
        convention: Whose arithmetic: ``rewardlab`` (float64, failures excluded), ``verl``,
            ``trl`` or ``openrlhf`` (each trainer's own computation, see
            :mod:`rewardlab.compose.advantage_math`).
        scale: ``group``, ``batch`` or ``none`` (``grpo`` only).
        eps: Override the convention's epsilon.
        failure_score: What a failed sample scores under ``verl`` and ``openrlhf`` (what the
            adapters send those trainers).
        length_key: Metadata key with the response's token count, used by ``opo`` and by verl's
            ``gdpo`` (per-token whitening); without it the length is the character count.
        comparator: Pairwise reward for ``pairwise``/``tournament``.
        seed: Tournament bracket seed.
    """

    def __init__(
        self,
        rewards: Children,
        weights: Weights = None,
        method: AdvantageMethod = "grpo",
        convention: Convention = "rewardlab",
        scale: Scale = "group",
        eps: float | None = None,
        comparator: RewardRef | None = None,
        seed: int = 0,
        failure_score: float = 0.0,
        length_key: str = "num_tokens",
    ) -> None:
        self.children = name_children(rewards)
        self.weights = resolve_weights(list(self.children), weights)
        self.method, self.convention, self.scale = method, convention, scale
        self.eps, self.comparator, self.seed = eps, comparator, seed
        self.failure_score, self.length_key = float(failure_score), length_key
        from rewardlab.compose.advantage_math import _check

        _check(method if method in ("grpo", "dr_grpo", "rloo", "opo", "gdpo") else "dr_grpo",
               convention, scale)
        self.last_counts: dict[str, int] = {}

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        per_child = await score_children(self.children, samples)
        groups = [s.group for s in samples]
        failures: list[Outcome | None] = []
        summed: list[float | None] = []
        for i in range(len(samples)):
            bad = next((r[i] for r in per_child.values() if not r[i].is_ok), None)
            failures.append(bad)
            try:
                total = None if bad else math.fsum(self.weights[k] * r[i].score
                                                   for k, r in per_child.items())
            except OverflowError:
                total = math.inf
            if total is not None and not math.isfinite(total):
                failures[i], total = Outcome.fail(Status.ERROR, "the weighted sum of the "
                                                  "rewards overflowed"), None
            elif total is not None and self.convention != "rewardlab" and \
                    not fits_float32(total):
                failures[i], total = Outcome.fail(
                    Status.ERROR, f"reward {total} does not fit the trainer's float32"), None
            summed.append(total)
        adv = await self._advantages(samples, per_child, summed, groups)
        self.last_counts = adv.counts()
        outcomes = []
        for i, value in enumerate(adv.values):
            details = component_details({k: r[i] for k, r in per_child.items()})
            if failures[i] is not None:
                f = failures[i]
                # the trainer still trains on a number for it (verl/openrlhf: failure_score)
                outcomes.append(Outcome.fail(f.status, f.reason, **details,
                                             trainer_advantage=value))
            elif value is None:
                why = adv.failures.get(i, "no advantage could be computed")
                outcomes.append(Outcome.fail(Status.ERROR, why[:500], **details))
            else:
                outcomes.append(Outcome.ok(value, **details, reward=summed[i],
                                           advantage_counts=self.last_counts))
        return outcomes

    def _lengths(self, samples: list[Sample]) -> list[int]:
        out = []
        for s in samples:
            given = s.metadata.get(self.length_key)
            ok = isinstance(given, int) and not isinstance(given, bool) and given > 0
            out.append(given if ok else max(1, len(s.response)))
        return out

    async def _advantages(self, samples, per_child, summed, groups) -> Advantages:
        if self.method == "gdpo":
            return gdpo_advantages(per_child, groups, self.weights, self.convention, self.eps,
                                   lengths=self._lengths(samples) if self.convention == "verl"
                                   else None, failure_score=self.failure_score)
        if self.method in ("pairwise", "tournament"):
            compare = self._comparator(samples, summed)
            excluded = [s is None for s in summed]
            if self.method == "pairwise":
                rates = await pairwise_win_rates(groups, compare, excluded)
            else:
                rates = await tournament_scores(groups, compare, self.seed, excluded)
            centred = group_advantages(rates.values, groups, "dr_grpo", self.convention)
            centred.extra.update(rates.extra)
            return centred
        lengths = self._lengths(samples) if self.method == "opo" else None
        return group_advantages(summed, groups, self.method, self.convention,  # type: ignore
                                self.scale, self.eps, lengths, self.failure_score)

    def _comparator(self, samples: list[Sample], summed: list[float | None]):
        if self.comparator is None:
            async def by_scores(i: int, j: int) -> float:
                return sigmoid(summed[i] - summed[j])  # type: ignore[operator]
            return by_scores
        comparator = self.comparator

        async def by_reward(i: int, j: int) -> float:
            a, b = samples[i], samples[j]
            probe = Sample(response=a.response, prompt=a.prompt, reference=a.reference,
                           metadata={**a.metadata, OTHER_RESPONSE_KEY: b.response},
                           group=a.group, id=a.id)
            outcome = (await comparator.ascore([probe]))[0]
            return outcome.score if outcome.is_ok else 0.5  # an undecided match is a tie
        return by_reward

    def close(self) -> None:
        for child in self.children.values():
            child.close()
        if self.comparator is not None:
            self.comparator.close()
