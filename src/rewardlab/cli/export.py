"""``rewardlab export``: wire one reward spec into verl, TRL or OpenRLHF."""

from __future__ import annotations

import argparse
from pathlib import Path

from rewardlab.cli._plugins import add_plugin_argument
from rewardlab.spec import SpecError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="print (or write) what a trainer needs to use a reward spec",
        description="verl: Hydra overrides; trl: Python to build reward_funcs and GRPOConfig; "
                    "openrlhf: writes a reward_func .py file (-o) and prints the flags.")
    p.add_argument("trainer", choices=["verl", "trl", "openrlhf"])
    p.add_argument("spec", type=Path, help="the reward spec file (YAML or JSON)")
    p.add_argument("-o", "--output", type=Path,
                   help="openrlhf: the reward_func file to write (default reward_func.py)")
    p.add_argument("--failure-score", type=float, default=0.0,
                   help="score given to failed outcomes by verl/OpenRLHF (default 0.0)")
    add_plugin_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rewardlab.integrations.common import get_plan, get_plans

    spec = args.spec.resolve()
    try:
        if args.trainer == "verl":  # verl routes `rewards:` aliases by data_source
            plans = list(get_plans(str(spec))[0].values())
            settings = [p.trainer_settings("verl") for p in plans]
            if any(s != settings[0] for s in settings):
                raise ValueError("the spec's aliases need different verl advantage settings; "
                                 "use one advantage method for all data sources")
            plan = plans[0]
        else:
            plan = get_plan(str(spec))
        if args.trainer == "openrlhf":
            from rewardlab.integrations.openrlhf import write_reward_func_file

            out = write_reward_func_file(spec, args.output or Path("reward_func.py"),
                                         args.failure_score)
            print(f"wrote {out}")
            settings = plan.trainer_settings("openrlhf")
            print(f"  --reward.remote_url {out.resolve()} "
                  f"--advantage_estimator {settings['--advantage_estimator']}")
        elif args.trainer == "verl":
            import rewardlab.integrations.verl as verl_module

            settings = plan.trainer_settings("verl")
            batch = settings.get("reward_model.reward_manager") == "batch"
            lines = [f"custom_reward_function.path={verl_module.__file__}",
                     "custom_reward_function.name="
                     + ("compute_score_batch" if batch else "compute_score"),
                     f"+custom_reward_function.reward_kwargs.spec={spec}"]
            if args.failure_score:
                lines.append("+custom_reward_function.reward_kwargs.failure_score="
                             f"{args.failure_score}")
            lines += [f"{k}={v}" for k, v in settings.items() if k != "note"]
            print(" \\\n".join(lines))
        else:
            from rewardlab.integrations.trl import grpo_config_kwargs

            print("from rewardlab.integrations.trl import grpo_config_kwargs, trl_reward_funcs\n"
                  f"reward_funcs = trl_reward_funcs({str(spec)!r})\n"
                  f"config_kwargs = {grpo_config_kwargs(str(spec))!r}  "
                  "# = grpo_config_kwargs(spec)\n"
                  "args = GRPOConfig(..., **config_kwargs)")
        note = plan.trainer_settings(args.trainer).get("note")
        if note:
            print(f"note: {note}")
    except (SpecError, OSError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    return 0
