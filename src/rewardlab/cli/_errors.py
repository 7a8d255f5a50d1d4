"""The one format of a CLI error: ``rewardlab <command>: error: <message>`` on stderr.

Every subcommand reports a failure it handles through :func:`print_error`, so scripts can
grep one prefix and stdout stays clean for a command's output.
"""

from __future__ import annotations

import sys


def error_line(command: str, message: object) -> str:
    """``rewardlab <command>: error: <message>`` (``command`` may be ``data pairs``)."""
    return f"rewardlab {command}: error: {message}"


def print_error(command: str, message: object) -> None:
    """Print :func:`error_line` to stderr."""
    print(error_line(command, message), file=sys.stderr)
