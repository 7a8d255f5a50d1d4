"""``rewardlab export trl``: Python building ``reward_funcs`` and GRPO/RLOO config arguments."""

from __future__ import annotations

from pathlib import Path

from rewardlab.integrations.exports import EXPORTS, Export, ExportOptions


@EXPORTS.register("trl")
def export_trl(spec: Path, options: ExportOptions) -> Export:
    """Code to paste into a TRL training script."""
    from rewardlab.integrations.common import get_plan
    from rewardlab.integrations.trl import grpo_config_kwargs, rloo_config_kwargs

    if options.estimator is not None or options.manager is not None:
        raise ValueError("--estimator/--manager apply to verl and openrlhf; TRL's method "
                         "follows from the trainer class and its config")
    plan = get_plan(str(spec))
    text = ("from rewardlab.integrations.trl import (grpo_config_kwargs, rloo_config_kwargs,\n"
            "                                        trl_reward_funcs)\n"
            f"reward_funcs = trl_reward_funcs({str(spec)!r})\n"
            f"grpo_kwargs = {grpo_config_kwargs(str(spec))!r}  # = grpo_config_kwargs(spec)\n"
            f"rloo_kwargs = {rloo_config_kwargs(str(spec))!r}  # = rloo_config_kwargs(spec)\n"
            "args = GRPOConfig(..., **grpo_kwargs)  # or RLOOConfig(..., **rloo_kwargs)")
    notes = [n for n in (plan.trainer_settings("trl").get("note"),
                         plan.trainer_settings("rloo").get("note")) if n]
    return Export(text, notes)
