"""``--plugin MODULE``: import user modules that register rewards, for every command.

A reward registered with ``@register("name")`` in the user's own module exists only once that
module is imported; the registry imports only rewardlab's modules and the ``rewardlab.rewards``
entry points. Every command that builds rewards adds ``--plugin`` with
:func:`add_plugin_argument`, and ``rewardlab.cli.main`` calls :func:`load_plugins` before the
command runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from rewardlab.errors import RewardlabError


class PluginError(RewardlabError):
    """A ``--plugin`` module that cannot be imported; the message says why and what to try."""


def add_plugin_argument(parser: argparse.ArgumentParser) -> None:
    """Add the shared ``--plugin MODULE`` flag (repeatable) to a command's parser."""
    parser.add_argument(
        "--plugin", action="append", default=[], metavar="MODULE",
        help="import MODULE first so the rewards it registers can be used: a module name "
             "(found in the current directory or on PYTHONPATH) or a path to a .py file; "
             "repeatable. Installed packages can instead register through the "
             "'rewardlab.rewards' entry-point group")


def _module_name(plugin: str) -> str:
    """A plugin given as a file path: put its folder on ``sys.path`` and return its module name.

    Importing by name (not from a file location) keeps the reward classes picklable, so the
    engine's worker processes (which inherit ``sys.path``) can import them too.
    """
    if plugin.endswith(".py") or os.sep in plugin:
        path = Path(plugin).expanduser().resolve()
        if not path.is_file():
            raise PluginError(f"plugin file not found: {plugin}")
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return path.stem
    return plugin


def load_plugins(plugins: Sequence[str]) -> list[str]:
    """Import each plugin (a module name or a .py path); return the module names imported.

    The current directory is searched too (the ``rewardlab`` console script, unlike
    ``python -m``, does not put it on ``sys.path``).

    Raises:
        PluginError: a plugin is missing or fails while importing.
    """
    if plugins and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    names = []
    for plugin in plugins:
        name = _module_name(plugin.strip())
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name and not name.startswith(f"{exc.name}."):
                raise PluginError(f"plugin {plugin!r} imports a missing module: {exc}") from None
            raise PluginError(
                f"cannot import plugin {plugin!r}: no module {name!r} in the current directory "
                "or on PYTHONPATH (pass a path such as ./my_rewards.py, or pip install the "
                "package that provides it)") from None
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            raise PluginError(f"plugin {plugin!r} failed while importing: "
                              f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})"
                              ) from None
        names.append(name)
    return names
