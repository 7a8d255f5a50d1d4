"""``rewardlab export verl``: Hydra overrides for verl 0.9's ppo_trainer config."""

from __future__ import annotations

import shlex
from pathlib import Path

from rewardlab.integrations.exports import EXPORTS, Export, ExportOptions


@EXPORTS.register("verl")
def export_verl(spec: Path, options: ExportOptions) -> Export:
    """Overrides (one per line, shell-quoted) naming rewardlab's function and manager."""
    from rewardlab.integrations.verl import verl_overrides

    lines, notes = verl_overrides(spec, failure_score=options.failure_score,
                                  estimator=options.estimator, manager=options.manager)
    return Export(" \\\n".join(shlex.quote(line) for line in lines), list(notes))
