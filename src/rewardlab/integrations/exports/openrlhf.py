"""``rewardlab export openrlhf``: a reward_func file (written) and OpenRLHF 0.11 flags."""

from __future__ import annotations

import shlex
from pathlib import Path

from rewardlab.integrations.exports import EXPORTS, Export, ExportOptions


@EXPORTS.register("openrlhf")
def export_openrlhf(spec: Path, options: ExportOptions) -> Export:
    """Write the reward_func file and return the flags that point OpenRLHF at it."""
    from rewardlab.integrations.common import get_plan
    from rewardlab.integrations.openrlhf import (
        check_openrlhf_estimator,
        flag_words,
        write_reward_func_file,
    )
    from rewardlab.integrations.verl import trainer_section

    if options.manager is not None:
        raise ValueError("--manager applies to verl")
    settings = get_plan(str(spec)).trainer_settings("openrlhf")
    notes = [settings.pop("note")] if "note" in settings else []
    estimator = options.estimator or trainer_section(spec, "openrlhf").get("estimator")
    if estimator is not None:
        check_openrlhf_estimator(estimator)
        settings["--algo.advantage.estimator"] = estimator
    out = write_reward_func_file(spec, options.output or Path("reward_func.py"),
                                 options.failure_score, tuple(options.score_range))
    words = ["--reward.remote_url", str(out.resolve()), *flag_words(settings)]
    notes.append(f"wrote {out}; --algo.dynamic_filtering_enable drops the prompt groups that "
                 "hold a failed sample (needs --rollout.n_samples_per_prompt > 1)")
    return Export(" ".join(shlex.quote(w) for w in words), notes)
