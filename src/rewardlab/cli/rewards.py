"""``rewardlab rewards``: list the registered rewards and their spec fields."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import textwrap
import types
import typing
from typing import Any

from rewardlab.cli._errors import print_error
from rewardlab.cli._plugins import add_plugin_argument
from rewardlab.registry import (
    available_rewards,
    factory_parameters,
    field_descriptions,
    options_parameters,
)
from rewardlab.reward import Reward


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rewards", help="list registered rewards and their fields")
    p.add_argument("name", nargs="?", help="show the fields of one reward")
    add_plugin_argument(p)
    p.set_defaults(func=run)


def describe_type(hint: Any) -> str:
    """A readable rendering of a spec field's type hint (``RewardRef`` shows as a reward spec)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return describe_type(args[0])
    if hint is Reward:
        return "reward spec"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(describe_type(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if hint is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(describe_type(a) for a in args)}]" if args else name
    return getattr(hint, "__name__", str(hint))


def run(args: argparse.Namespace) -> int:
    rewards = available_rewards()
    if args.name:
        if args.name not in rewards:
            import difflib

            close = difflib.get_close_matches(args.name, list(rewards), n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            print_error("rewards", f"unknown reward {args.name!r}{hint} "
                                   "(`rewardlab rewards` lists them all)")
            return 2
        entry = rewards[args.name]
        print(f"{entry.name}: {entry.summary}")
        described = field_descriptions(entry.factory)
        wrap = textwrap.TextWrapper(width=max(60, shutil.get_terminal_size((100, 20)).columns),
                                    initial_indent="      ", subsequent_indent="      ")
        for field, (hint, default) in factory_parameters(entry.factory).items():
            shown = "required" if default is ... else f"default {default!r}"
            print(f"  {field}: {describe_type(hint)} ({shown})")
            if described.get(field):
                print(wrap.fill(described[field]))
        for block, default in options_parameters(entry.factory).items():
            names = ", ".join(f.name for f in dataclasses.fields(default))
            print(f"  {block}: a block of {names} (each may be given flat or inside it)")
        return 0
    width = max((len(n) for n in rewards), default=0)
    room = max(40, shutil.get_terminal_size((120, 20)).columns - width - 2)
    for name, entry in rewards.items():
        summary = entry.summary if len(entry.summary) <= room else entry.summary[:room - 1] + "…"
        print(f"{name:<{width}}  {summary}")
    return 0
