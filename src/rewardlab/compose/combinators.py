"""Rewards built from other rewards: weighted sum, product, minimum, ensembles, gating,
constraint-first hierarchies and HERO stratified blending.

Every combinator scores its children concurrently on the whole batch (each child's
:meth:`~rewardlab.reward.Reward.ascore`), then combines per sample. Per-component scores go into
``details["components"]``. A failed child makes the combined outcome fail with the child's status
unless ``on_failure`` says otherwise (see :data:`~rewardlab.compose.children.OnFailure`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any, Literal

from rewardlab.compose.children import (
    OnFailure,
    apply_failure_policy,
    combined_reason,
    component_details,
    name_children,
    resolve_weights,
    score_children,
)
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.spec import RewardRef
from rewardlab.types import Outcome, Sample, Status

Children = list[RewardRef] | dict[str, RewardRef]
"""Spec type of a combinator's ``rewards`` field: a list of specs or ``{component: spec}``."""
Weights = list[float] | dict[str, float] | None


class Combinator(Reward):
    """Base of per-sample combinators: score children, apply the failure policy, combine.

    Subclasses implement :meth:`combine`.

    Args:
        rewards: Child rewards, as a list or as ``{component name: reward}``.
        on_failure: ``fail`` (default), ``skip`` or ``zero``.
    """

    def __init__(self, rewards: Children, on_failure: OnFailure = "fail") -> None:
        self.children = name_children(rewards)
        if on_failure not in ("fail", "skip", "zero"):
            raise ValueError(f"on_failure must be 'fail', 'skip' or 'zero', got {on_failure!r}")
        self.on_failure = on_failure

    def combine(self, scores: dict[str, float]) -> tuple[float, dict[str, Any]]:
        """Combine the usable component scores of one sample into ``(score, extra details)``."""
        raise NotImplementedError

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        per_child = await score_children(self.children, samples)
        outcomes = []
        for i in range(len(samples)):
            parts = {key: results[i] for key, results in per_child.items()}
            scores, failure = apply_failure_policy(parts, self.on_failure)
            if failure is not None:
                outcomes.append(failure)
                continue
            try:  # one sample's math error (0 ** -1, ...) must not fail the whole batch
                value, extra = self.combine(scores)
                outcomes.append(Outcome.ok(value, combined_reason(parts),
                                           **component_details(parts), **extra))
            except (ArithmeticError, ValueError, TypeError) as exc:
                outcomes.append(Outcome.fail(Status.ERROR, f"{self.describe()}: {exc}"[:500],
                                             **component_details(parts)))
        return outcomes

    def close(self) -> None:
        for child in self.children.values():
            child.close()


@register("weighted_sum")
class WeightedSum(Combinator):
    """Sum of the children's scores, each times its weight.

    Args:
        rewards: Child rewards, as a list or as ``{component name: reward}``.
        weights: A list aligned with ``rewards`` or ``{component: weight}`` (default 1.0 each).
        normalize: Divide by the sum of the weights that were used (a weighted mean; with
            ``on_failure: skip`` only the present components count).
        on_failure: ``fail`` (default), ``skip`` or ``zero``.
    """

    def __init__(
        self,
        rewards: Children,
        weights: Weights = None,
        normalize: bool = False,
        on_failure: OnFailure = "fail",
    ) -> None:
        super().__init__(rewards, on_failure)
        self.weights = resolve_weights(list(self.children), weights)
        self.normalize = normalize
        if normalize and any(w < 0 for w in self.weights.values()):
            raise ValueError("normalize=True needs non-negative weights")

    def combine(self, scores: dict[str, float]) -> tuple[float, dict[str, Any]]:
        total = math.fsum(self.weights[k] * s for k, s in scores.items())
        if self.normalize:
            weight_sum = math.fsum(self.weights[k] for k in scores)
            total = total / weight_sum if weight_sum > 0 else 0.0
        return total, {"weights": {k: self.weights[k] for k in scores}}


@register("product")
class Product(Combinator):
    """Product of the children's scores (each raised to its weight, default 1).

    A product is an AND of soft scores in [0, 1]: any zero component zeroes the total.

    Args:
        rewards: Child rewards, as a list or as ``{component name: reward}``.
        weights: Exponents, a list aligned with ``rewards`` or ``{component: exponent}``.
        on_failure: ``fail`` (default), ``skip`` or ``zero``.
    """

    def __init__(
        self, rewards: Children, weights: Weights = None, on_failure: OnFailure = "fail"
    ) -> None:
        super().__init__(rewards, on_failure)
        self.weights = resolve_weights(list(self.children), weights)

    def combine(self, scores: dict[str, float]) -> tuple[float, dict[str, Any]]:
        value = 1.0
        for key, score in scores.items():
            exponent = self.weights[key]
            if score < 0 and exponent != int(exponent):
                raise ValueError(
                    f"component {key!r} scored {score} < 0; a fractional exponent is undefined"
                )
            value *= score**exponent
        return value, {}


@register("minimum")
class Minimum(Combinator):
    """The lowest of the children's scores (the weakest aspect decides).

    Args:
        rewards: Child rewards, as a list or as ``{component name: reward}``.
        on_failure: ``fail`` (default), ``skip`` or ``zero``.
    """

    def combine(self, scores: dict[str, float]) -> tuple[float, dict[str, Any]]:
        key = min(scores, key=scores.__getitem__)
        return scores[key], {"argmin": key}


def children_of(reward: Reward) -> Mapping[str, Reward]:
    """The named children of a combinator (empty for other rewards)."""
    return getattr(reward, "children", {})


EnsembleMethod = Literal["mean", "median", "min", "mean_minus_std"]


@register("ensemble")
class Ensemble(Combinator):
    """Aggregate several reward models that judge the same thing (an ensemble).

    ``mean_minus_std`` is the conservative (uncertainty-penalized) estimate ``mean - k * std``
    (population std over the members), which discourages responses the members disagree on.

    Args:
        rewards: The ensemble members, as a list or as ``{name: reward}``.
        method: ``mean``, ``median``, ``min`` or ``mean_minus_std``.
        k: Multiplier of the std for ``mean_minus_std``.
        on_failure: ``fail`` (default), ``skip`` (aggregate the members that answered) or
            ``zero``.
    """

    def __init__(
        self,
        rewards: Children,
        method: EnsembleMethod = "mean",
        k: float = 1.0,
        on_failure: OnFailure = "fail",
    ) -> None:
        super().__init__(rewards, on_failure)
        if method not in ("mean", "median", "min", "mean_minus_std"):
            raise ValueError(f"unknown ensemble method {method!r}")
        self.method = method
        self.k = float(k)

    def combine(self, scores: dict[str, float]) -> tuple[float, dict[str, Any]]:
        values = list(scores.values())
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
        if self.method == "mean":
            value = mean
        elif self.method == "median":
            value = statistics.median(values)
        elif self.method == "min":
            value = min(values)
        else:
            value = mean - self.k * std
        return value, {"members": len(values), "std": std}


@register("gated")
class Gated(Reward):
    """Soft rewards that count only when a hard gate passes (Posterior-GRPO, G-RA style).

    A sample passes when the gate's score is at least ``threshold``. Passing samples get the soft
    reward's score (plus the gate's score when ``add_gate``); failing samples get ``fail_score``
    (plus the gate's score when ``add_gate``) whatever the soft reward would say, so a sample that
    fails the gate can never be lifted by the soft reward. The soft reward is only run on samples
    that passed (saving judge or model calls).

    Args:
        gate: The hard check (e.g. correctness or a format verifier).
        reward: The soft reward applied behind the gate.
        threshold: Minimum gate score that passes.
        fail_score: Soft part given to samples that fail the gate.
        add_gate: Add the gate's own score to the result.
        on_failure: What a failed soft reward does on a passing sample: ``fail`` (default),
            ``skip`` (use the gate part only) or ``zero``. A failed gate always fails the sample.
    """

    def __init__(
        self,
        gate: RewardRef,
        reward: RewardRef,
        threshold: float = 1.0,
        fail_score: float = 0.0,
        add_gate: bool = False,
        on_failure: OnFailure = "fail",
    ) -> None:
        if on_failure not in ("fail", "skip", "zero"):
            raise ValueError(f"on_failure must be 'fail', 'skip' or 'zero', got {on_failure!r}")
        self.gate, self.soft = gate, reward
        self.threshold, self.fail_score = float(threshold), float(fail_score)
        self.add_gate, self.on_failure = add_gate, on_failure

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        gates = await self.gate.ascore(samples)
        passed = [i for i, g in enumerate(gates) if g.is_ok and g.score >= self.threshold]
        soft = dict(zip(passed, await self.soft.ascore([samples[i] for i in passed]),
                        strict=True))
        outcomes: list[Outcome] = []
        for i, gate in enumerate(gates):
            if not gate.is_ok:
                outcomes.append(Outcome.fail(gate.status, f"gate failed: {gate.reason}"[:500],
                                             **_gate_only(gate), gate_passed=None))
                continue
            base = gate.score if self.add_gate else 0.0
            if i not in soft:
                why = f"gate not passed: {gate.reason}" if gate.reason else "gate not passed"
                outcomes.append(Outcome.ok(
                    base + self.fail_score, why[:500], **_gate_only(gate), gate_passed=False))
                continue
            parts = {"gate": gate, "reward": soft[i]}
            scores, failure = apply_failure_policy(parts, self.on_failure)
            if failure is not None:
                outcomes.append(failure)
                continue
            outcomes.append(Outcome.ok(base + scores.get("reward", 0.0), combined_reason(parts),
                                       **component_details(parts), gate_passed=True))
        return outcomes

    def close(self) -> None:
        self.gate.close()
        self.soft.close()


def _gate_only(gate: Outcome) -> dict[str, Any]:
    """Component details of a sample whose soft reward was never run (``reward``: None)."""
    details = component_details({"gate": gate})
    details["components"] = {**details["components"], "reward": None}  # type: ignore[dict-item]
    return details


@register("hierarchy")
class Hierarchy(Reward):
    """Constraint-first lexicographic reward: constraints in order, then the objective.

    The score is the number of leading constraints satisfied (in the given order), plus the
    objective (rescaled to [0, 1] from ``objective_range`` and clipped) only when every
    constraint holds. A response that satisfies more leading constraints therefore always
    outranks one that satisfies fewer, whatever the objective says (SearchLLM bottom-line
    constraints; CGPO). With ``normalize`` the score is divided by ``len(constraints) + 1``.
    The objective is only scored for samples that satisfy every constraint.

    Args:
        constraints: Hard checks in priority order, as a list or ``{name: reward}``.
        objective: The reward optimized once all constraints hold.
        thresholds: Pass thresholds per constraint (list or by name; default 1.0).
        objective_range: ``[low, high]`` of the objective's scores, mapped onto [0, 1].
        normalize: Divide by the number of levels so the score is in [0, 1].
    """

    def __init__(
        self,
        constraints: Children,
        objective: RewardRef,
        thresholds: Weights = None,
        objective_range: tuple[float, float] = (0.0, 1.0),
        normalize: bool = True,
    ) -> None:
        self.constraints = name_children(constraints)
        self.objective = objective
        self.thresholds = resolve_weights(list(self.constraints), thresholds)
        low, high = objective_range
        if not high > low:
            raise ValueError(f"objective_range needs low < high, got {objective_range}")
        self.low, self.high = float(low), float(high)
        self.normalize = normalize

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        per_child = await score_children(self.constraints, samples)
        levels = len(self.constraints) + 1
        states = []  # (parts, satisfied, failure) per sample
        for i in range(len(samples)):
            parts = {key: results[i] for key, results in per_child.items()}
            satisfied, failure = 0, None
            for key in self.constraints:
                part = parts[key]
                if not part.is_ok:
                    failure = Outcome.fail(part.status, f"constraint {key!r} failed: "
                                           f"{part.reason}"[:500], **component_details(parts))
                    break
                if part.score < self.thresholds[key]:
                    break
                satisfied += 1
            states.append((parts, satisfied, failure))
        # the objective (often a model or a judge) only runs where every constraint holds
        ready = [i for i, (_, n, f) in enumerate(states)
                 if f is None and n == len(self.constraints)]
        objectives = dict(zip(ready, await self.objective.ascore([samples[i] for i in ready]),
                              strict=True))
        outcomes = []
        for i, (parts, satisfied, failure) in enumerate(states):
            value = float(satisfied)
            if i in objectives:
                objective = parts["objective"] = objectives[i]
                if not objective.is_ok:
                    failure = Outcome.fail(objective.status, f"objective failed: "
                                           f"{objective.reason}"[:500], **component_details(parts))
                else:
                    span = (objective.score - self.low) / (self.high - self.low)
                    value = satisfied + min(1.0, max(0.0, span))
            if failure is not None:
                outcomes.append(failure)
                continue
            if self.normalize:
                value /= levels
            outcomes.append(Outcome.ok(value, combined_reason(parts), **component_details(parts),
                                       constraints_satisfied=satisfied))
        return outcomes
