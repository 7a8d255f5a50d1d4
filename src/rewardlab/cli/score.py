"""``rewardlab score IN.jsonl --spec SPEC.yaml -o OUT.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewardlab.engine import configure_engine
from rewardlab.records import parse_field_map
from rewardlab.reward import Reward, run_sync
from rewardlab.runlog import OutputCorrupted
from rewardlab.runrecord import RunMismatch
from rewardlab.scoring import OutputExists, score_jsonl_async
from rewardlab.spec import SpecError, reward_from_spec

# An output that must not be resumed or replaced: a message, exit code 2, never a traceback.
_OUTPUT_REFUSALS = (OutputExists, RunMismatch, OutputCorrupted)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score", help="score a JSONL file of samples with a reward spec",
        description="Score each line of IN.jsonl (fields prompt, response, reference, metadata, "
                    "group, id) and write one JSON line per input line, in order.")
    p.add_argument("input", type=Path, help="input JSONL file")
    p.add_argument("--spec", required=True,
                   help="reward spec: a YAML/JSON file, or inline YAML such as 'exact_match'")
    p.add_argument("-o", "--output", type=Path, help="output JSONL file (default: stdout)")
    p.add_argument("--field", action="append", default=[], metavar="FIELD=PATH",
                   help="map a sample field to an input path, "
                        "e.g. reference=reward_model.ground_truth")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: keep rows already in the output (checked "
                        "against the run record OUTPUT.run.json: same input, spec, version)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an output that already holds rows (refused otherwise)")
    p.add_argument("--batch-size", type=int, default=64, help="samples per reward call")
    p.add_argument("--workers", type=int,
                   help="engine worker processes for CPU rewards (default: CPU count)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--summary-json", type=Path, help="also write the summary as JSON here")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="score the batches as tasks on the Ray cluster at ADDRESS "
                        "(host:port or 'auto'; needs the ray extra)")
    p.set_defaults(func=run)


def _ray_reward(args: argparse.Namespace) -> Reward:
    from rewardlab.serve.ray_scoring import RayReward

    return RayReward(args.spec, args.ray)


def run(args: argparse.Namespace) -> int:
    if args.workers is not None:
        if args.workers < 1:
            print("rewardlab score: --workers must be at least 1", file=sys.stderr)
            return 2
        configure_engine(workers=args.workers)
    try:
        fields = parse_field_map(args.field)
        reward = _ray_reward(args) if args.ray else reward_from_spec(args.spec)
    except (SpecError, ValueError, ConnectionError, ImportError) as exc:
        print(f"rewardlab score: {exc}", file=sys.stderr)
        return 2
    if not args.input.is_file():
        print(f"rewardlab score: input file not found: {args.input}", file=sys.stderr)
        return 2
    if args.resume and args.output is None:
        print("rewardlab score: --resume needs -o OUTPUT", file=sys.stderr)
        return 2
    if args.resume and args.overwrite:
        print("rewardlab score: --resume and --overwrite exclude each other", file=sys.stderr)
        return 2
    try:
        summary = run_sync(score_jsonl_async(
            reward, args.input, args.output, fields=fields, resume=args.resume,
            overwrite=args.overwrite, spec=args.spec,
            batch_size=max(1, args.batch_size), progress=not args.no_progress))
    except _OUTPUT_REFUSALS as exc:
        print(f"rewardlab score: {exc}", file=sys.stderr)
        return 2
    finally:
        reward.close()
    print(summary.render(), file=sys.stderr)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 0
