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
import math
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
        """Trainer options that reproduce the spec's advantage method (see docs/trainers.md).

        Args:
            trainer: ``trl``, ``rloo`` (TRL's ``RLOOTrainer``), ``verl`` or ``openrlhf``.

        Returns:
            A dict of option names to values (TRL: config keyword arguments; verl: Hydra
            overrides past the reward-function keys; OpenRLHF: command-line flags, ``True`` for
            a bare switch), plus ``note`` when the trainer cannot do exactly what the spec asks.
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
        if trainer == "rloo":
            # RLOOConfig has neither multi_objective_aggregation nor scale_rewards; its
            # leave-one-out baseline is its own method, whatever the spec asked for.
            settings: dict[str, Any] = {"reward_weights": list(self.weights.values()) or None}
            if method != "rloo" and adv is not None:
                settings["note"] = (f"RLOOTrainer computes leave-one-out advantages, not "
                                    f"{method}: use GRPOTrainer for {method}")
            return settings
        if trainer == "verl":
            if method == "gdpo":
                return {"algorithm.adv_estimator": "gdpo",
                        "algorithm.gdpo_reward_keys": self.component_names,
                        "algorithm.gdpo_reward_weights": list(self.weights.values()),
                        "note": "verl's gdpo estimator reads the component keys; it is given no "
                        "sample status, so a failed sample's components count as 0.0 in its "
                        "group (use TRL's normalize_then_sum to leave failures out)"}
            native = {"grpo": {"algorithm.adv_estimator": "rewardlab_grpo"},
                      "dr_grpo": {"algorithm.adv_estimator": "rewardlab_grpo",
                                  "algorithm.norm_adv_by_std_in_grpo": False},
                      "rloo": {"algorithm.adv_estimator": "rewardlab_rloo"},
                      "opo": {"algorithm.adv_estimator": "opo",
                              "note": "verl's own opo estimator is used; it is given no sample "
                              "status, so a failed sample counts as failure_score in its group"}}
            if method in native:
                return dict(native[method])
            return {"algorithm.adv_estimator": "rewardlab_grpo",
                    "note": f"verl 0.9 has no batch reward manager, so {method} (which compares "
                    "the responses of a group) cannot run inside verl's reward loop: GRPO "
                    "advantages of the weighted sum of the components are used"}
        if trainer == "openrlhf":
            native = {"grpo": "group_norm", "dr_grpo": "dr_grpo", "rloo": "rloo"}
            settings = {"--algo.advantage.estimator": native.get(method, "group_norm"),
                        # a failed sample's `scores` is NaN, so OpenRLHF's dynamic filter drops
                        # its group instead of letting failure_score into the group statistics
                        "--algo.dynamic_filtering_enable": True}
            if method not in native:
                settings["note"] = (f"{method} is not available in OpenRLHF's reward_func path "
                                    "(one sample per call); the weighted sum of the components "
                                    "is returned and normalized with group_norm")
            return settings
        raise ValueError(f"unknown trainer {trainer!r}; expected trl, rloo, verl or openrlhf")


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


def unit_score(outcome: Outcome, score_range: tuple[float, float] = (0.0, 1.0)) -> float:
    """OpenRLHF's ``scores`` value of an outcome: the score mapped from ``score_range`` onto
    0-1 and clipped (OpenRLHF documents ``scores`` as 0-1 and filters groups on their mean),
    NaN for a failed outcome so that a dynamic filter drops its group.

    Raises:
        ValueError: ``score_range`` is not an increasing pair of finite numbers.
    """
    lo, hi = (float(v) for v in score_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"score_range must be two finite numbers, low < high; got {score_range}")
    if not outcome.is_ok or outcome.score is None:
        return math.nan
    return min(1.0, max(0.0, (outcome.score - lo) / (hi - lo)))
