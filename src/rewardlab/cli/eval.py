"""``rewardlab eval --reward SPEC --data SOURCE --format FORMAT -o RUN_DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rewardlab.cli._errors import print_error
from rewardlab.cli._interrupt import report_interrupt
from rewardlab.cli._plugins import add_plugin_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="evaluate a reward on a benchmark (accuracy, calibration, probes, report)",
        description="Score every item of a benchmark with a reward, save per-item rows "
                    "(resumable after a crash), summarise with benchmark-specific metrics, "
                    "optionally run robustness probes, and write an HTML report.")
    p.add_argument("--reward",
                   help="reward spec: a name, inline YAML ('{name: x, ...}') or a spec file")
    p.add_argument("--data",
                   help="a local .jsonl/.json/.parquet file or folder, or a hub dataset name")
    p.add_argument("--format", default="auto",
                   help="data format (see --list-formats); default: detect from the keys")
    p.add_argument("-o", "--output", type=Path,
                   help="run directory (default: runs/<data stem>-<reward name>)")
    p.add_argument("--field", action="append", default=[], metavar="NAME=PATH",
                   help="rename a field the format reads, e.g. prompt=question")
    p.add_argument("--allow-missing-fields", action="store_true",
                   help="do not stop when a --field path is missing from all of the first "
                        "records (ragged data)")
    p.add_argument("--split", help="hub dataset split (default: train)")
    p.add_argument("--config", help="hub dataset configuration")
    p.add_argument("--limit", type=int, help="evaluate only the first N items")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in the output directory")
    p.add_argument("--batch-size", type=int, default=32, help="responses per reward call")
    p.add_argument("--probes", default="",
                   help="comma-separated probes to run (length, position, master_keys, "
                        "rewrites, batch, truncation) or 'all'")
    p.add_argument("--probe-limit", type=int, default=200, help="items per probe")
    p.add_argument("--name", help="run name shown in reports")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--list-formats", action="store_true", help="list data formats and exit")
    add_plugin_argument(p)
    p.set_defaults(func=run)


def _fields(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"--field expects NAME=PATH, got {pair!r}")
        out[name.strip()] = path.strip()
    return out


def check_eval_fields(args: argparse.Namespace, fields: dict[str, str]) -> str | None:
    """The error when a ``--field`` path is in none of the first records of a local source."""
    from itertools import islice

    from rewardlab.evaluate.loaders import read_records
    from rewardlab.records import FieldMapError, check_field_map

    if not fields or args.allow_missing_fields or not Path(args.data).exists():
        return None  # hub data are checked per record: reading ahead would download them
    records = [r for _, r in islice(read_records(args.data), 50) if isinstance(r, dict)]
    try:
        check_field_map(records, fields, required=())
    except FieldMapError as exc:
        return f"{exc}. Fix the --field mapping, or pass --allow-missing-fields"
    return None


def _write_errors(directory: Path, errors: list[dict[str, str]]) -> Path:
    """One ``error`` row per record that could not be read, beside the run's samples."""
    path = directory / "errors.jsonl"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in errors), encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    from rewardlab.evaluate import DataError, available_formats, evaluate, load_items
    from rewardlab.evaluate.probes import ALL_PROBES
    from rewardlab.spec import SpecError, build_reward, single_reward_spec

    if args.list_formats:
        for name, doc in available_formats().items():
            print(f"{name:14s} {doc}")
        return 0
    missing = [f"--{name}" for name in ("reward", "data") if not getattr(args, name)]
    if missing:
        print_error("eval", f"{' and '.join(missing)} required")
        return 2
    probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    if probes == ["all"]:
        probes = list(ALL_PROBES)
    unknown = [p for p in probes if p not in ALL_PROBES]
    if unknown:
        print_error("eval", f"unknown probes {unknown}; probes: {', '.join(ALL_PROBES)}")
        return 2
    try:
        fields = _fields(args.field)
        spec = single_reward_spec(args.reward)  # the same grammar as every other command
        reward = build_reward(spec)
    except (SpecError, ValueError) as exc:
        print_error("eval", exc)
        return 2
    errors: list[dict[str, str]] = []

    def skip(record_id: str, exc: Exception) -> None:  # like `score`: an error row, go on
        errors.append({"id": record_id, "status": "error", "reason": str(exc)})

    try:
        problem = check_eval_fields(args, fields)
        if problem:
            raise DataError(problem)
        items = list(load_items(args.data, args.format, fields=fields, split=args.split,
                                config=args.config, limit=args.limit, on_error=skip))
        if not items:
            reasons = f": {errors[0]['reason']}" if errors else ""
            raise DataError(f"no readable items in {args.data}{reasons}")
        data_format = args.format
        if data_format == "auto":
            from rewardlab.evaluate.loaders import detect_format, read_records

            first = next(r for _, r in read_records(args.data, args.split, args.config)
                         if isinstance(r, dict) and _detects(detect_format, r))
            data_format = detect_format(first)
    except (DataError, ValueError) as exc:
        reward.close()
        print_error("eval", exc)
        return 2
    reward_name = spec if isinstance(spec, str) else str(spec.get("name", "reward"))
    output = args.output or Path("runs") / f"{Path(args.data).stem}-{reward_name}"
    label = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True, default=str)
    if errors:
        path = _write_errors(output, errors)
        print(f"rewardlab eval: {len(errors)} records could not be read (first: "
              f"{errors[0]['reason']}); their error rows are in {path}", file=sys.stderr)
    try:
        result = evaluate(reward, items, output, resume=args.resume,
                          batch_size=max(1, args.batch_size), probes=probes,
                          probe_limit=args.probe_limit, data_format=data_format,
                          data=str(args.data), name=args.name, progress=not args.no_progress,
                          reward_label=label)
    except (RuntimeError, ValueError, OSError) as exc:  # bad data or run directory: a message
        print_error("eval", exc)
        return 1
    except KeyboardInterrupt:
        return report_interrupt("eval", getattr(args, "argv", None), True,
                                f"finished items are in {output / 'samples.jsonl'}")
    finally:
        reward.close()
    s = result.summary
    acc = s["accuracy"]
    print(f"{s['items']} items, accuracy {acc['mean']:.4f} "
          f"[{acc['low']:.4f}, {acc['high']:.4f}]", file=sys.stderr)
    for name, entry in s["subsets"].items():
        print(f"  {name:28s} {entry['mean']:.4f}  (n={entry['n']})", file=sys.stderr)
    bad = {k: v for k, v in s["statuses"].items() if k != "ok"}
    if bad:
        print(f"  unscored responses: {bad}", file=sys.stderr)
    print(f"run: {result.directory}  report: {result.report}", file=sys.stderr)
    return 0




def _detects(detect_format: Any, record: dict) -> bool:
    try:
        detect_format(record)
    except ValueError:
        return False
    return True
