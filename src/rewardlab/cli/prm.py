"""``rewardlab prm eval``: step-level error detection figures of a PRM (PRMBench, ProcessBench)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

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


def _clean(metrics: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}


def evaluation_report(reward, solutions, threshold: float, calibrate: bool,
                      malformed: list | None = None) -> dict:
    """Score ``solutions`` with a PRM reward and return the metrics (and calibration).

    ``malformed`` (records the loader skipped or repaired) is counted and listed in the
    report; so is every solution the PRM failed on.
    """
    from rewardlab.prm.evaluation import calibrate_threshold, malformed_summary, score_solutions
    from rewardlab.reward import run_sync

    evaluation = run_sync(score_solutions(reward, solutions))
    report = _clean(evaluation.metrics(threshold))
    if report.get("degenerate"):
        print(f"warning: degenerate PRM: every step is predicted "
              f"{report['degenerate_class']} at threshold {threshold}", file=sys.stderr)
    if calibrate and evaluation.step_scores:
        for objective in ("prm_score", "processbench_f1"):
            try:
                t, value = calibrate_threshold(
                    evaluation.solutions, evaluation.step_scores, objective
                )
            except ValueError:
                continue
            report[f"calibrated_{objective}"] = {"threshold": t, "value": value}
    report["failures"] = [list(f) for f in evaluation.failures]
    report["malformed_records"] = malformed_summary(malformed or [])
    return report


def run_eval(args: argparse.Namespace) -> int:
    from rewardlab.prm.evaluation import load_solutions
    from rewardlab.spec import SpecError, reward_from_spec

    if not args.data.is_file():
        print(f"error: no such data file: {args.data}", file=sys.stderr)
        return 2
    try:
        reward = reward_from_spec(args.reward)  # a spec file, or inline YAML/JSON
    except (SpecError, ValueError, OSError) as exc:
        print(f"error: bad --reward: {exc}", file=sys.stderr)
        return 2
    malformed: list = []
    try:
        # malformed records are reported and skipped (or repaired), never fatal
        solutions = load_solutions(args.data, args.format, args.include_original, malformed)
    except ValueError as exc:
        print(f"error: {args.data}: {exc}", file=sys.stderr)
        return 2
    if malformed:
        skipped = sum(not m.kept for m in malformed)
        print(f"{args.data}: {len(malformed)} malformed records ({skipped} skipped, "
              f"{len(malformed) - skipped} repaired): see malformed_records", file=sys.stderr)
    if not solutions:
        reasons = "; ".join(f"{m.id}: {m.reason}" for m in malformed[:3])
        print(f"error: {args.data}: no usable solutions ({reasons})", file=sys.stderr)
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
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0
