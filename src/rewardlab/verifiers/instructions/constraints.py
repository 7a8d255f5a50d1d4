"""The constraint registry: instruction id -> checker, with validated keyword arguments.

A checker is a plain function ``check(text, **kwargs) -> bool`` registered with
:func:`constraint`. Its keyword-only parameters (with type hints and defaults) are the
instruction's kwargs; they are validated with pydantic when a reference is read, so an unknown
argument, a missing one or a value of the wrong type is a :class:`BadInstruction` (the reward
turns it into ``bad_reference``), never a crash in the middle of scoring.

Strict and loose evaluation follow IFEval's definition: strict checks the response as given;
loose passes when any of eight variants passes (the response, without its first line, without
its last line, without both, and each of those with every ``*`` removed). In both modes an
empty (whitespace-only) text never follows an instruction.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from rewardlab.errors import RewardlabError

Check = Callable[..., bool]


class BadInstruction(RewardlabError, ValueError):
    """An instruction id nobody registered, or kwargs its checker cannot take."""


class Unavailable(BadInstruction):
    """A known instruction whose checker needs data that is not installed here."""


class Undecidable(RewardlabError, ValueError):
    """The text gives a checker nothing to decide on (e.g. no letters to detect a language
    from). IFEval's official checker counts such an instruction as followed; the caller picks
    the policy."""


@dataclass(frozen=True)
class Constraint:
    """A registered checker.

    Args:
        id: The instruction id (``family:name``).
        check: ``check(text, **kwargs) -> bool``.
        params: The pydantic model that validates the kwargs.
        family: ``ifeval`` or ``ifbench`` (where the id comes from).
    """

    id: str
    check: Check
    params: type[pydantic.BaseModel]
    family: str
    validate: Callable[[dict[str, Any]], str | None] | None = None

    def bind(self, kwargs: Mapping[str, Any] | None) -> BoundCheck:
        """Validate kwargs (``None`` values dropped, as IFEval's harness does)."""
        given = {k: v for k, v in (kwargs or {}).items() if v is not None}
        try:
            model = self.params(**given)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(kwargs)'}: {e['msg']}"
                for e in exc.errors())
            raise BadInstruction(f"{self.id}: invalid kwargs: {problems}") from None
        except TypeError as exc:
            raise BadInstruction(f"{self.id}: invalid kwargs: {exc}") from None
        values = model.model_dump()
        problem = self.validate(values) if self.validate is not None else None
        if problem:
            raise BadInstruction(f"{self.id}: invalid kwargs: {problem}")
        return BoundCheck(self, values)


@dataclass(frozen=True)
class BoundCheck:
    """A constraint with validated kwargs, ready to check texts."""

    constraint: Constraint
    kwargs: dict[str, Any]

    @property
    def id(self) -> str:
        """The instruction id."""
        return self.constraint.id

    def follows(self, text: str, undecidable: bool = True) -> bool:
        """Whether one text follows the instruction (empty text never does).

        Args:
            text: The text to check.
            undecidable: The verdict when the checker has nothing to decide on (IFEval: True).
        """
        if not text.strip():
            return False
        try:
            return bool(self.constraint.check(text, **self.kwargs))
        except Undecidable:
            return undecidable

    def strict(self, response: str, undecidable: bool = True) -> bool:
        """IFEval's strict verdict: the response as given."""
        return self.follows(response, undecidable)

    def loose(self, response: str, undecidable: bool = True) -> bool:
        """IFEval's loose verdict: any of the eight relaxed variants follows the instruction."""
        return any(self.follows(v, undecidable) for v in loose_variants(response))


def loose_variants(response: str) -> list[str]:
    """IFEval's loose-mode variants, in its order (the response itself first)."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    plain = [response, without_first, without_last, without_both]
    return plain[:1] + [response.replace("*", "")] + plain[1:] + [
        v.replace("*", "") for v in plain[1:]]


CONSTRAINTS: dict[str, Constraint] = {}
_FAMILY_MODULES = ("ifeval_checks", "ifbench_checks")
_loaded = False


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


def constraint(instruction_id: str, family: str,
               validate: Callable[[dict[str, Any]], str | None] | None = None,
               ) -> Callable[[Check], Check]:
    """Register ``check(text, *, kwarg: type = default, ...) -> bool`` under an instruction id.

    Args:
        instruction_id: The id references use.
        family: Where the id comes from (``ifeval``, ``ifbench``).
        validate: Cross-field checks of the kwargs: returns a problem, or None when fine.
    """

    def decorate(fn: Check) -> Check:
        if instruction_id in CONSTRAINTS and CONSTRAINTS[instruction_id].check is not fn:
            raise ValueError(f"instruction {instruction_id!r} is already registered")
        hints = typing.get_type_hints(fn, include_extras=True)
        fields: dict[str, Any] = {}
        for name, param in list(inspect.signature(fn).parameters.items())[1:]:
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (hints.get(name, Any), default)
        model = pydantic.create_model(  # type: ignore[call-overload]
            f"Kwargs_{instruction_id.replace(':', '_')}", __base__=_Strict, **fields)
        CONSTRAINTS[instruction_id] = Constraint(instruction_id, fn, model, family, validate)
        return fn

    return decorate


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in _FAMILY_MODULES:
            importlib.import_module(f"{__package__}.{name}")
        _loaded = True


def available_constraints(family: str | None = None) -> dict[str, Constraint]:
    """Registered constraints by id (optionally one family), sorted."""
    _load()
    return {k: v for k, v in sorted(CONSTRAINTS.items()) if family in (None, v.family)}


def get_constraint(instruction_id: str) -> Constraint:
    """Look up a constraint; an unknown id is a :class:`BadInstruction`."""
    _load()
    if not isinstance(instruction_id, str):
        raise BadInstruction(f"an instruction id must be text, got {type(instruction_id).__name__}")
    found = CONSTRAINTS.get(instruction_id.strip())
    if found is None:
        raise BadInstruction(f"unknown instruction id {instruction_id!r}")
    return found


def bind(instruction_id: str, kwargs: Mapping[str, Any] | None = None) -> BoundCheck:
    """The checker for an instruction id with validated kwargs."""
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise BadInstruction(f"{instruction_id}: kwargs must be an object, "
                             f"got {type(kwargs).__name__}")
    return get_constraint(instruction_id).bind(kwargs)
