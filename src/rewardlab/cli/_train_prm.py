"""``rewardlab train prm``: train a PRM on step-labelled data, then evaluate it on a held-out split.

Hosted by the ``train`` command (``add_parser`` is called with its sub-subparsers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``prm`` sub-command to ``rewardlab train``."""
    p = subparsers.add_parser(
        "prm",
        help="train a token-classification PRM (plain transformers) and evaluate it",
        description=(
            "Train a process reward model on step-labelled solutions (PRMBench records: "
            "error_steps are the erroneous steps; ProcessBench records: steps after the first "
            "error are erroneous), then run the PRMBench/ProcessBench evaluation on a held-out "
            "split and write eval.json next to the model. Label imbalance (about 9 in 10 "
            "steps are correct) is countered by balanced sampling (default) or class "
            "weighting; malformed records are reported and skipped."
        ),
    )
    p.add_argument("--data", type=Path, required=True, help="JSONL file of labelled solutions")
    p.add_argument("--format", choices=["prmbench", "processbench"], default="prmbench")
    p.add_argument("--model", required=True, help="base model folder or hub name")
    p.add_argument("--output", type=Path, required=True, help="where the trained PRM goes")
    p.add_argument("--include-original", action="store_true",
                   help="prmbench: also use each record's original (fully correct) process")
    p.add_argument("--eval-fraction", type=float, default=0.25,
                   help="share of records held out for evaluation (0 to skip evaluation)")
    p.add_argument("--eval-limit", type=int, default=None,
                   help="evaluate on at most this many held-out solutions")
    p.add_argument("--step-separator", default="\n")
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=-1)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-length", type=int, default=None)
    p.add_argument("--threshold", type=float, default=0.5,
                   help="step score under which a step counts as an error")
    p.add_argument("--imbalance", choices=["sample", "weight", "none"], default="sample",
                   help="counter label imbalance: balanced sampling of solutions (default), "
                        "a class-weighted loss, or none")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, evaluate, print the figures; exit code 2 on bad input."""
    from rewardlab.evaluate.prm import load_solutions, malformed_summary

    if not args.data.is_file():
        print_error("train prm", f"no such data file: {args.data}")
        return 2
    malformed: list = []
    try:
        solutions = load_solutions(args.data, args.format, args.include_original, malformed)
    except ValueError as exc:
        print_error("train prm", f"{args.data}: {exc}")
        return 2
    if malformed:
        print(f"{args.data}: {len(malformed)} malformed records reported in eval.json",
              file=sys.stderr)
    if not solutions:
        reasons = "; ".join(f"{m.id}: {m.reason}" for m in malformed[:3])
        print_error("train prm", f"{args.data}: no usable solutions ({reasons})")
        return 2
    from rewardlab.reward_models.paths import ModelNotFoundError
    from rewardlab.train.prm import split_solutions, train_prm

    try:
        train, held = split_solutions(solutions, args.eval_fraction, seed=args.seed)
    except ValueError as exc:
        print_error("train prm", exc)
        return 2
    if args.eval_limit is not None:
        held = held[: args.eval_limit]
    print(f"training on {len(train)} solutions, evaluating on {len(held)}", file=sys.stderr)
    try:
        result = train_prm(
            args.model, train, args.output, step_separator=args.step_separator,
            learning_rate=args.learning_rate, epochs=args.epochs, max_steps=args.max_steps,
            batch_size=args.batch_size, max_length=args.max_length, imbalance=args.imbalance,
            seed=args.seed, threads=args.threads, progress=args.progress,
        )
    except (ModelNotFoundError, ValueError) as exc:
        print_error("train prm", exc)
        return 2
    report: dict = {
        "model": str(result.output_dir),
        "base_model": args.model,
        "train_solutions": len(train),
        "train_steps": result.steps,
        "train_loss": result.train_loss,
        "train_seconds": round(result.seconds, 1),
        "imbalance": result.imbalance,
        "class_counts": result.class_counts,
        "skipped_solutions": result.skipped,
        "train_metrics": result.train_metrics,
        "malformed_records": malformed_summary(malformed),
    }
    if held:
        from rewardlab.evaluate.prm import constant_baselines

        report["eval"] = evaluate_model(result.output_dir, held, args.threshold)
        report["eval"]["baselines"] = constant_baselines(held)
    (Path(args.output) / "eval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


def evaluate_model(model_dir: Path, solutions: list, threshold: float) -> dict:
    """PRMBench/ProcessBench figures of a trained PRM on labelled solutions."""
    from rewardlab.evaluate.prm import degenerate_warning, evaluation_report
    from rewardlab.prm.reward_factory import prm

    reward = prm(backend="token_classification", model=str(model_dir), threshold=threshold)
    try:
        # calibrated thresholds are chosen on the evaluation data: an optimistic reference
        report = evaluation_report(reward, solutions, threshold, calibrate=True)
    finally:
        reward.close()
    warning = degenerate_warning(report)
    if warning:
        print(warning, file=sys.stderr)
    return report
