"""Names -> reward factories, so that a spec file can build any reward.

A factory is a ``Reward`` subclass or a function returning a ``Reward``, registered with
:func:`register`. Its keyword parameters (with type hints) are the spec's fields; they are
validated with pydantic, so a bad spec gets an error that names the field.

Built-in rewards live in the packages (or modules) listed in ``_BUILTIN_PACKAGES``; every
module in them is imported on first lookup, so adding a reward is adding a module, with no
central list to edit.
Third-party packages register through the ``rewardlab.rewards`` entry-point group.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import logging
import pkgutil
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from rewardlab.reward import Reward

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
OptionsT = TypeVar("OptionsT")

_BUILTIN_PACKAGES = (
    "rewardlab.verifiers",
    "rewardlab.reward_models",
    "rewardlab.judges",
    "rewardlab.compose",
    "rewardlab.search",
    "rewardlab.prm",
    "rewardlab.evaluate.baselines",
)


@dataclass(frozen=True)
class RegisteredReward:
    """A registry entry: the name, the factory and its one-line summary."""

    name: str
    factory: Callable[..., Reward]
    summary: str


_registry: dict[str, RegisteredReward] = {}
_import_errors: dict[str, str] = {}
_discovered = False
_lock = threading.RLock()


def register(name: str) -> Callable[[F], F]:
    """Register a reward factory (a ``Reward`` subclass or a function) under ``name``.

    Example::

        @register("exact_match")
        class ExactMatch(CpuReward): ...
    """

    def decorate(factory: F) -> F:
        with _lock:
            existing = _registry.get(name)
            if existing is not None and existing.factory is not factory:
                raise ValueError(f"reward name {name!r} is already registered")
            doc = inspect.getdoc(factory) or ""
            summary = " ".join(doc.split("\n\n", 1)[0].split())  # the first paragraph
            _registry[name] = RegisteredReward(name, factory, summary)
        if isinstance(factory, type) and issubclass(factory, Reward):
            factory.name = name
        return factory

    return decorate


def _discover() -> None:
    global _discovered
    with _lock:
        if _discovered:
            return
        _discovered = True
        for package_name in _BUILTIN_PACKAGES:
            try:
                package = importlib.import_module(package_name)
            except ModuleNotFoundError:
                continue
            except Exception as exc:  # e.g. an optional extra missing
                _import_errors[package_name] = f"{type(exc).__name__}: {exc}"
                continue
            if not hasattr(package, "__path__"):
                continue  # a plain module: importing it registered its rewards
            for info in pkgutil.walk_packages(package.__path__, package_name + "."):
                if info.name.rsplit(".", 1)[-1].startswith("_"):
                    continue
                try:
                    importlib.import_module(info.name)
                except Exception as exc:  # a missing optional extra must not hide other rewards
                    _import_errors[info.name] = f"{type(exc).__name__}: {exc}"
                    log.debug("could not import %s: %s", info.name, exc)
        for ep in importlib.metadata.entry_points(group="rewardlab.rewards"):
            try:
                ep.load()
            except Exception as exc:
                _import_errors[f"entry point {ep.name}"] = f"{type(exc).__name__}: {exc}"


def available_rewards() -> dict[str, RegisteredReward]:
    """All registered rewards, by name (sorted)."""
    _discover()
    return dict(sorted(_registry.items()))


def get_reward_factory(name: str) -> RegisteredReward:
    """Look up a reward by name; the error lists the known names."""
    _discover()
    try:
        return _registry[name]
    except KeyError:
        import difflib

        known = ", ".join(sorted(_registry)) or "(none)"
        close = difflib.get_close_matches(name, list(_registry), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        msg = f"unknown reward {name!r}{hint}; known rewards: {known}"
        if _import_errors:
            failed = "; ".join(f"{m} ({e})" for m, e in sorted(_import_errors.items()))
            msg += f". Some reward modules could not be imported: {failed}"
        raise KeyError(msg) from None


def _args_section(doc: str) -> dict[str, str]:
    """``{name: description}`` from a Google-style ``Args:`` section."""
    out: dict[str, str] = {}
    current: str | None = None
    indent: int | None = None  # indentation of the section header
    for line in doc.splitlines():
        stripped = line.strip()
        line_indent = len(line) - len(line.lstrip())
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            indent, current = line_indent, None
            continue
        if indent is None or not stripped:
            continue
        if line_indent <= indent:
            indent, current = None, None  # the next section (Returns:, Raises:, prose) starts
            continue
        head, sep, text = stripped.partition(":")
        key = head.split("(")[0].strip().strip("*`")
        if sep and key.isidentifier() and (current is None or line_indent <= indent + 4):
            current = key
            out[current] = text.strip()
        elif current is not None:
            out[current] = f"{out[current]} {stripped}".strip()
    return out


def field_descriptions(factory: Callable[..., Any]) -> dict[str, str]:
    """Each spec field's description, from the ``Args:`` section of the factory's docstring.

    Classes are read from the class docstring, then from ``__init__``'s, then from their base
    classes' (so ``timeout`` is described by ``CpuReward``); the first description wins, and a
    field no docstring describes is absent from the result.
    """
    docs = [inspect.getdoc(factory) or ""]
    if isinstance(factory, type):
        for cls in factory.__mro__:
            init = cls.__dict__.get("__init__")
            docs.append(inspect.cleandoc(cls.__doc__ or ""))
            docs.append((inspect.getdoc(init) or "") if init else "")
    docs += [inspect.cleandoc(type(d).__doc__ or "") for d in options_parameters(factory).values()]
    out: dict[str, str] = {}
    for doc in docs:
        for key, text in _args_section(doc).items():
            out.setdefault(key, text)
    return out


def spec_options(cls: type[OptionsT]) -> type[OptionsT]:
    """Mark a dataclass as an options object declared once for many factories.

    A factory parameter annotated with such a class appears in the factory's spec schema as the
    dataclass's fields (flat keys, defaulting to the parameter's default instance), and a spec
    may also give them as one nested block under the parameter's name. The fields are described
    by the dataclass's ``Args:`` docstring section.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"spec_options needs a dataclass, got {cls!r}")
    cls.__spec_options__ = True  # type: ignore[attr-defined]
    return cls


def _signature_and_hints(factory: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    target = factory.__init__ if isinstance(factory, type) else factory
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolved forward references: fall back to "any value"
        hints = {}
    return inspect.signature(target), hints


def options_parameters(factory: Callable[..., Any]) -> dict[str, Any]:
    """The factory's parameters typed as a :func:`spec_options` dataclass: ``{name: default}``
    (the default instance; a class's own defaults when the parameter has none)."""
    signature, hints = _signature_and_hints(factory)
    out: dict[str, Any] = {}
    for pname, param in signature.parameters.items():
        hint = hints.get(pname)
        if isinstance(hint, type) and getattr(hint, "__spec_options__", False):
            out[pname] = hint() if param.default is inspect.Parameter.empty else param.default
    return out


def factory_parameters(factory: Callable[..., Any]) -> dict[str, tuple[Any, Any]]:
    """The spec fields of a factory: ``{name: (type hint, default or ...)}``.

    An options parameter (see :func:`spec_options`) is listed as its dataclass's fields, with
    the parameter's default instance giving their defaults.
    """
    signature, hints = _signature_and_hints(factory)
    options = options_parameters(factory)
    fields: dict[str, tuple[Any, Any]] = {}
    for pname, param in signature.parameters.items():
        if pname == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if pname in options:
            default = options[pname]
            option_hints = typing.get_type_hints(type(default), include_extras=True)
            for f in dataclasses.fields(default):
                fields[f.name] = (option_hints.get(f.name, Any), getattr(default, f.name))
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (hints.get(pname, Any), default)
    return fields


def lift_option_blocks(factory: Callable[..., Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Spec fields with each nested options block (``options: {...}``) spread into flat keys.

    Raises:
        ValueError: a block that is not a mapping, names a key that is not an option, or sets
            an option also given as a flat key.
    """
    out = dict(fields)
    for pname, default in options_parameters(factory).items():
        if pname not in out:
            continue
        block = out.pop(pname)
        if not isinstance(block, Mapping):
            raise ValueError(f"field {pname!r} is a mapping of options, got {block!r}")
        known = [f.name for f in dataclasses.fields(default)]
        for key, value in block.items():
            if key not in known:
                raise ValueError(f"{pname}.{key} is not an option (options: {', '.join(known)})")
            if key in out:
                raise ValueError(f"option {key!r} is given both flat and in the {pname!r} block")
            out[key] = value
    return out


def bundle_options(factory: Callable[..., Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Factory keyword arguments with the flat option values gathered back into their options
    object (the parameter's default with the given fields replaced)."""
    out = dict(kwargs)
    for pname, default in options_parameters(factory).items():
        given = {f.name: out.pop(f.name) for f in dataclasses.fields(default) if f.name in out}
        if given:
            out[pname] = dataclasses.replace(default, **given)
    return out
