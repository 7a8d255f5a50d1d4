"""``rewardlab export``: wire one reward spec into a trainer (verl, TRL, OpenRLHF, plug-ins).

stdout carries only what the trainer consumes (Hydra overrides, Python, flags); notes about
what a trainer cannot do exactly go to stderr, so ``$(rewardlab export verl spec.yaml)`` can be
pasted into a command line as is. Trainers are discovered from the export registry
(:data:`rewardlab.integrations.exports.EXPORTS`), so a new trainer is a new module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error
from rewardlab.cli._plugins import add_plugin_argument
from rewardlab.extensions import UnknownExtension
from rewardlab.spec import SpecError


def register(subparsers: argparse._SubParsersAction) -> None:
    from rewardlab.integrations.exports import EXPORTS

    p = subparsers.add_parser(
        "export", help="print (or write) what a trainer needs to use a reward spec",
        description="verl: Hydra overrides for verl 0.9's ppo_trainer config; trl: Python "
                    "building reward_funcs and GRPOConfig/RLOOConfig arguments; openrlhf: "
                    "writes a reward_func .py file (-o) and prints OpenRLHF 0.11 flags; other "
                    "trainers come from plug-ins (the rewardlab.exports entry point). "
                    "Notes go to stderr. See docs/trainers.md.")
    p.add_argument("trainer", choices=EXPORTS.names())
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


def run(args: argparse.Namespace) -> int:
    from rewardlab.integrations.exports import EXPORTS, ExportOptions

    options = ExportOptions(output=args.output, failure_score=args.failure_score,
                            estimator=args.estimator, manager=args.manager,
                            score_range=tuple(args.score_range))
    try:
        result = EXPORTS.get(args.trainer)(args.spec.resolve(), options)
    except (SpecError, OSError, ValueError, UnknownExtension) as exc:
        print_error("export", exc)
        return 2
    print(result.text)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
