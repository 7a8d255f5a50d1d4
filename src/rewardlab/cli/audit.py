"""``rewardlab audit IN.jsonl --a SPEC --b SPEC``: where do two rewards disagree, and how?

Scores the same rollouts with two rewards (e.g. ``math`` against plain ``math_verify``, or
``math`` against a judge) and lists the disagreements by class, with counts and examples, so a
user can see where a verifier is lenient or strict before training on it. With ``--label`` (a
field holding the known correctness of each rollout), each class also says which side was
right.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab.records import RecordError, get_path, parse_field_map, sample_from_record
from rewardlab.spec import SpecError, reward_from_spec
from rewardlab.types import Outcome, Sample

_EXAMPLE_CHARS = 240


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit", help="score rollouts with two rewards and list their disagreements by class",
        description="Score each line of IN.jsonl with reward A and reward B, then report the "
                    "samples where they disagree, grouped by class (who credits, who does not, "
                    "and why), with counts and examples.")
    p.add_argument("input", type=Path, help="input JSONL file of rollouts")
    p.add_argument("--a", required=True, dest="spec_a", metavar="SPEC",
                   help="reward A: a spec file or inline YAML (e.g. 'math')")
    p.add_argument("--b", required=True, dest="spec_b", metavar="SPEC",
                   help="reward B: a spec file or inline YAML (e.g. 'math_verify')")
    p.add_argument("--field", action="append", default=[], metavar="FIELD=PATH",
                   help="map a sample field to an input path, as in 'rewardlab score'")
    p.add_argument("--label", metavar="PATH",
                   help="input path of a known correctness label (true/false or 1/0)")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="a score at or above this is 'credited' (default 0.5)")
    p.add_argument("--examples", type=int, default=3, help="examples shown per class")
    p.add_argument("--json", type=Path, dest="json_out", help="also write the report as JSON")
    p.add_argument("--batch-size", type=int, default=256, help="samples per reward call")
    p.set_defaults(func=run)


def verdict(outcome: Outcome, threshold: float) -> str:
    """``credit``, ``no_credit`` or the failure status (``unparseable``, ``timeout``...)."""
    if outcome.score is None:
        return str(outcome.status)
    return "credit" if outcome.score >= threshold else "no_credit"


def why(outcome: Outcome) -> str:
    """A short, groupable reason: the method or hedge a reward reports, else its reason."""
    details = outcome.details or {}
    if details.get("hedge"):
        return "hedge: " + outcome.reason.split("(")[0].strip()
    method = details.get("method")
    if method:
        return f"method={method}"
    return (outcome.reason or str(outcome.status)).split(":")[0][:60]


@dataclass
class AuditReport:
    """Counts and examples of the disagreements between two rewards on the same samples."""

    spec_a: str
    spec_b: str
    total: int = 0
    unreadable: int = 0
    agree: int = 0
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, key: str, example: dict[str, Any], right: str | None, keep: int) -> None:
        entry = self.classes.setdefault(key, {"count": 0, "examples": [],
                                              "right": defaultdict(int)})
        entry["count"] += 1
        if right is not None:
            entry["right"][right] += 1
        if len(entry["examples"]) < keep:
            entry["examples"].append(example)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data, classes by descending count."""
        classes = {k: {**v, "right": dict(v["right"])} for k, v in
                   sorted(self.classes.items(), key=lambda kv: -kv[1]["count"])}
        disagree = sum(v["count"] for v in self.classes.values())
        return {"a": self.spec_a, "b": self.spec_b, "total": self.total,
                "unreadable_lines": self.unreadable, "agree": self.agree,
                "disagree": disagree, "classes": classes}

    def render(self) -> str:
        """A human-readable report."""
        data = self.to_dict()
        scored = data["agree"] + data["disagree"]
        lines = [f"A = {self.spec_a}", f"B = {self.spec_b}",
                 f"{scored} samples scored, {data['agree']} agree, {data['disagree']} disagree"
                 + (f" ({data['disagree'] / scored:.1%})" if scored else "")]
        if data["unreadable_lines"]:
            lines.append(f"{data['unreadable_lines']} input lines could not be read")
        for key, entry in data["classes"].items():
            right = ", ".join(f"{k} right: {v}" for k, v in sorted(entry["right"].items()))
            lines.append(f"\n[{entry['count']}] {key}" + (f"  ({right})" if right else ""))
            for ex in entry["examples"]:
                lines.append(f"  - line {ex['line']}: reference {ex['reference']!r}")
                lines.append(f"    response ...{ex['response_tail']!r}")
                lines.append(f"    A: {ex['a']}")
                lines.append(f"    B: {ex['b']}")
        return "\n".join(lines)


def _describe(outcome: Outcome) -> str:
    answer = (outcome.details or {}).get("answer")
    text = f"{outcome.status}" + (f" {outcome.score:g}" if outcome.score is not None else "")
    if answer:
        text += f", answer {str(answer)[:60]!r}"
    if outcome.reason:
        text += f", {outcome.reason[:100]}"
    return text


def _label(record: Any, path: str | None) -> bool | None:
    if path is None:
        return None
    value = get_path(record, path, None)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "correct", "c")
    return None if value is None else bool(value)


def _read(path: Path, fields: dict[str, str], label: str | None
          ) -> Iterable[tuple[int, Sample | None, bool | None]]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield line_no, sample_from_record(record, fields), _label(record, label)
            except (json.JSONDecodeError, RecordError):
                yield line_no, None, None


def audit(rows: Iterable[tuple[int, Sample | None, bool | None]], reward_a: Any, reward_b: Any,
          report: AuditReport, *, threshold: float = 0.5, examples: int = 3,
          batch_size: int = 256) -> AuditReport:
    """Score ``rows`` with both rewards and fill ``report`` with their disagreements."""
    batch: list[tuple[int, Sample, bool | None]] = []

    def flush() -> None:
        samples = [s for _, s, _ in batch]
        for (line_no, sample, label), a, b in zip(
                batch, reward_a.score(samples), reward_b.score(samples), strict=True):
            report.total += 1
            va, vb = verdict(a, threshold), verdict(b, threshold)
            if va == vb:
                report.agree += 1
                continue
            key = f"A {va} / B {vb} | A {why(a)} | B {why(b)}"
            right = None
            if label is not None and {va, vb} & {"credit"}:
                right = "A" if (va == "credit") == label else "B"
            tail = sample.response[-_EXAMPLE_CHARS:]
            report.add(key, {"line": line_no, "reference": str(sample.reference)[:120],
                             "response_tail": tail, "a": _describe(a), "b": _describe(b)},
                       right, examples)
        batch.clear()

    for line_no, sample, label in rows:
        if sample is None:
            report.unreadable += 1
            continue
        batch.append((line_no, sample, label))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report


def run(args: argparse.Namespace) -> int:
    """The ``audit`` subcommand."""
    if not args.input.is_file():
        print(f"rewardlab audit: input file not found: {args.input}", file=sys.stderr)
        return 2
    try:
        fields = parse_field_map(args.field)
        reward_a = reward_from_spec(args.spec_a)
        reward_b = reward_from_spec(args.spec_b)
    except (SpecError, ValueError, ImportError) as exc:
        print(f"rewardlab audit: {exc}", file=sys.stderr)
        return 2
    report = AuditReport(args.spec_a, args.spec_b)
    try:
        audit(_read(args.input, fields, args.label), reward_a, reward_b, report,
              threshold=args.threshold, examples=max(0, args.examples),
              batch_size=max(1, args.batch_size))
    finally:
        reward_a.close()
        reward_b.close()
    print(report.render())
    if args.json_out:
        args.json_out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
                                 + "\n", encoding="utf-8")
    return 0
