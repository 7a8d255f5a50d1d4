"""``rewardlab prm eval``: step-level error detection figures of a PRM (PRMBench, ProcessBench)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error
from rewardlab.cli._plugins import add_plugin_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "prm", help="process reward models: evaluate on PRMBench/ProcessBench"
    )
    sub = p.add_subparsers(dest="prm_command", metavar="WHAT")
    e = sub.add_parser(
        "eval",
        help="score labelled solutions with a PRM and report PRMBench/ProcessBench metrics",
    )
    e.add_argument("--reward", required=True,
                   help="a PRM reward spec: a YAML/JSON file or inline JSON "
                        "(e.g. '{\"name\": \"prm\", \"model\": \"runs/prm\"}')")
    e.add_argument("--data", type=Path, required=True, help="JSONL file of labelled solutions")
    e.add_argument("--format", choices=["prmbench", "processbench"], default="prmbench")
    e.add_argument("--include-original", action="store_true",
                   help="prmbench: also score each record's original (fully correct) process")
    e.add_argument("--limit", type=int, default=None, help="evaluate the first N solutions")
    e.add_argument("--threshold", type=float, default=None,
                   help="step score under which a step is an error (default: the reward's)")
    e.add_argument("--calibrate", action="store_true",
                   help="also report the best threshold on these data (an optimistic figure)")
    e.add_argument("-o", "--output", type=Path, help="write the report as JSON here")
    add_plugin_argument(e)
    e.set_defaults(func=run_eval)

    def no_target(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=no_target)


def run_eval(args: argparse.Namespace) -> int:
    from rewardlab.evaluate.prm import degenerate_warning, evaluation_report, load_solutions
    from rewardlab.spec import SpecError, reward_from_spec

    if not args.data.is_file():
        print_error("prm eval", f"no such data file: {args.data}")
        return 2
    try:
        reward = reward_from_spec(args.reward)  # a spec file, or inline YAML/JSON
    except (SpecError, ValueError, OSError) as exc:
        print_error("prm eval", f"bad --reward: {exc}")
        return 2
    malformed: list = []
    try:
        # malformed records are reported and skipped (or repaired), never fatal
        solutions = load_solutions(args.data, args.format, args.include_original, malformed)
    except ValueError as exc:
        print_error("prm eval", f"{args.data}: {exc}")
        return 2
    if malformed:
        skipped = sum(not m.kept for m in malformed)
        print(f"{args.data}: {len(malformed)} malformed records ({skipped} skipped, "
              f"{len(malformed) - skipped} repaired): see malformed_records", file=sys.stderr)
    if not solutions:
        reasons = "; ".join(f"{m.id}: {m.reason}" for m in malformed[:3])
        print_error("prm eval", f"{args.data}: no usable solutions ({reasons})")
        return 2
    if args.limit is not None:
        solutions = solutions[: args.limit]
    threshold = args.threshold
    if threshold is None:
        threshold = float(getattr(reward, "threshold", 0.5))
    try:
        report = evaluation_report(reward, solutions, threshold, args.calibrate, malformed)
    finally:
        reward.close()
    warning = degenerate_warning(report)
    if warning:
        print(warning, file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0
