"""``rewardlab data select|pairs|filter|relabel``: training data from scored rollouts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error

_COMMON_HELP = (
    "INPUT is JSONL with a response, a prompt (text or chat messages) and a score per line "
    "(a `status` too when it came from rewardlab); or pass the input of `rewardlab score` as "
    "INPUT and its output as --scores. Rows are grouped by `group` when present, else by "
    "prompt. Rows whose reward failed are never used."
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="JSONL of scored rows (or the scored input)")
    p.add_argument("-o", "--output", type=Path, help="output JSONL (default: stdout)")
    p.add_argument("--scores", type=Path,
                   help="rewardlab's `score` output for INPUT (zipped line by line)")
    p.add_argument("--field", action="append", default=[], metavar="FIELD=PATH",
                   help="map a row field (prompt, response, score, status, group, id, gate) "
                        "to a dotted path in the input, e.g. score=reward.total")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run (the output is deterministic)")
    p.add_argument("--spill-mb", type=float, default=64.0,
                   help="row data held in memory at once; larger inputs spill to temp files")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--summary-json", type=Path, help="also write the report as JSON here")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("data", help="build training data (SFT, DPO pairs, prompt sets) "
                                           "from scored rollouts")
    sub = p.add_subparsers(dest="data_command", metavar="WHAT")

    s = sub.add_parser("select", help="RAFT / rejection sampling: keep the best responses",
                       description="Keep the best responses of each prompt as prompt/completion "
                                   "records. " + _COMMON_HELP)
    _common(s)
    s.add_argument("--top-k", type=int, default=None, help="keep the k best per prompt")
    s.add_argument("--min-score", type=float, default=None, help="keep scores >= this")
    s.add_argument("--max-per-prompt", type=int, default=None, help="cap per prompt")
    s.add_argument("--keep-duplicates", action="store_true",
                   help="keep responses equal (up to whitespace) to a better one")
    s.set_defaults(func=_run, make=_select_options)

    q = sub.add_parser("pairs", help="preference pairs for DPO / reward-model training",
                       description="Build chosen/rejected pairs per prompt. " + _COMMON_HELP)
    _common(q)
    q.add_argument("--strategy", choices=["best_worst", "all", "best_random"],
                   default="best_worst")
    q.add_argument("--min-margin", type=float, default=0.0,
                   help="smallest chosen-rejected score difference (ties are always dropped)")
    q.add_argument("--tie-epsilon", type=float, default=1e-9)
    q.add_argument("--max-pairs-per-prompt", type=int, default=None)
    q.add_argument("--chosen-min-score", type=float, default=None,
                   help="the chosen response must score at least this (e.g. 1 = verified)")
    q.add_argument("--rejected-max-score", type=float, default=None,
                   help="the rejected response must score at most this")
    q.add_argument("--gate-min", type=float, default=None,
                   help="the chosen response's `gate` field must be true or >= this "
                        "(map it with --field gate=PATH)")
    q.add_argument("--seed", type=int, default=0, help="seed of best_random")
    q.add_argument("--format", choices=["trl", "openrlhf"], default="trl",
                   help="record shape: TRL DPOTrainer/RewardTrainer or OpenRLHF datasets")
    q.add_argument("--keep-duplicates", action="store_true")
    q.set_defaults(func=_run, make=_pair_options)

    f = sub.add_parser("filter", help="prompt curation by group rewards (DAPO, pass-rate "
                                      "bands, R.I.P. gaps)",
                       description="Keep prompts by the statistics of their rewards; write one "
                                   "summary record per kept prompt (or its rows). "
                                   + _COMMON_HELP)
    _common(f)
    f.add_argument("--keep-constant", action="store_true",
                   help="keep prompts whose rewards do not vary (dropped by default)")
    f.add_argument("--tie-epsilon", type=float, default=1e-9)
    f.add_argument("--pass-threshold", type=float, default=1.0)
    f.add_argument("--min-pass-rate", type=float, default=None)
    f.add_argument("--max-pass-rate", type=float, default=None)
    f.add_argument("--min-gap", type=float, default=None)
    f.add_argument("--max-gap", type=float, default=None)
    f.add_argument("--min-worst-score", type=float, default=None)
    f.add_argument("--min-group-size", type=int, default=1)
    f.add_argument("--rows", action="store_true", help="write the kept prompts' rows")
    f.set_defaults(func=_run, make=_filter_options)

    r = sub.add_parser("relabel", help="reward-conditioned data: the prompt states the reward",
                       description="Rewrite each scored row as prompt (stating its reward or "
                                   "quality level) + completion. " + _COMMON_HELP)
    _common(r)
    r.add_argument("--template", default=None,
                   help="format string with {prompt}, {score} and {level}")
    r.add_argument("--levels", type=float, nargs="+", default=(),
                   help="ascending score cut points defining quality levels")
    r.add_argument("--level-names", nargs="+", default=(),
                   help="names of the levels (one more than --levels)")
    r.set_defaults(func=_run, make=_relabel_options)

    def no_target(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=no_target)


def _select_options(args: argparse.Namespace) -> object:
    from rewardlab.data import SelectOptions

    top_k = args.top_k if (args.top_k is not None or args.min_score is not None) else 1
    return SelectOptions(top_k=top_k, min_score=args.min_score,
                         max_per_prompt=args.max_per_prompt, dedupe=not args.keep_duplicates)


def _pair_options(args: argparse.Namespace) -> object:
    from rewardlab.data import PairOptions

    return PairOptions(strategy=args.strategy, min_margin=args.min_margin,
                       tie_epsilon=args.tie_epsilon,
                       max_pairs_per_prompt=args.max_pairs_per_prompt,
                       chosen_min_score=args.chosen_min_score,
                       rejected_max_score=args.rejected_max_score, gate_min=args.gate_min,
                       seed=args.seed, dedupe=not args.keep_duplicates, format=args.format)


def _filter_options(args: argparse.Namespace) -> object:
    from rewardlab.data import FilterOptions

    return FilterOptions(drop_constant=not args.keep_constant, tie_epsilon=args.tie_epsilon,
                         pass_threshold=args.pass_threshold, min_pass_rate=args.min_pass_rate,
                         max_pass_rate=args.max_pass_rate, min_gap=args.min_gap,
                         max_gap=args.max_gap, min_worst_score=args.min_worst_score,
                         min_group_size=args.min_group_size, rows=args.rows)


def _relabel_options(args: argparse.Namespace) -> object:
    from rewardlab.data import RelabelOptions
    from rewardlab.data.builders import DEFAULT_RELABEL_TEMPLATE

    return RelabelOptions(template=args.template or DEFAULT_RELABEL_TEMPLATE,
                          levels=tuple(args.levels), level_names=tuple(args.level_names))


def _run(args: argparse.Namespace) -> int:
    from rewardlab.data import DataInputError, build_file

    command = f"data {args.data_command}"
    try:
        options = args.make(args)
        fields = _parse_fields(args.field)
        if args.resume and args.output is None:
            raise ValueError("--resume needs -o OUTPUT")
        if args.spill_mb <= 0:
            raise ValueError("--spill-mb must be positive")
        report = build_file(args.input, args.output, options, fields=fields,
                            scores=args.scores, resume=args.resume,
                            progress=not args.no_progress,
                            spill_bytes=int(args.spill_mb * (1 << 20)))
    except (DataInputError, ValueError, OSError) as exc:
        print_error(command, exc)
        return 2
    except KeyboardInterrupt:
        argv = [a for a in sys.argv[1:] if a != "--resume"]
        resume = " ".join([*argv, "--resume"]) if args.output else None
        hint = f"; rerun with --resume to continue: rewardlab {resume}" if resume else ""
        print(f"rewardlab {command}: interrupted{hint}", file=sys.stderr)
        return 130
    print(report.render(), file=sys.stderr)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


def _parse_fields(pairs: list[str]) -> dict[str, str]:
    # Row fields differ from sample fields (score, status, gate); the parsing is the same.
    from rewardlab.data.rows import FIELDS
    from rewardlab.records import parse_field_map

    return parse_field_map(pairs, FIELDS, "row field")
