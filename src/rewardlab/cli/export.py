"""``rewardlab export``: wire one reward spec into verl, TRL or OpenRLHF.

stdout carries only what the trainer consumes (Hydra overrides, Python, flags); notes about
what a trainer cannot do exactly go to stderr, so ``$(rewardlab export verl spec.yaml)`` can be
pasted into a command line as is.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rewardlab.cli._plugins import add_plugin_argument
from rewardlab.spec import SpecError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="print (or write) what a trainer needs to use a reward spec",
        description="verl: Hydra overrides for verl 0.9's ppo_trainer config; trl: Python "
                    "building reward_funcs and GRPOConfig/RLOOConfig arguments; openrlhf: "
                    "writes a reward_func .py file (-o) and prints OpenRLHF 0.11 flags. "
                    "Notes go to stderr. See docs/trainers.md.")
    p.add_argument("trainer", choices=["verl", "trl", "openrlhf"])
    p.add_argument("spec", type=Path, help="the reward spec file (YAML or JSON)")
    p.add_argument("-o", "--output", type=Path,
                   help="openrlhf: the reward_func file to write (default reward_func.py)")
    p.add_argument("--failure-score", type=float, default=0.0,
                   help="score given to failed outcomes by verl/OpenRLHF (default 0.0)")
    add_plugin_argument(p)
    p.add_argument("--estimator",
                   help="verl: algorithm.adv_estimator / openrlhf: --algo.advantage.estimator "
                        "to use instead of the spec's (checked against the installed trainer)")
    p.add_argument("--manager",
                   help="verl: a registered reward-loop manager (e.g. naive) instead of "
                        "rewardlab's (checked against the installed verl)")
    p.add_argument("--score-range", type=float, nargs=2, default=(0.0, 1.0),
                   metavar=("LOW", "HIGH"),
                   help="openrlhf: reward range mapped onto the 0-1 `scores` (default 0 1)")
    p.set_defaults(func=run)


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    spec = args.spec.resolve()
    try:
        if args.trainer == "verl":
            from rewardlab.integrations.verl import verl_overrides

            lines, notes = verl_overrides(spec, failure_score=args.failure_score,
                                          estimator=args.estimator, manager=args.manager)
            print(" \\\n".join(shlex.quote(line) for line in lines))
        elif args.trainer == "openrlhf":
            notes = _openrlhf(args, spec)
        else:
            notes = _trl(args, spec)
        for note in notes:
            _note(note)
    except (SpecError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _openrlhf(args: argparse.Namespace, spec: Path) -> list[str]:
    if args.manager is not None:
        raise ValueError("--manager applies to verl")
    from rewardlab.integrations.common import get_plan
    from rewardlab.integrations.openrlhf import (
        check_openrlhf_estimator,
        flag_words,
        write_reward_func_file,
    )

    settings = get_plan(str(spec)).trainer_settings("openrlhf")
    notes = [settings.pop("note")] if "note" in settings else []
    from rewardlab.integrations.verl import trainer_section

    estimator = args.estimator or trainer_section(spec, "openrlhf").get("estimator")
    if estimator is not None:
        check_openrlhf_estimator(estimator)
        settings["--algo.advantage.estimator"] = estimator
    out = write_reward_func_file(spec, args.output or Path("reward_func.py"),
                                 args.failure_score, tuple(args.score_range))
    words = ["--reward.remote_url", str(out.resolve()), *flag_words(settings)]
    print(" ".join(shlex.quote(w) for w in words))
    notes.append(f"wrote {out}; --algo.dynamic_filtering_enable drops the prompt groups that "
                 "hold a failed sample (needs --rollout.n_samples_per_prompt > 1)")
    return notes


def _trl(args: argparse.Namespace, spec: Path) -> list[str]:
    from rewardlab.integrations.common import get_plan
    from rewardlab.integrations.trl import grpo_config_kwargs, rloo_config_kwargs

    if args.estimator is not None or args.manager is not None:
        raise ValueError("--estimator/--manager apply to verl and openrlhf; TRL's method "
                         "follows from the trainer class and its config")
    plan = get_plan(str(spec))
    print("from rewardlab.integrations.trl import (grpo_config_kwargs, rloo_config_kwargs,\n"
          "                                        trl_reward_funcs)\n"
          f"reward_funcs = trl_reward_funcs({str(spec)!r})\n"
          f"grpo_kwargs = {grpo_config_kwargs(str(spec))!r}  # = grpo_config_kwargs(spec)\n"
          f"rloo_kwargs = {rloo_config_kwargs(str(spec))!r}  # = rloo_config_kwargs(spec)\n"
          "args = GRPOConfig(..., **grpo_kwargs)  # or RLOOConfig(..., **rloo_kwargs)")
    return [n for n in (plan.trainer_settings("trl").get("note"),
                        plan.trainer_settings("rloo").get("note")) if n]
