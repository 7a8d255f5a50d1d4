"""Trainer exports: what ``rewardlab export TRAINER SPEC`` prints for each trainer.

Each module here registers one exporter in :data:`EXPORTS`; third-party packages add theirs
through the ``rewardlab.exports`` entry-point group. An exporter takes the spec path and
:class:`ExportOptions` and returns an :class:`Export`: the text the trainer consumes (stdout)
and notes for the user (stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rewardlab.extensions import NamedRegistry


@dataclass(frozen=True)
class ExportOptions:
    """Settings from the command line; each exporter rejects those that do not apply to it.

    Args:
        output: A file the exporter writes (OpenRLHF's reward_func file).
        failure_score: Score given to failed outcomes where the trainer needs a number.
        estimator: Advantage estimator to use instead of the spec's.
        manager: Reward manager to use instead of rewardlab's.
        score_range: Reward range mapped onto a trainer's 0-1 filter score.
    """

    output: Path | None = None
    failure_score: float = 0.0
    estimator: str | None = None
    manager: str | None = None
    score_range: tuple[float, float] = (0.0, 1.0)


@dataclass
class Export:
    """What an exporter produced: ``text`` for stdout, ``notes`` for stderr."""

    text: str
    notes: list[str] = field(default_factory=list)


Exporter = Callable[[Path, ExportOptions], Export]

EXPORTS: NamedRegistry[Exporter] = NamedRegistry(
    "trainer export", "rewardlab.integrations.exports", "rewardlab.exports")
"""Trainer name -> exporter."""

__all__ = ["EXPORTS", "Export", "ExportOptions", "Exporter"]
