"""Ctrl-C: end a long command with one line that says how to pick up where it stopped."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence


def resume_command(argv: Sequence[str]) -> str:
    """The command line to run again, with ``--resume`` added if it was not there."""
    words = ["rewardlab", *argv]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(words)


def report_interrupt(command: str, argv: Sequence[str] | None, resumable: bool,
                     done: str = "") -> int:
    """Print the one-line interrupt notice to stderr and return the shell's code for SIGINT.

    Args:
        command: The subcommand (``score``, ``eval``).
        argv: The command's arguments as typed (``None``: unknown, no command shown).
        resumable: Whether ``--resume`` can continue (``score`` to stdout cannot).
        done: What was saved so far, e.g. ``"12 rows in out.jsonl"``.
    """
    saved = f" ({done})" if done else ""
    if resumable and argv is not None:
        hint = f"; continue with: {resume_command(argv)}"
    elif resumable:
        hint = "; run the same command with --resume to continue"
    else:
        hint = "; nothing is resumable without -o OUTPUT"
    print(f"rewardlab {command}: interrupted{saved}{hint}", file=sys.stderr)
    return 130
