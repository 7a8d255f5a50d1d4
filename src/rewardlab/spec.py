"""YAML/JSON reward specs -> reward objects.

The grammar is the same inline (``--spec '...'``) and in a file:

* a **reward spec** is a registered name (``exact_match``) or a mapping with a ``name`` key plus
  that reward's fields (``{name: exact_match, ignore_case: true}``). A mapping with ``name`` is
  *always* a reward spec, whatever its other keys are called: ``{name: gated, gate: ..., reward:
  math}`` is the ``gated`` reward with its ``reward`` field, and ``{name: weighted_sum, rewards:
  {...}}`` is ``weighted_sum`` with its ``rewards`` field.
* a **spec document** is a reward spec, or a mapping *without* ``name`` whose keys are among
  ``reward`` (one reward spec), ``rewards`` (``{alias: reward spec}``, used by the server and by
  verl's data-source routing) and ``serve`` (server settings), with exactly one of ``reward`` and
  ``rewards``.

Every level is validated: unknown keys are errors that list the valid ones (with a "did you
mean"), numbers must be finite (``timeout`` must be positive), and YAML that is oversized, too
deep or refers to itself is refused with a :class:`SpecError` instead of a crash.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml

from rewardlab.errors import RewardlabError
from rewardlab.registry import (
    bundle_options,
    factory_parameters,
    get_reward_factory,
    lift_option_blocks,
)
from rewardlab.reward import Reward

TOP_LEVEL_KEYS = ("reward", "rewards", "serve", "trainers")
"""The keys a spec document (a mapping without ``name``) may have. ``trainers`` holds per-trainer
export choices (``trainers: {verl: {estimator: ..., manager: ...}}``), read and checked by the
trainer exports (``rewardlab export``)."""

MAX_SPEC_BYTES = 1 << 20
"""Largest spec text accepted (1 MiB): specs are hand-written; more is a mistake or an attack."""

MAX_SPEC_NODES = 100_000
"""Most values a spec may hold once YAML aliases are expanded (stops "billion laughs")."""

MAX_SPEC_DEPTH = 64
"""Deepest nesting accepted (deeper JSON/YAML would exhaust the parser's recursion)."""


class SpecError(RewardlabError, ValueError):
    """A reward spec that cannot be built. The message names the bad field."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce_reward(value: Any) -> Any:
    return value if isinstance(value, Reward) else build_reward(value)


RewardRef = Annotated[Reward, pydantic.BeforeValidator(_coerce_reward)]
"""Type hint for factory parameters that take a reward: accepts a spec or a built reward."""


def _format_validation_error(name: str, exc: pydantic.ValidationError, known: list[str]) -> str:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(spec)"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown field {loc!r}{did_you_mean(str(err['loc'][0]), known)} "
                            f"(fields of {name}: {', '.join(known)})")
        elif err["type"] == "missing":
            problems.append(f"missing required field {loc!r}")
        else:
            problems.append(f"field {loc!r}: {err['msg']}")
    return f"reward {name!r}: " + "; ".join(problems)


def _check_numbers(value: Any, where: str) -> None:
    """Refuse NaN and infinities anywhere in a field, and non-positive timeouts.

    A NaN deadline or weight does not fail loudly downstream: it silently disables a timeout or
    poisons every score, so it is caught here with the field's name.
    """
    if isinstance(value, bool):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"field {where!r} must be a finite number, got {value!r}")
    if isinstance(value, int | float) and where.rsplit(".", 1)[-1].endswith("timeout") \
            and value <= 0:
        raise SpecError(f"field {where!r} must be a positive number of seconds, got {value!r}")
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _check_numbers(sub, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, sub in enumerate(value):
            _check_numbers(sub, f"{where}.{i}")


def build_reward(spec: str | Mapping[str, Any] | Reward) -> Reward:
    """Build a reward from a reward spec: a name, or a mapping with ``name`` plus fields.

    Raises:
        SpecError: the spec is malformed, names an unknown reward, or has a bad field.
    """
    if isinstance(spec, Reward):
        return spec
    if isinstance(spec, str):
        name, fields = spec.strip(), {}
    elif isinstance(spec, Mapping):
        if "name" not in spec:
            hint = (" (a spec document such as {reward: ...} or {rewards: ...} goes at the top "
                    "level only)" if set(spec) & {"reward", "rewards"} else "")
            raise SpecError(f"reward spec needs a 'name' field, got keys {sorted(map(str, spec))}"
                            + hint)
        name = spec["name"]
        fields = {k: v for k, v in spec.items() if k != "name"}
    else:
        raise SpecError(f"a reward spec is a name or a mapping, got {type(spec).__name__}")
    if not isinstance(name, str):
        raise SpecError(f"field 'name' must be a string, got {name!r}")
    try:
        entry = get_reward_factory(name)
    except KeyError as exc:
        raise SpecError(str(exc.args[0])) from None
    try:  # an options block (`options: {samples: 3}`) means the same as its flat keys
        fields = lift_option_blocks(entry.factory, fields)
    except ValueError as exc:
        raise SpecError(f"reward {name!r}: {exc}") from None

    for key, value in fields.items():
        try:
            _check_numbers(value, str(key))
        except SpecError as exc:
            raise SpecError(f"reward {name!r}: {exc}") from None
    params = factory_parameters(entry.factory)
    model = pydantic.create_model(
        f"{name}_spec",
        __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **params,  # type: ignore[arg-type]
    )
    try:
        validated = model.model_validate(dict(fields))
    except pydantic.ValidationError as exc:
        raise SpecError(_format_validation_error(name, exc, list(params))) from None
    try:
        kwargs = bundle_options(entry.factory, {k: getattr(validated, k) for k in fields})
        reward = entry.factory(**kwargs)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"reward {name!r}: {exc}") from None
    if not isinstance(reward, Reward):
        raise SpecError(f"factory for {name!r} returned a {type(reward).__name__}, not a Reward")
    return reward


def _check_shape(data: Any) -> None:
    """Refuse self-referencing, too deep or (after alias expansion) too large structures."""
    nodes = 0
    stack: list[tuple[Any, int, frozenset[int]]] = [(data, 0, frozenset())]
    while stack:
        value, depth, parents = stack.pop()
        nodes += 1
        if nodes > MAX_SPEC_NODES:
            raise SpecError(f"the spec is too large: more than {MAX_SPEC_NODES} values once its "
                            "YAML aliases are expanded")
        if depth > MAX_SPEC_DEPTH:
            raise SpecError(f"the spec is nested deeper than {MAX_SPEC_DEPTH} levels")
        if isinstance(value, Mapping | list):
            if id(value) in parents:
                raise SpecError("the spec refers to itself (a recursive YAML anchor/alias)")
            inner = parents | {id(value)}
            children = value.values() if isinstance(value, Mapping) else value
            stack.extend((child, depth + 1, inner) for child in children)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing duplicate keys (YAML keeps the last one silently, so
    ``reward: a`` followed by ``reward: b`` would score with ``b`` without a word)."""


def _strict_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` merges; its keys may be overridden on purpose
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: the constructor below reports it
            continue
        if duplicate:
            raise SpecError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}: "
                            "YAML would silently keep only the last one")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _strict_mapping)


def load_spec(source: str | Path | Mapping[str, Any]) -> Any:
    """Read a spec from a mapping, a YAML/JSON file path, or YAML/JSON text.

    Raises:
        SpecError: missing file, unparseable, empty, oversized, too deep or recursive text.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
        _check_shape(data)
        return data
    text: str
    path = Path(source) if isinstance(source, Path) or "\n" not in str(source) else None
    try:
        is_file = path is not None and path.is_file()
    except OSError:  # e.g. an inline spec too long to be a file name
        is_file = False
    if is_file:
        assert path is not None
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"spec file {path} is larger than {MAX_SPEC_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    elif isinstance(source, Path) or str(source).endswith((".yaml", ".yml", ".json")):
        raise SpecError(f"spec file not found: {source}")
    else:
        text = str(source)
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is larger than {MAX_SPEC_BYTES} bytes")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:  # YAML, which also covers flow mappings such as {name: exact_match}
            data = yaml.load(text, Loader=_StrictLoader)
        except yaml.YAMLError as exc:
            if "recursive" in str(exc):
                raise SpecError("the spec refers to itself (a recursive YAML anchor/alias): "
                                f"{exc}") from None
            raise SpecError(f"cannot parse spec: {exc}") from None
        except RecursionError:
            raise SpecError(f"the spec is nested deeper than {MAX_SPEC_DEPTH} levels") from None
    except RecursionError:
        raise SpecError(f"the spec is nested deeper than {MAX_SPEC_DEPTH} levels") from None
    if data is None:
        raise SpecError("the spec is empty")
    _check_shape(data)
    return data


def _document_parts(data: Any) -> tuple[str, Any]:
    """Classify a loaded spec document: ``("reward", spec)`` or ``("rewards", {alias: spec})``."""
    if isinstance(data, str) or (isinstance(data, Mapping) and "name" in data):
        return "reward", data  # a bare reward spec
    if not isinstance(data, Mapping):
        raise SpecError("a spec is a reward name, a {name: ..., <fields>} mapping, or a mapping "
                        f"with 'reward' or 'rewards'; got {type(data).__name__}")
    unknown = [str(k) for k in data if k not in TOP_LEVEL_KEYS]
    if unknown:
        first = unknown[0]
        raise SpecError(
            f"unknown top-level key {first!r}{did_you_mean(first, TOP_LEVEL_KEYS)}; a spec has "
            f"{', '.join(repr(k) for k in TOP_LEVEL_KEYS)} at the top level (or is one reward "
            "spec with a 'name' key)")
    if "serve" in data:  # server settings: the same number rules as reward fields
        _check_numbers(data["serve"], "serve")
    trainers = data.get("trainers")
    if trainers is not None and not (isinstance(trainers, Mapping) and all(
            isinstance(v, Mapping) for v in trainers.values())):
        raise SpecError("field 'trainers' must map trainer names to mappings of choices, e.g. "
                        "{verl: {estimator: rewardlab_grpo}}")
    if "reward" in data and "rewards" in data:
        raise SpecError("a spec has either 'reward' (one reward) or 'rewards' (named rewards), "
                        "not both")
    if "reward" in data:
        return "reward", data["reward"]
    if "rewards" in data:
        named = data["rewards"]
        if not isinstance(named, Mapping) or not named:
            raise SpecError("field 'rewards' must be a non-empty mapping of alias -> spec")
        return "rewards", named
    raise SpecError("the spec has no 'reward' or 'rewards' key (only "
                    f"{', '.join(map(repr, map(str, data)))})")


def declares_aliases(data: Any) -> bool:
    """True when a loaded spec document is ``rewards: {alias: spec}`` (several named rewards)."""
    return _document_parts(data)[0] == "rewards"


def single_reward_spec(source: str | Path | Mapping[str, Any]) -> Any:
    """The one reward spec (name or mapping) a spec document declares, unbuilt.

    Raises:
        SpecError: the document is malformed or declares named rewards.
    """
    kind, spec = _document_parts(load_spec(source))
    if kind == "rewards":
        if len(spec) == 1:
            return next(iter(spec.values()))
        raise SpecError(f"expected one reward, the spec declares {len(spec)}: {sorted(spec)}")
    return spec


def rewards_from_spec(source: str | Path | Mapping[str, Any]) -> dict[str, Reward]:
    """Build every reward a spec document declares, by alias.

    ``reward: X`` (or a bare reward spec) gives one reward under its registry name; ``rewards:
    {alias: spec}`` gives one per alias.
    """
    kind, spec = _document_parts(load_spec(source))
    if kind == "rewards":
        out = {}
        for alias, sub in spec.items():
            try:
                out[str(alias)] = build_reward(sub)
            except SpecError as exc:
                raise SpecError(f"rewards.{alias}: {exc}") from None
        return out
    reward = build_reward(spec)
    return {reward.name or type(reward).__name__: reward}


def reward_from_spec(source: str | Path | Mapping[str, Any]) -> Reward:
    """Build the single reward a spec declares (error if it declares several)."""
    rewards = rewards_from_spec(source)
    if len(rewards) != 1:
        raise SpecError(f"expected one reward, the spec declares {len(rewards)}: {sorted(rewards)}")
    return next(iter(rewards.values()))
