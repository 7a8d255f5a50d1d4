"""What every trainer adapter shares: turning one spec into a scoring plan.

A *plan* is built once per process per spec and cached (adapters are called millions of times
and, in process pools, from fresh processes). When the spec's top reward is a
``group_advantage``, the plan keeps its rewards (``components``) and weights apart from the
advantage method, because trainers normalize rewards themselves: per-sample adapters return the
weighted sum of the components, and :meth:`RewardPlan.trainer_settings` says how to make the
trainer apply the requested method.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab.compose.combinators import WeightedSum, children_of
from rewardlab.compose.group_advantage import GroupAdvantage
from rewardlab.reward import Reward
from rewardlab.spec import SpecError, declares_aliases, load_spec, rewards_from_spec
from rewardlab.types import Outcome, Status

SPEC_ENV = "REWARDLAB_SPEC"
"""Environment variable naming the spec file adapters use when no ``spec`` is passed."""

SpecSource = str | Path | Mapping[str, Any] | Reward


@dataclass
class RewardPlan:
    """A spec resolved for trainers.

    Attributes:
        reward: What per-sample adapters score (the weighted sum of the components when the
            spec asked for group advantages, else the spec's reward).
        components: Named sub-rewards whose scores are reported separately (empty when the
            reward is not a combinator).
        weights: Weights of ``components`` (1.0 each unless the spec says otherwise).
        advantage: The ``group_advantage`` reward itself, when the spec asked for one.
    """

    reward: Reward
    components: dict[str, Reward] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    advantage: GroupAdvantage | None = None

    @property
    def component_names(self) -> list[str]:
        """Component names in spec order."""
        return list(self.components)

    def trainer_settings(self, trainer: str) -> dict[str, Any]:
        """Trainer options that reproduce the spec's advantage method.

        Args:
            trainer: ``trl``, ``verl`` or ``openrlhf``.

        Returns:
            A dict of option names to values, plus ``note`` when the trainer has no native
            equivalent (then the adapter computes the advantages itself where it can).
        """
        adv = self.advantage
        method = adv.method if adv else "grpo"
        if trainer == "trl":
            if method in ("grpo", "gdpo", "dr_grpo"):
                return {
                    "multi_objective_aggregation": "normalize_then_sum" if method == "gdpo"
                    else "sum_then_normalize",
                    "scale_rewards": "none" if method == "dr_grpo" else (
                        adv.scale if adv else "group"),
                    "reward_weights": list(self.weights.values()) or None,
                }
            return {"scale_rewards": "none", "note": f"{method} advantages are computed by "
                    "rewardlab (one reward function over the group); TRL only re-centres them"}
        if trainer == "verl":
            native = {"grpo": {"algorithm.adv_estimator": "grpo"},
                      "dr_grpo": {"algorithm.adv_estimator": "grpo",
                                  "algorithm.norm_adv_by_std_in_grpo": False},
                      "rloo": {"algorithm.adv_estimator": "rloo"}}
            if method in native:
                return native[method]
            return {"algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": False,
                    "reward_model.reward_manager": "batch",
                    "note": f"{method} advantages are computed by rewardlab in the batch form "
                    "(groups from extra_info['index']); verl only re-centres them"}
        if trainer == "openrlhf":
            native = {"grpo": "group_norm", "dr_grpo": "dr_grpo", "rloo": "rloo"}
            if method in native:
                return {"--advantage_estimator": native[method]}
            return {"--advantage_estimator": "group_norm",
                    "note": f"{method} is not available in OpenRLHF's reward_func path (one sample "
                    "per call); the weighted sum of the components is returned"}
        raise ValueError(f"unknown trainer {trainer!r}; expected trl, verl or openrlhf")


def plan_from_reward(reward: Reward) -> RewardPlan:
    """Resolve a built reward into a :class:`RewardPlan`."""
    if isinstance(reward, GroupAdvantage):
        scalar = WeightedSum(dict(reward.children), weights=dict(reward.weights))
        return RewardPlan(scalar, dict(reward.children), dict(reward.weights), reward)
    components = dict(children_of(reward))
    weights = dict(getattr(reward, "weights", {}) or dict.fromkeys(components, 1.0))
    return RewardPlan(reward, components, weights)


_plans: dict[str, tuple[dict[str, RewardPlan], bool]] = {}
_plans_lock = threading.Lock()


def _spec_key(spec: SpecSource | None) -> tuple[str, SpecSource]:
    if spec is None:
        env = os.environ.get(SPEC_ENV)
        if not env:
            raise SpecError(f"no reward spec given: pass spec=... or set ${SPEC_ENV}")
        spec = env
    if isinstance(spec, Reward):
        return f"reward:{id(spec)}", spec
    if isinstance(spec, Mapping):
        return "mapping:" + json.dumps(spec, sort_keys=True, default=str), spec
    return f"source:{spec}", spec


def get_plans(spec: SpecSource | None = None) -> tuple[dict[str, RewardPlan], bool]:
    """The cached plans of a spec, by alias, and whether the spec declared aliases.

    A spec with ``rewards: {alias: spec}`` gives one plan per alias (adapters that know the data
    source, like verl's, route each sample to the alias named after it); any other spec gives a
    single plan.
    """
    key, source = _spec_key(spec)
    with _plans_lock:
        found = _plans.get(key)
        if found is None:
            if isinstance(source, Reward):
                found = ({source.name or "reward": plan_from_reward(source)}, False)
            else:
                data = load_spec(source)
                routed = declares_aliases(data)
                rewards = rewards_from_spec(data)
                found = ({alias: plan_from_reward(r) for alias, r in rewards.items()}, routed)
            _plans[key] = found
        return found


def get_plan(spec: SpecSource | None = None) -> RewardPlan:
    """The cached plan of a single-reward spec (a path, YAML/JSON text, a mapping, a built
    reward or, when ``None``, the file named by ``$REWARDLAB_SPEC``).

    Raises:
        SpecError: the spec cannot be built, or declares several rewards.
    """
    plans, routed = get_plans(spec)
    if routed and len(plans) != 1:
        raise SpecError(f"this adapter scores one reward; the spec declares {len(plans)} "
                        f"({', '.join(plans)}): use `reward:` (verl can route `rewards:` "
                        "aliases by data_source)")
    return next(iter(plans.values()))


def component_scores(plan: RewardPlan, outcome: Outcome) -> dict[str, float | None]:
    """Each component's score in an outcome (``None`` when missing or failed)."""
    found = outcome.details.get("components") or {}
    return {name: found.get(name) for name in plan.component_names}


def status_counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Count outcomes per status, with every status present (same keys on every call)."""
    counts = Counter(o.status.value for o in outcomes)
    return {s.value: counts.get(s.value, 0) for s in Status}


def to_plain(value: Any) -> Any:
    """Numpy arrays and scalars (and containers of them) to plain Python values."""
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return to_plain(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value
