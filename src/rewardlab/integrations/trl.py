"""TRL adapter: picklable ``reward_funcs`` for ``GRPOTrainer`` and ``RLOOTrainer``.

::

    from rewardlab.integrations.trl import grpo_config_kwargs, trl_reward_funcs

    funcs = trl_reward_funcs("spec.yaml")
    args = GRPOConfig(..., **grpo_config_kwargs("spec.yaml"))
    GRPOTrainer(model=..., reward_funcs=funcs, args=args, train_dataset=...)
    # or: RLOOTrainer(..., args=RLOOConfig(..., **rloo_config_kwargs("spec.yaml")))

:class:`RewardEnvironment` puts a rewardlab reward inside a TRL ``environment_factory``
environment (the model submits an answer through a tool; ``get_reward`` scores it).

Each function is an instance of :class:`TrlReward` (sync) or :class:`AsyncTrlReward` (awaited
concurrently by TRL): a small callable object holding only the spec, so it pickles into TRL's
spawned workers and rebuilds the reward there. Failed outcomes become ``None`` (TRL excludes
them), and every call logs ``rewardlab/<name>/<status>`` counts through ``log_metric`` (all
statuses, same keys on every rank) and a ``<name>/status`` column through ``log_extra``.

When one function per component is used (GRPO/GDPO specs), each function reads its component
from the spec's *whole* reward, so a sample whose whole reward failed is ``None`` in every
function: TRL then treats it as unscorable and leaves it out of its group's baseline, instead of
counting the failed component as 0 next to the others (TRL's ``nansum``).

Dataset columns map to :class:`~rewardlab.types.Sample` fields: ``reference`` comes from the
first of ``reference``, ``answer``, ``solution``, ``ground_truth``, ``label`` that is present
(override with ``columns={"reference": "my_column"}``); every other column goes to ``metadata``.
TRL lays out the completions of one prompt consecutively; consecutive equal prompts form a group.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewardlab.integrations._batch_warning import TRL_REFERENCE_COLUMNS, warn_if_batch_failed
from rewardlab.integrations.common import SpecSource, get_plan, status_counts
from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status

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
        """The reward this function scores with (built once per process): the spec's whole
        reward, also for a component function (see :meth:`pick`)."""
        plan = get_plan(self.spec)
        if self.advantages:
            return plan.advantage  # type: ignore[return-value]
        return plan.reward

    def pick(self, outcomes: list[Outcome]) -> list[Outcome]:
        """This function's part of the whole reward's outcomes: the component's score (a
        ``skipped`` failure when the component is missing, the whole failure when the sample
        failed)."""
        if self.component is None:
            return outcomes
        picked = []
        for o in outcomes:
            value = (o.details.get("components") or {}).get(self.component) if o.is_ok else None
            picked.append(Outcome.ok(value) if value is not None else o if not o.is_ok else
                          Outcome.fail(Status.SKIPPED, f"component {self.component} missing"))
        return picked

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
        outcomes = warn_if_batch_failed("trl", samples, _scored(self, samples))
        return self.finish(self.pick(outcomes), log_metric, log_extra)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__name__!r})"


_last_batch: dict[int, tuple[tuple, list[Outcome]]] = {}
_last_lock = threading.Lock()


def _scored(func: TrlReward, samples: list[Sample]) -> list[Outcome]:
    """The whole reward's outcomes for a batch, reusing the previous call's when TRL calls the
    next component function on the same batch (TRL calls sync functions one after another)."""
    reward = func.reward()
    key = tuple((s.prompt_text, s.response, repr(s.reference), s.group) for s in samples)
    with _last_lock:
        found = _last_batch.get(id(reward))
    if found is not None and found[0] == key:
        return found[1]
    outcomes = reward.score(samples)
    with _last_lock:
        _last_batch[id(reward)] = (key, outcomes)
    return outcomes


class AsyncTrlReward(TrlReward):
    """The awaited form of :class:`TrlReward` (TRL gathers async reward functions
    concurrently)."""

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],  # type: ignore[override]
                       completion_ids: Any = None, *, log_metric: Callable | None = None,
                       log_extra: Callable | None = None, **columns: Any) -> list[float | None]:
        samples = self.samples(prompts, completions, columns)
        outcomes = warn_if_batch_failed("trl", samples, await self.reward().ascore(samples))
        return self.finish(self.pick(outcomes), log_metric, log_extra)

    # TRL picks the async path with inspect.iscoroutinefunction(func), which is False for a
    # callable object on Python 3.11. These class attributes make the object "function-like"
    # to inspect (the protocol Cython functions use) without adding state to pickle.
    __code__ = __call__.__code__
    __defaults__ = None
    __kwdefaults__ = None


def trl_reward_funcs(spec: SpecSource, columns: Mapping[str, str] | None = None,
                     use_async: bool = False, trainer: str = "grpo") -> list[TrlReward]:
    """The ``reward_funcs`` list for a spec.

    A ``group_advantage`` spec whose method TRL has natively (``grpo``, ``dr_grpo``, ``gdpo``;
    and ``rloo`` for ``RLOOTrainer``) gives one function per component (weights and aggregation
    come from :func:`grpo_config_kwargs` / :func:`rloo_config_kwargs`); other methods give one
    function returning rewardlab's advantages; any other spec gives one function for the whole
    reward.

    Args:
        spec: The spec.
        columns: Sample field -> dataset column.
        use_async: Return :class:`AsyncTrlReward` objects.
        trainer: ``grpo`` (``GRPOTrainer``) or ``rloo`` (``RLOOTrainer``).
    """
    if trainer not in ("grpo", "rloo"):
        raise ValueError(f"trainer must be 'grpo' or 'rloo', not {trainer!r}")
    cls = AsyncTrlReward if use_async else TrlReward
    plan = get_plan(spec)
    if plan.advantage is None:
        return [cls(spec, columns=columns)]
    native = ("grpo", "dr_grpo", "gdpo") if trainer == "grpo" else ("rloo",)
    if plan.advantage.method in native:
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


def rloo_config_kwargs(spec: SpecSource) -> dict[str, Any]:
    """``RLOOConfig`` keyword arguments for a spec (pairs with :func:`trl_reward_funcs`).

    ``RLOOConfig`` has neither ``multi_objective_aggregation`` nor ``scale_rewards`` (they are
    GRPO options); only the component weights carry over. RLOO's leave-one-out baseline is its
    own method: use ``GRPOTrainer`` for the spec's other methods.
    """
    plan = get_plan(spec)
    settings = {k: v for k, v in plan.trainer_settings("rloo").items() if k != "note"}
    if plan.advantage is None or plan.advantage.method != "rloo":
        settings.pop("reward_weights", None)  # one function: no weights to give
    return {k: v for k, v in settings.items() if v is not None}


class RewardEnvironment:
    """A TRL ``environment_factory`` environment whose reward is a rewardlab spec.

    The model answers through the ``submit_answer`` tool; TRL calls :meth:`get_reward` once the
    rollout is complete, which scores the submitted answer against the row's reference
    (``reference``/``answer``/``solution``/``ground_truth``/``label``). No answer, or a failed
    outcome, is ``None``: TRL leaves such a rollout out of its group's baseline. The last
    outcome stays readable as :attr:`outcome` (status and reason).

    Args:
        spec: The reward spec (a single reward).
    """

    def __init__(self, spec: SpecSource) -> None:
        get_plan(spec)  # fail early on a bad spec
        self._spec = spec
        self._row: dict[str, Any] = {}
        self._answer: str | None = None
        self.outcome: Outcome | None = None

    def reset(self, **row: Any) -> None:
        """Start a rollout for one dataset row (TRL passes the row's columns)."""
        self._row, self._answer, self.outcome = dict(row), None, None

    def submit_answer(self, answer: str) -> str:
        """Submit the final answer to the task.

        Args:
            answer: The final answer, as plain text.

        Returns:
            A confirmation that the answer was recorded.
        """
        self._answer = str(answer)
        return "answer recorded"

    def get_reward(self) -> float | None:
        """The rewardlab score of the submitted answer (``None``: nothing to score)."""
        if self._answer is None:
            self.outcome = None
            return None
        ref_column = next((c for c in REFERENCE_COLUMNS if c in self._row), None)
        prompt = self._row.get("prompt")
        sample = Sample(response=self._answer,
                        prompt=prompt if isinstance(prompt, str | list) else None,
                        reference=self._row.get(ref_column) if ref_column else None,
                        metadata={k: v for k, v in self._row.items()
                                  if k not in ("prompt", ref_column)})
        self.outcome = get_plan(self._spec).reward.score_one(sample)
        return self.outcome.score if self.outcome.is_ok else None


def reward_environment_factory(spec: SpecSource) -> Callable[[], RewardEnvironment]:
    """A picklable ``environment_factory`` for :class:`RewardEnvironment` over ``spec``."""
    import functools

    get_plan(spec)
    return functools.partial(RewardEnvironment, spec)
