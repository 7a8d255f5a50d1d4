"""verl adapter: ``compute_score`` in every form verl's reward managers call.

Point verl at this module (``custom_reward_function.path=<site-packages>/rewardlab/integrations/
verl.py``, ``custom_reward_function.name=compute_score``) and name the spec with
``custom_reward_function.reward_kwargs.spec=/path/spec.yaml`` or ``$REWARDLAB_SPEC``:

* ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kw)``: keyword form
  of the ``naive``/``dapo`` managers; also the picklable positional form run in a process pool by
  the ``prime`` manager (all four leading parameters are positional-or-keyword).
* ``compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kw)``: the
  ``batch`` manager; applies a ``group_advantage`` spec inside each prompt's group
  (``extra_info["index"]``).
* ``compute_score_async(...)``: the Reward Loop's awaited form.

A spec with several aliases (``rewards: {openai/gsm8k: ..., default: ...}``) routes each
sample by ``data_source`` (falling back to the ``default`` alias; a sample with neither is
``skipped``), like verl's own ``default_compute_score`` dispatcher. Every call returns a dict with
the same keys, whatever the data source: ``score``, ``acc``, ``status`` and one key per
component of any of the spec's combinators (NaN where a component does not apply). List ground
truths arriving as numpy arrays are converted. A failed outcome scores ``failure_score``
(default 0.0, as verl itself does on errors) and says why in ``status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.integrations._batch_warning import warn_if_batch_failed
from rewardlab.integrations.common import (
    RewardPlan,
    SpecSource,
    get_plans,
    to_plain,
)
from rewardlab.reward import run_sync
from rewardlab.types import Outcome, Sample, Status

DEFAULT_ALIAS = "default"


@dataclass
class Router:
    """The plans of a spec by alias, and the fixed component keys of every result."""

    plans: dict[str, RewardPlan]
    routed: bool
    keys: list[str]

    def select(self, data_source: Any) -> RewardPlan | None:
        """The plan for a data source (``None``: no alias applies)."""
        if not self.routed:
            return next(iter(self.plans.values()))
        return self.plans.get(str(data_source)) or self.plans.get(DEFAULT_ALIAS)


_routers: dict[int, Router] = {}


def get_router(spec: SpecSource | None) -> Router:
    """The (cached) router of a spec."""
    plans, routed = get_plans(spec)
    router = _routers.get(id(plans))
    if router is None:
        keys: list[str] = []
        for plan in plans.values():
            keys += [k for k in plan.component_names if k not in keys]
        reserved = sorted({"score", "acc", "status"} & set(keys))
        if reserved:
            raise ValueError(f"component names {reserved} clash with verl's result keys")
        router = _routers[id(plans)] = Router(plans, routed, keys)
    return router


def _skipped(data_source: Any, router: Router) -> Outcome:
    return Outcome.fail(Status.SKIPPED, f"no reward for data_source {data_source!r} (aliases: "
                        f"{', '.join(router.plans)})"[:300])


def sample_from_verl(data_source: Any, solution_str: str, ground_truth: Any,
                     extra_info: Any = None) -> Sample:
    """The :class:`Sample` for one verl call.

    ``extra_info`` goes into metadata (with ``data_source``); its ``question`` or ``prompt``
    becomes the prompt when present; its ``index`` becomes the group id.
    """
    info = to_plain(extra_info) if extra_info is not None else {}
    info = info if isinstance(info, dict) else {"extra_info": info}
    prompt = info.get("prompt") or info.get("question")
    if not (isinstance(prompt, str) or (isinstance(prompt, list) and all(
            isinstance(m, dict) and "role" in m and "content" in m for m in prompt))):
        prompt = None
    return Sample(response=str(solution_str), prompt=prompt, reference=to_plain(ground_truth),
                  metadata={**info, "data_source": to_plain(data_source)},
                  group=info.get("index") if isinstance(info.get("index"), str | int) else None)


def result_dict(keys: list[str], outcome: Outcome, *, failure_score: float = 0.0,
                acc_threshold: float = 1.0, acc_component: str | None = None) -> dict[str, Any]:
    """The fixed-key dict verl logs: ``score``, ``acc``, ``status``, one key per component.

    Args:
        keys: Every component name the spec can produce (the same for every call).
        outcome: The outcome of one sample.
        failure_score: Score reported for a failed outcome.
        acc_threshold: ``acc`` is true when the accuracy source reaches this value.
        acc_component: Component whose score decides ``acc`` (default: the total score).
    """
    found = outcome.details.get("components") or {}
    components = {name: found.get(name) for name in keys}
    if acc_component is not None and acc_component not in components:
        raise ValueError(f"acc_component {acc_component!r} is not a component of the spec: "
                         f"{keys}")
    acc_source = components[acc_component] if acc_component else outcome.score
    result: dict[str, Any] = {
        "score": outcome.score if outcome.is_ok else float(failure_score),
        "acc": bool(acc_source is not None and acc_source >= acc_threshold),
        "status": outcome.status.value,
    }
    for name, value in components.items():
        # verl stacks these into arrays: keep them floats, NaN marking a missing component
        result[name] = float("nan") if value is None else float(value)
    return result


def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                  extra_info: Any = None, *, spec: SpecSource | None = None,
                  failure_score: float = 0.0, acc_threshold: float = 1.0,
                  acc_component: str | None = None, **_: Any) -> dict[str, Any]:
    """verl's per-sample ``compute_score`` (keyword or positional call).

    Args:
        data_source: The row's ``data_source``.
        solution_str: The decoded response.
        ground_truth: ``reward_model.ground_truth`` (numpy arrays accepted).
        extra_info: The row's ``extra_info``.
        spec: The reward spec (default ``$REWARDLAB_SPEC``).
        failure_score: Score of a failed outcome.
        acc_threshold: Threshold for ``acc``.
        acc_component: Component deciding ``acc``.
        **_: Other keywords verl injects (ignored).
    """
    router = get_router(spec)
    plan = router.select(data_source)
    outcome = _skipped(data_source, router) if plan is None else plan.reward.score_one(
        sample_from_verl(data_source, solution_str, ground_truth, extra_info))
    return result_dict(router.keys, outcome, failure_score=failure_score,
                       acc_threshold=acc_threshold, acc_component=acc_component)


async def compute_score_async(data_source: Any, solution_str: str, ground_truth: Any,
                              extra_info: Any = None, *, spec: SpecSource | None = None,
                              failure_score: float = 0.0, acc_threshold: float = 1.0,
                              acc_component: str | None = None, **_: Any) -> dict[str, Any]:
    """The awaited form of :func:`compute_score` (verl's Reward Loop managers)."""
    router = get_router(spec)
    plan = router.select(data_source)
    sample = sample_from_verl(data_source, solution_str, ground_truth, extra_info)
    outcome = _skipped(data_source, router) if plan is None else \
        (await plan.reward.ascore([sample]))[0]
    return result_dict(router.keys, outcome, failure_score=failure_score,
                       acc_threshold=acc_threshold, acc_component=acc_component)


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None,
                        *, spec: SpecSource | None = None, failure_score: float = 0.0,
                        acc_threshold: float = 1.0, acc_component: str | None = None,
                        **_: Any) -> list[dict[str, Any]]:
    """verl's ``batch`` manager form: one call for the whole batch, scored concurrently.

    When the spec is a ``group_advantage``, ``score`` is the sample's advantage within its
    prompt group (``extra_info["index"]``), so methods verl lacks (GDPO, OPO, pairwise,
    tournament) still apply; ``acc`` and the component keys stay raw rewards.
    """
    n = len(solution_strs)
    extra_infos = list(extra_infos) if extra_infos is not None else [None] * n
    if not len(data_sources) == len(ground_truths) == len(extra_infos) == n:
        raise ValueError("data_sources, solution_strs, ground_truths and extra_infos must have "
                         "the same length")
    router = get_router(spec)
    samples = [sample_from_verl(*row) for row in zip(data_sources, solution_strs, ground_truths,
                                                     extra_infos, strict=True)]
    by_plan: dict[str, list[int]] = {}
    outcomes: list[Outcome] = [_skipped(d, router) for d in data_sources]
    for i, source in enumerate(data_sources):
        plan = router.select(source)
        if plan is not None:
            alias = next(a for a, p in router.plans.items() if p is plan)
            by_plan.setdefault(alias, []).append(i)

    async def score_all() -> list[tuple[list[int], list[Outcome], list[Outcome] | None]]:
        async def one(alias: str, members: list[int]):
            plan, subset = router.plans[alias], [samples[i] for i in members]
            if plan.advantage is None:
                return members, await plan.reward.ascore(subset), None
            advantages = await plan.advantage.ascore(subset)  # children scored once
            raw = [Outcome.ok(a.details["reward"], components=a.details["components"])
                   if a.is_ok else a for a in advantages]
            return members, raw, advantages
        return await asyncio.gather(*(one(a, m) for a, m in by_plan.items()))

    advantage_of: dict[int, Outcome] = {}
    for members, raw, advantages in run_sync(score_all()):
        for k, i in enumerate(members):
            outcomes[i] = raw[k]
            if advantages is not None:
                advantage_of[i] = advantages[k]
    results = []
    warn_if_batch_failed("verl", samples, outcomes)
    for i, outcome in enumerate(outcomes):
        result = result_dict(router.keys, outcome, failure_score=failure_score,
                             acc_threshold=acc_threshold, acc_component=acc_component)
        if i in advantage_of:  # the score becomes the advantage within the prompt's group
            adv = advantage_of[i]
            result["score"] = adv.score if adv.is_ok else float(failure_score)
        results.append(result)
    return results
