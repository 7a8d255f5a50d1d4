"""The one exception base of rewardlab, and how an exception becomes an outcome.

Every exception class rewardlab defines derives from :class:`RewardlabError`, so a caller can
catch anything the library raises on purpose with one ``except``. Each class also keeps its
builtin base (``SpecError`` is still a ``ValueError``), so existing ``except ValueError`` code
keeps working.

This module imports only :mod:`rewardlab.types`: the engine uses :func:`error_outcome` without
importing any reward module.
"""

from __future__ import annotations

import traceback

from rewardlab.types import Outcome, Status


class RewardlabError(Exception):
    """Base of every exception class rewardlab defines."""


def error_outcome(exc: BaseException, where: str = "") -> Outcome:
    """An ``error`` outcome describing an exception, with its traceback in ``details``."""
    prefix = f"{where}: " if where else ""
    return Outcome.fail(
        Status.ERROR,
        f"{prefix}{type(exc).__name__}: {exc}"[:500],
        exception=type(exc).__name__,
        traceback="".join(traceback.format_exception(exc))[-4000:],
    )
