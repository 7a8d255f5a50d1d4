"""Named extension points: every kind of plug-in registers itself by name, as rewards do.

A :class:`NamedRegistry` holds one kind of extension (trainer exports, LLM backends, PRM
scorers...). Built-in members live in one package and register when their module is imported;
third-party members register through an entry-point group. Adding one is adding one module::

    EXPORTS = NamedRegistry("trainer export", "rewardlab.integrations.exports",
                            "rewardlab.exports")

    @EXPORTS.register("mytrainer")
    def export_mytrainer(spec, options): ...

and, in a third-party package's ``pyproject.toml``::

    [project.entry-points."rewardlab.exports"]
    mytrainer = "my_package.export_module"
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
import pkgutil
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from rewardlab.errors import RewardlabError

log = logging.getLogger(__name__)
T = TypeVar("T")


class UnknownExtension(RewardlabError, KeyError):
    """A name no member of the registry answers to; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NamedRegistry(Generic[T]):
    """Members of one extension kind, by name.

    Args:
        kind: What a member is, for messages ("trainer export").
        package: Package whose modules are the built-in members (imported on first lookup;
            modules whose names start with ``_`` are skipped).
        entry_point_group: Entry-point group third-party members register through.
    """

    def __init__(self, kind: str, package: str, entry_point_group: str) -> None:
        self.kind = kind
        self.package = package
        self.entry_point_group = entry_point_group
        self._members: dict[str, T] = {}
        self._discovered = False
        self._lock = threading.Lock()
        self.import_errors: dict[str, str] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name`` (a later registration replaces it)."""

        def decorate(obj: T) -> T:
            self._members[name] = obj
            return obj

        return decorate

    def _discover(self) -> None:
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            package = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(package.__path__, self.package + "."):
                if info.name.rsplit(".", 1)[-1].startswith("_"):
                    continue
                try:
                    importlib.import_module(info.name)
                except Exception as exc:  # an optional extra missing must not hide the others
                    self.import_errors[info.name] = f"{type(exc).__name__}: {exc}"
                    log.debug("could not import %s: %s", info.name, exc)
            for ep in importlib.metadata.entry_points(group=self.entry_point_group):
                try:
                    ep.load()
                except Exception as exc:
                    self.import_errors[f"entry point {ep.name}"] = f"{type(exc).__name__}: {exc}"

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._discover()
        return sorted(self._members)

    def get(self, name: str) -> T:
        """The member called ``name``.

        Raises:
            UnknownExtension: no such member; the message lists the names and a close match.
        """
        self._discover()
        try:
            return self._members[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._members), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownExtension(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(self.names())})"
            ) from None
