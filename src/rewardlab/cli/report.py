"""``rewardlab report RUN... -o report.html``: compare evaluation runs side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="compare `rewardlab eval` runs side by side in one HTML report",
        description="Read the summary.json of each run directory and write one self-contained "
                    "HTML report (inline SVG charts) plus a JSON file with every summary.")
    p.add_argument("runs", nargs="+", type=Path, help="run directories (or summary.json files)")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"),
                   help="HTML file to write (default: report.html)")
    p.add_argument("--json", type=Path, help="JSON summary file (default: beside the HTML)")
    p.add_argument("--title", help="report title")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rewardlab.evaluate.report import load_rows, load_run, write_report

    try:
        runs = [load_run(path) for path in args.runs]
        # A corrupted samples.jsonl is a message naming its line, not a traceback.
        rows = [load_rows(path) if path.is_dir() else None for path in args.runs]
    except (FileNotFoundError, ValueError) as exc:
        print_error("report", exc)
        return 2
    json_path = args.json or args.output.with_suffix(".json")
    path = write_report(runs, args.output, json_path, args.title, rows=rows)
    print(f"report: {path}  summary: {json_path}", file=sys.stderr)
    return 0
