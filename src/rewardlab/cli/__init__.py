"""The ``rewardlab`` command.

Each module in this package that defines ``register(subparsers)`` adds a subcommand, and sets
``func`` (taking the parsed args, returning an exit code) as the parser default. Adding a
subcommand is adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from rewardlab.cli._errors import print_error


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand."""
    from rewardlab import __version__

    parser = argparse.ArgumentParser(
        prog="rewardlab", description="The reward layer for LLM post-training."
    )
    parser.add_argument("--version", action="version", version=f"rewardlab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rewardlab`` console script and ``python -m rewardlab``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to print a resume command
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from rewardlab.cli._plugins import PluginError, load_plugins

    try:  # before the command runs, so the rewards the plugins register exist
        args.plugin = load_plugins(getattr(args, "plugin", None) or [])
    except PluginError as exc:
        print_error(args.command, exc)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # one line, not a traceback (score/eval add a resume command)
        print(f"rewardlab {args.command}: interrupted", file=sys.stderr)
        return 130
