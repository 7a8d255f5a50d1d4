"""``rewardlab score IN.jsonl --spec SPEC.yaml -o OUT.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rewardlab.cli._errors import print_error
from rewardlab.cli._interrupt import report_interrupt
from rewardlab.cli._plugins import add_plugin_argument
from rewardlab.engine import configure_engine
from rewardlab.jsonl import BadLine, read_jsonl
from rewardlab.records import FieldMapError, check_field_map, parse_field_map
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
                        "e.g. reference=reward_model.ground_truth; '.' is the whole record "
                        "(reference=. for rows that are their own reference, like MBPP)")
    p.add_argument("--allow-missing-fields", action="store_true",
                   help="do not stop when a mapped path is missing from all of the first "
                        f"{CHECK_RECORDS} records (ragged data): such rows become error rows")
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
    add_plugin_argument(p)
    p.set_defaults(func=run)


CHECK_RECORDS = 50
"""How many leading records ``--field`` paths are checked against before scoring."""


def _first_records(path: Path, n: int = CHECK_RECORDS) -> list[Any]:
    """The first ``n`` records of a JSONL file that parse (malformed lines are the scorer's)."""
    records: list[Any] = []
    for _, value in read_jsonl(path, errors="replace"):
        if len(records) >= n:
            break
        if not isinstance(value, BadLine):
            records.append(value)
    return records


def check_fields(args: argparse.Namespace, fields: dict[str, str]) -> str | None:
    """The error message when the field mapping matches none of the first records, else None."""
    if getattr(args, "allow_missing_fields", False):
        return None
    try:
        check_field_map(_first_records(args.input), fields)
    except FieldMapError as exc:
        return (f"{exc}. Fix the --field mapping, or pass --allow-missing-fields to score "
                "anyway (rows without the field become error rows)")
    return None


def _rows_in(path: Path | None) -> int:
    if path is None or not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))


def _ray_reward(args: argparse.Namespace) -> Reward:
    from rewardlab.serve.ray_scoring import RayReward

    return RayReward(args.spec, args.ray)


def run(args: argparse.Namespace) -> int:
    if args.workers is not None:
        if args.workers < 1:
            print_error("score", "--workers must be at least 1")
            return 2
        configure_engine(workers=args.workers)
    try:
        fields = parse_field_map(args.field)
        reward = _ray_reward(args) if args.ray else reward_from_spec(args.spec)
    except (SpecError, ValueError, ConnectionError, ImportError) as exc:
        print_error("score", exc)
        return 2
    if not args.input.is_file():
        print_error("score", f"input file not found: {args.input}")
        return 2
    if args.resume and args.output is None:
        print_error("score", "--resume needs -o OUTPUT")
        return 2
    if args.resume and args.overwrite:
        reward.close()
        print_error("score", "--resume and --overwrite exclude each other")
        return 2
    problem = check_fields(args, fields)
    if problem:
        reward.close()
        print_error("score", problem)
        return 2
    try:
        summary = run_sync(score_jsonl_async(
            reward, args.input, args.output, fields=fields, resume=args.resume,
            overwrite=args.overwrite, spec=args.spec,
            batch_size=max(1, args.batch_size), progress=not args.no_progress))
    except KeyboardInterrupt:
        done = f"{_rows_in(args.output)} rows in {args.output}" if args.output else ""
        return report_interrupt("score", getattr(args, "argv", None), args.output is not None,
                                done)
    except _OUTPUT_REFUSALS as exc:
        print_error("score", exc)
        return 2
    finally:
        reward.close()
    print(summary.render(), file=sys.stderr)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 0
