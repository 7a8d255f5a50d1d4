"""verl adapter: ``compute_score`` in the forms verl's reward loop calls.

Point verl (0.9.x) at this module and name the spec; ``rewardlab export verl SPEC`` prints the
whole set of Hydra overrides (see docs/trainers.md)::

    reward.custom_reward_function.path=<site-packages>/rewardlab/integrations/verl.py
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.spec=/path/spec.yaml

The file loads both by path (verl's ``load_extern_object`` executes it as a module that is not
in ``sys.modules``) and as ``pkg://rewardlab.integrations.verl``.

* ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kw)``: the keyword
  form of the reward-loop managers (``naive``, ``dapo``, ``gdpo`` and rewardlab's own
  :mod:`rewardlab.integrations.verl_manager`); also picklable for process pools.
* ``compute_score_async(...)``: the awaited form (verl awaits coroutine functions).
* ``compute_score_batch(...)``: one call for a whole batch, for callers that have one (verl
  0.9's reward loop no longer has a batch manager).

A spec with several aliases (``rewards: {openai/gsm8k: ..., default: ...}``) routes each
sample by ``data_source`` (falling back to the ``default`` alias; a sample with neither is
``skipped``), like verl's own ``default_compute_score`` dispatcher. Every call returns a dict with
the same keys, whatever the data source: ``score``, ``acc``, ``status`` and one key per
component of any of the spec's combinators. A component that was not scored (the sample failed,
or the component does not apply to its data source) is ``0.0`` there, never NaN, because verl's
``gdpo`` estimator normalizes these keys inside each group and one NaN would turn the whole
group's advantages into NaN; ``status`` says what happened. A failed outcome scores
``failure_score`` (default 0.0); rewardlab's reward manager turns that into a masked sample (see
:mod:`rewardlab.integrations.verl_manager`). The multi-turn fields verl adds to ``extra_info``
(``num_turns``, ``rollout_reward_scores``, ``tool_extra_fields``) become the matching
:class:`~rewardlab.types.Sample` fields.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardlab.integrations._batch_warning import warn_if_batch_failed
from rewardlab.integrations.common import (
    SPEC_ENV,
    RewardPlan,
    SpecSource,
    get_plans,
    to_plain,
)
from rewardlab.reward import run_sync
from rewardlab.types import Outcome, Sample, Status

DEFAULT_ALIAS = "default"


class Router:
    """The plans of a spec by alias, and the fixed component keys of every result.

    A plain class on purpose: verl executes this file as a module that is not in
    ``sys.modules``, where ``@dataclass`` (under postponed annotations) fails.
    """

    def __init__(self, plans: dict[str, RewardPlan], routed: bool, keys: list[str]) -> None:
        self.plans, self.routed, self.keys = plans, routed, keys

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


MULTI_TURN_KEYS = ("num_turns", "rollout_reward_scores", "tool_extra_fields")
"""``extra_info`` keys verl's reward loop adds for multi-turn rollouts (Sample fields here)."""


def sample_from_verl(data_source: Any, solution_str: str, ground_truth: Any,
                     extra_info: Any = None) -> Sample:
    """The :class:`Sample` for one verl call.

    ``extra_info`` goes into metadata (with ``data_source``); its ``question`` or ``prompt``
    becomes the prompt when present; its ``index`` becomes the group id; ``num_turns``,
    ``rollout_reward_scores`` and ``tool_extra_fields`` become the Sample's multi-turn fields
    (verl's ``naive`` manager also merges the tool fields into ``extra_info`` itself, so they
    stay in metadata too).
    """
    info = to_plain(extra_info) if extra_info is not None else {}
    info = info if isinstance(info, dict) else {"extra_info": info}
    prompt = info.get("prompt") or info.get("question")
    if not (isinstance(prompt, str) or (isinstance(prompt, list) and all(
            isinstance(m, dict) and "role" in m and "content" in m for m in prompt))):
        prompt = None
    turns = info.get("num_turns")
    scores = info.get("rollout_reward_scores")
    tools = info.get("tool_extra_fields")
    return Sample(response=str(solution_str), prompt=prompt, reference=to_plain(ground_truth),
                  metadata={**{k: v for k, v in info.items() if k not in MULTI_TURN_KEYS},
                            "data_source": to_plain(data_source)},
                  group=info.get("index") if isinstance(info.get("index"), str | int) else None,
                  num_turns=turns if isinstance(turns, int) and not isinstance(turns, bool)
                  and turns >= 0 else None,
                  rollout_reward_scores=scores if isinstance(scores, Mapping) else {},
                  tool_extra_fields=tools if isinstance(tools, Mapping) else {})


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
        # verl stacks these into arrays and its gdpo estimator normalizes them per group: a
        # missing component is 0.0 (never NaN, which would poison the group); see `status`
        result[name] = 0.0 if value is None else float(value)
    return result


ROUTER_PLACEHOLDER = "${reward_router_address}"
"""Written in a spec (e.g. a judge's ``backend.base_url: http://${reward_router_address}/v1``),
it is replaced by the ``reward_router_address`` verl passes when its reward model is enabled, so
the judge talks to the model verl serves."""


def with_router(spec: SpecSource | None, reward_router_address: Any) -> SpecSource | None:
    """``spec`` with :data:`ROUTER_PLACEHOLDER` replaced by verl's reward-model router address
    (``host:port``); unchanged when there is no address or no placeholder (a judge whose URL
    keeps the placeholder then fails per sample with a typed error status).
    """
    if not reward_router_address:
        return spec
    source = spec if spec is not None else os.environ.get(SPEC_ENV)
    if not isinstance(source, str | Path | Mapping):
        return spec
    key = (str(source) if not isinstance(source, Mapping)
           else json.dumps(source, sort_keys=True, default=str), str(reward_router_address))
    if key not in _routed_specs:  # read and parse the spec once per address, not per sample
        from rewardlab.spec import load_spec

        text = json.dumps(load_spec(source), default=str)
        address = json.dumps(str(reward_router_address))[1:-1]  # JSON-escaped, no quotes
        _routed_specs[key] = (json.loads(text.replace(ROUTER_PLACEHOLDER, address))
                              if ROUTER_PLACEHOLDER in text else spec)
    return _routed_specs[key]


_routed_specs: dict[tuple[str, str], Any] = {}


def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                  extra_info: Any = None, *, spec: SpecSource | None = None,
                  failure_score: float = 0.0, acc_threshold: float = 1.0,
                  acc_component: str | None = None, reward_router_address: str | None = None,
                  **_: Any) -> dict[str, Any]:
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
        reward_router_address: verl's reward-model router (``host:port``), substituted for
            ``${reward_router_address}`` in the spec (see :func:`with_router`).
        **_: Other keywords verl injects (ignored).
    """
    router = get_router(with_router(spec, reward_router_address))
    plan = router.select(data_source)
    outcome = _skipped(data_source, router) if plan is None else plan.reward.score_one(
        sample_from_verl(data_source, solution_str, ground_truth, extra_info))
    return result_dict(router.keys, outcome, failure_score=failure_score,
                       acc_threshold=acc_threshold, acc_component=acc_component)


async def compute_score_async(data_source: Any, solution_str: str, ground_truth: Any,
                              extra_info: Any = None, *, spec: SpecSource | None = None,
                              failure_score: float = 0.0, acc_threshold: float = 1.0,
                              acc_component: str | None = None,
                              reward_router_address: str | None = None,
                              **_: Any) -> dict[str, Any]:
    """The awaited form of :func:`compute_score` (verl's Reward Loop managers)."""
    router = get_router(with_router(spec, reward_router_address))
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


MANAGER_CLASS = "RewardlabRewardManager"
"""The reward-manager class in :mod:`rewardlab.integrations.verl_manager`."""


def _hydra_value(value: Any) -> str:
    """One value in Hydra's override grammar (strings quoted unless plainly a path/word)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    text = str(value)
    # quoted unless Hydra would read it back as this same string (a component named "1",
    # "null" or "true" stays a string)
    plain = re.fullmatch(r"[A-Za-z_./][A-Za-z0-9_./+-]*", text) and text.lower() not in (
        "true", "false", "null", "none", "nan", "inf")
    return text if plain else _quoted(text)


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def verl_overrides(spec: str | Path, *, failure_score: float = 0.0,
                   estimator: str | None = None,
                   manager: str | None = None) -> tuple[list[str], list[str]]:
    """The Hydra overrides that wire a spec into verl 0.9's ``ppo_trainer`` config.

    Args:
        spec: The spec file (its absolute path is written into the overrides).
        failure_score: ``compute_score``'s score for a failed outcome.
        estimator: Use this ``algorithm.adv_estimator`` instead of the one the spec implies
            (default: the spec's ``trainers.verl.estimator`` when present). Checked against the
            installed verl by :func:`check_verl_choice`.
        manager: Use this registered reward-loop manager (e.g. ``naive``) instead of rewardlab's
            (default: the spec's ``trainers.verl.manager``); checked likewise.

    Returns:
        ``(overrides, notes)``: ``key=value`` strings (unquoted for the shell) and the notes
        saying where verl cannot do exactly what the spec asks.

    Raises:
        ValueError: the spec's aliases need different advantage settings, or ``estimator`` is
            not available in the installed verl.
    """
    spec = Path(spec).resolve()
    plans = list(get_plans(str(spec))[0].values())
    settings = [p.trainer_settings("verl") for p in plans]
    if any(s != settings[0] for s in settings):
        raise ValueError("the spec's aliases need different verl advantage settings; "
                         "use one advantage method for all data sources")
    chosen = dict(settings[0])
    notes = [chosen.pop("note")] if "note" in chosen else []
    named = trainer_section(spec, "verl")
    estimator = estimator if estimator is not None else named.get("estimator")
    manager = manager if manager is not None else named.get("manager")
    if estimator is not None:
        check_verl_choice("estimator", estimator)
        if estimator != chosen["algorithm.adv_estimator"]:
            chosen = {"algorithm.adv_estimator": estimator}
            notes = [f"estimator {estimator} chosen by hand: failed samples are left out of the "
                     "group statistics only by rewardlab_grpo and rewardlab_rloo"]
    if manager is not None and manager != MANAGER_CLASS:
        check_verl_choice("manager", manager)
        current = str(chosen["algorithm.adv_estimator"])
        if current.startswith("rewardlab_"):
            # verl registers the rewardlab_* estimators only when it loads rewardlab's manager
            if estimator is not None:
                raise ValueError(f"estimator {current} needs rewardlab's manager "
                                 f"({MANAGER_CLASS}), not {manager}")
            chosen["algorithm.adv_estimator"] = current.removeprefix("rewardlab_")
        notes.append(f"verl's {manager} manager reports failed samples as failure_score, which "
                     "enters the group statistics")
    here = Path(__file__).resolve()
    lines = {
        "reward.custom_reward_function.path": str(here),
        "reward.custom_reward_function.name": "compute_score",
        "++reward.custom_reward_function.reward_kwargs.spec": str(spec),
    }
    if failure_score:
        lines["++reward.custom_reward_function.reward_kwargs.failure_score"] = float(failure_score)
    if manager is not None and manager != MANAGER_CLASS:
        lines.update({"reward.reward_manager.source": "register",
                      "reward.reward_manager.name": manager})
    else:
        lines.update({"reward.reward_manager.source": "importlib",
                      "reward.reward_manager.name": MANAGER_CLASS,
                      "reward.reward_manager.module.path": str(here.with_name(
                          "verl_manager.py"))})
    lines.update({
        # keys verl 0.9's YAML lacks (dataclass-only) are added with "++" (add or override)
        **{f"++{k}" if k in _NOT_IN_VERL_YAML else k: v for k, v in chosen.items()}})
    return [f"{k}={_hydra_value(v)}" for k, v in lines.items()], notes


_NOT_IN_VERL_YAML = frozenset({"algorithm.gdpo_reward_keys", "algorithm.gdpo_reward_weights"})


def trainer_section(spec: str | Path, trainer: str) -> dict[str, Any]:
    """The spec file's ``trainers.<trainer>`` mapping (``{}`` when absent)::

        trainers:
          verl: {estimator: rewardlab_grpo, manager: naive}
          openrlhf: {estimator: rloo}

    Raises:
        ValueError: the section is not a mapping of ``estimator``/``manager`` names.
    """
    from rewardlab.spec import load_spec

    data = load_spec(spec)
    section = (data.get("trainers") or {}) if isinstance(data, Mapping) else {}
    found = section.get(trainer) if isinstance(section, Mapping) else None
    if found is None:
        return {}
    allowed = {"verl": {"estimator", "manager"}, "openrlhf": {"estimator"}}.get(trainer, set())
    if not isinstance(found, Mapping) or not set(found) <= allowed or not all(
            isinstance(v, str) for v in found.values()):
        raise ValueError(f"trainers.{trainer} must map {sorted(allowed)} to names, got {found!r}")
    return dict(found)


def check_verl_choice(kind: str, name: str) -> None:
    """Check that the installed verl has an advantage estimator (``kind="estimator"``) or a
    reward-loop manager (``kind="manager"``) named ``name``.

    Raises:
        ValueError: it does not (the message names the installed verl version and the valid
            choices), or verl is not installed.
    """
    from importlib import metadata

    try:
        version = metadata.version("verl")
    except metadata.PackageNotFoundError:
        raise ValueError(f"cannot check {kind} {name!r}: verl is not installed") from None
    if kind == "estimator":
        from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY

        import rewardlab.integrations.verl_manager  # noqa: F401  (registers rewardlab_*)

        choices = sorted({*ADV_ESTIMATOR_REGISTRY, "gae", "grpo"})
    elif kind == "manager":
        from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER

        choices = sorted({*REWARD_MANAGER, MANAGER_CLASS})
    else:
        raise ValueError(f"kind must be 'estimator' or 'manager', not {kind!r}")
    if name not in choices:
        raise ValueError(f"verl {version} has no {kind} {name!r}; valid choices: "
                         f"{', '.join(choices)}")
