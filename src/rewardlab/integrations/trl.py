"""TRL adapter: picklable ``reward_funcs`` for ``GRPOTrainer`` (and ``RLOOTrainer``).

::

    from rewardlab.integrations.trl import grpo_config_kwargs, trl_reward_funcs

    funcs = trl_reward_funcs("spec.yaml")
    args = GRPOConfig(..., **grpo_config_kwargs("spec.yaml"))
    GRPOTrainer(model=..., reward_funcs=funcs, args=args, train_dataset=...)

Each function is an instance of :class:`TrlReward` (sync) or :class:`AsyncTrlReward` (awaited
concurrently by TRL): a small callable object holding only the spec, so it pickles into TRL's
spawned workers and rebuilds the reward there. Failed outcomes become ``None`` (TRL excludes
them), and every call logs ``rewardlab/<name>/<status>`` counts through ``log_metric`` (all
statuses, same keys on every rank) and a ``<name>/status`` column through ``log_extra``.

Dataset columns map to :class:`~rewardlab.types.Sample` fields: ``reference`` comes from the
first of ``reference``, ``answer``, ``solution``, ``ground_truth``, ``label`` that is present
(override with ``columns={"reference": "my_column"}``); every other column goes to ``metadata``.
TRL lays out the completions of one prompt consecutively; consecutive equal prompts form a group.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewardlab.integrations._batch_warning import TRL_REFERENCE_COLUMNS, warn_if_batch_failed
from rewardlab.integrations.common import SpecSource, get_plan, status_counts
from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample

REFERENCE_COLUMNS = TRL_REFERENCE_COLUMNS  # documented in docs/composition.md
_TRAINER_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments", "completion_ids")
_SAMPLE_FIELDS = ("reference", "id", "group")


def completion_text(completion: Any) -> str:
    """The response text of a TRL completion (a string, or conversational messages)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # content parts: keep the text ones
            return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        return str(content)
    raise TypeError(f"cannot read a completion of type {type(completion).__name__}")


def _prompt_key(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, default=str)


class TrlReward:
    """A TRL reward function backed by a rewardlab spec (picklable, synchronous).

    Args:
        spec: Spec file path, YAML/JSON text or mapping (keep it picklable).
        component: Score only this component of the spec's combinator (for TRL's per-function
            weighting and ``normalize_then_sum``).
        columns: Sample field -> dataset column (``reference``, ``id``, ``group``).
        name: Name TRL uses in metrics (default: the component or the reward's name).
        advantages: Return the spec's ``group_advantage`` values instead of rewards.
    """

    def __init__(self, spec: SpecSource, component: str | None = None,
                 columns: Mapping[str, str] | None = None, name: str | None = None,
                 advantages: bool = False) -> None:
        unknown = sorted(set(columns or {}) - set(_SAMPLE_FIELDS))
        if unknown:
            raise ValueError(f"columns can map {list(_SAMPLE_FIELDS)}, not {unknown}")
        self.spec, self.component, self.advantages = spec, component, advantages
        self.columns = dict(columns or {})
        plan = get_plan(spec)  # fail early on a bad spec, in the caller's process
        if component is not None and component not in plan.components:
            raise ValueError(f"component {component!r} not in the spec: {plan.component_names}")
        if advantages and plan.advantage is None:
            raise ValueError("advantages=True needs a group_advantage spec")
        self.__name__ = name or component or plan.reward.name or "rewardlab"

    def reward(self) -> Reward:
        """The reward this function scores with (built once per process)."""
        plan = get_plan(self.spec)
        if self.advantages:
            return plan.advantage  # type: ignore[return-value]
        return plan.components[self.component] if self.component else plan.reward

    def samples(self, prompts: Sequence[Any], completions: Sequence[Any],
                columns: Mapping[str, Sequence[Any]]) -> list[Sample]:
        """Build one Sample per completion from TRL's arguments."""
        data = {k: v for k, v in columns.items() if k not in _TRAINER_KWARGS}
        ref_column = self.columns.get("reference") or next(
            (c for c in REFERENCE_COLUMNS if c in data), None)
        if ref_column is not None and ref_column not in data:
            raise KeyError(f"reference column {ref_column!r} is not in the dataset columns "
                           f"{sorted(data)}")
        used = {ref_column, self.columns.get("id"), self.columns.get("group")}
        samples, group, previous = [], -1, object()
        for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
            key = _prompt_key(prompt)
            if key != previous:
                group, previous = group + 1, key
            samples.append(Sample(
                response=completion_text(completion),
                prompt=prompt if isinstance(prompt, str | list) else None,
                reference=data[ref_column][i] if ref_column else None,
                metadata={k: v[i] for k, v in data.items() if k not in used},
                group=data[self.columns["group"]][i] if "group" in self.columns else group,
                id=data[self.columns["id"]][i] if "id" in self.columns else None,
            ))
        return samples

    def finish(self, outcomes: list[Outcome], log_metric: Callable | None,
               log_extra: Callable | None) -> list[float | None]:
        """Turn outcomes into TRL rewards and log per-status counts."""
        if log_metric is not None:
            for status, count in status_counts(outcomes).items():
                log_metric(f"rewardlab/{self.__name__}/{status}", float(count))
        if log_extra is not None:
            log_extra(f"{self.__name__}/status", [o.status.value for o in outcomes])
        return [o.score if o.is_ok else None for o in outcomes]

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 completion_ids: Any = None, *, log_metric: Callable | None = None,
                 log_extra: Callable | None = None, **columns: Any) -> list[float | None]:
        samples = self.samples(prompts, completions, columns)
        return self.finish(warn_if_batch_failed("trl", samples, self.reward().score(samples)),
                           log_metric, log_extra)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__name__!r})"


class AsyncTrlReward(TrlReward):
    """The awaited form of :class:`TrlReward` (TRL gathers async reward functions
    concurrently)."""

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],  # type: ignore[override]
                       completion_ids: Any = None, *, log_metric: Callable | None = None,
                       log_extra: Callable | None = None, **columns: Any) -> list[float | None]:
        samples = self.samples(prompts, completions, columns)
        outcomes = warn_if_batch_failed("trl", samples, await self.reward().ascore(samples))
        return self.finish(outcomes, log_metric, log_extra)

    # TRL picks the async path with inspect.iscoroutinefunction(func), which is False for a
    # callable object on Python 3.11. These class attributes make the object "function-like"
    # to inspect (the protocol Cython functions use) without adding state to pickle.
    __code__ = __call__.__code__
    __defaults__ = None
    __kwdefaults__ = None


def trl_reward_funcs(spec: SpecSource, columns: Mapping[str, str] | None = None,
                     use_async: bool = False) -> list[TrlReward]:
    """The ``reward_funcs`` list for a spec.

    A ``group_advantage`` spec whose method TRL has natively (``grpo``, ``dr_grpo``, ``gdpo``)
    gives one function per component (weights and aggregation come from
    :func:`grpo_config_kwargs`); other methods give one function returning rewardlab's
    advantages; any other spec gives one function for the whole reward.

    Args:
        spec: The spec.
        columns: Sample field -> dataset column.
        use_async: Return :class:`AsyncTrlReward` objects.
    """
    cls = AsyncTrlReward if use_async else TrlReward
    plan = get_plan(spec)
    if plan.advantage is None:
        return [cls(spec, columns=columns)]
    if plan.advantage.method in ("grpo", "dr_grpo", "gdpo"):
        return [cls(spec, component=name, columns=columns) for name in plan.components]
    return [cls(spec, columns=columns, advantages=True, name=f"{plan.advantage.method}_advantage")]


def grpo_config_kwargs(spec: SpecSource) -> dict[str, Any]:
    """``GRPOConfig`` keyword arguments matching the spec's advantage method (pairs with
    :func:`trl_reward_funcs`)."""
    plan = get_plan(spec)
    settings = {k: v for k, v in plan.trainer_settings("trl").items() if k != "note"}
    if plan.advantage is None or plan.advantage.method not in ("grpo", "dr_grpo", "gdpo"):
        settings.pop("reward_weights", None)
    return {k: v for k, v in settings.items() if v is not None}
