"""Self-contained HTML reports (inline SVG charts, no scripts, no network) and JSON summaries,
for one run or several side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from rewardlab.evaluate import svg
from rewardlab.evaluate.loaders import DataError
from rewardlab.jsonl import BadLine, read_jsonl

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1040px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f6f8}
td:first-child,th:first-child{text-align:left}
.chart{display:block;margin:10px 0;background:#fff}.ctitle{font-size:14px;font-weight:600}
.tick{font-size:11px;fill:#444}.grid{stroke:#e5e5e5}.whisker{stroke:#111;stroke-width:1.3;fill:none}
.diag{stroke:#999;stroke-dasharray:4 3}.plotbg{fill:#fafafa;stroke:#ccc}.curve{stroke-width:2}
.note{color:#666;font-size:12px}.warn{color:#a33}
.verdict-bad{color:#fff;background:#b03a2e;padding:1px 6px;border-radius:3px;font-weight:600}
.verdict-weak{color:#7d4e00;background:#fdebd0;padding:1px 6px;border-radius:3px}
.verdict-ok{color:#1d6b35}
.example{border:1px solid #ddd;border-radius:4px;margin:8px 0;padding:6px 10px;font-size:13px}
.example .resp{white-space:pre-wrap;margin:4px 0;padding:4px 6px;border-left:3px solid #ccc;
background:#fafafa;word-break:break-word}.example .pref{border-left-color:#28a745}
.example .rej{border-left-color:#c0392b}.example .meta{color:#555;font-size:12px}
.example .prompt{white-space:pre-wrap;color:#333;word-break:break-word}
summary{cursor:pointer;margin:6px 0;font-size:14px}
"""


def verdict(summary: Mapping[str, Any]) -> tuple[str, str]:
    """``(css class, text)`` judging the accuracy against chance and against length alone.

    "below chance" when the accuracy is under the chance level (saying whether the whole 95 %
    interval is), "not above chance" when the interval contains it, "no better than length
    alone" when a length-only scorer does at least as well; otherwise "above chance".
    """
    acc = summary.get("accuracy") or {}
    mean, low, high = acc.get("mean"), acc.get("low"), acc.get("high")
    chance = summary.get("chance")
    length = (summary.get("length_baseline") or {}).get("length_accuracy")
    if mean is None:
        return "verdict-weak", "no scored items"
    if chance is not None and high is not None and high < chance:
        return "verdict-bad", f"below chance ({mean:.3f} < {chance:.3f}, the whole 95% " \
                              "interval is under it)"
    if chance is not None and mean < chance:
        return "verdict-bad", f"below chance ({mean:.3f} < {chance:.3f}; the 95% interval " \
                              f"[{low:.3f}, {high:.3f}] still reaches it)"
    if chance is not None and low is not None and low <= chance:
        return "verdict-weak", f"not above chance ({chance:.3f} is inside the 95% interval)"
    if length is not None and mean <= length:
        return "verdict-weak", f"no better than length alone ({length:.3f})"
    return "verdict-ok", "above chance" + ("" if length is None else " and length alone")


def _num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return escape(str(v))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_num(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _ci(entry: Mapping[str, Any] | None) -> str:
    if not entry or entry.get("mean") is None:
        return "-"
    return f"{entry['mean']:.3f} [{entry['low']:.3f}, {entry['high']:.3f}]"


def _headline(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    rows = []
    for name, s in runs:
        meta = s.get("run", {})
        cal = s.get("calibration") or {}
        rows.append([name, meta.get("reward", ""), meta.get("data", ""), meta.get("format", ""),
                     s["items"], _ci(s["accuracy"]), s.get("chance"),
                     (s.get("length_baseline") or {}).get("length_accuracy"), cal.get("ece"),
                     meta.get("seconds")])
    table = _table(["run", "reward", "data", "format", "items", "accuracy [95% CI]", "chance",
                    "length-only accuracy", "ECE", "seconds"], rows)
    verdicts = "".join(
        f"<p class='verdict'><b>{escape(name)}</b>: <span class='{cls}'>{escape(text)}</span>"
        "</p>" for name, s in runs for cls, text in [verdict(s)])
    return verdicts + table + (
        "<p class='note'>ECE of pairwise scores is measured after fitting one temperature "
        "(the raw value is in the calibration table).</p>")


def _subset_chart(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    subsets: list[str] = []
    for _, s in runs:
        subsets += [k for k in s["subsets"] if k not in subsets]
    if len(subsets) > 40:
        subsets = subsets[:40]
    series = []
    for name, s in runs:
        entries = [s["subsets"].get(k) or {} for k in subsets]
        series.append((name, [e.get("mean") for e in entries], [e.get("low") for e in entries],
                       [e.get("high") for e in entries]))
    lines: list[tuple[str, float]] = []
    if len(runs) == 1:  # the length-only yardstick next to the reward
        per_subset = (runs[0][1].get("length_baseline") or {}).get("subsets", {})
        series.append(("length only", [(per_subset.get(k) or {}).get("length_accuracy")
                                       for k in subsets], None, None))
        overall = (runs[0][1].get("length_baseline") or {}).get("length_accuracy")
        if overall is not None:
            lines.append(("length only (all items)", overall))
    chances = {s.get("chance") for _, s in runs}
    if len(chances) == 1 and None not in chances:
        lines.insert(0, ("chance", chances.pop()))
    return svg.bar_chart("subsets", "Accuracy per subset (95 % bootstrap intervals)",
                         subsets, series, y_range=(0.0, 1.0), lines=lines)


def _benchmark_tables(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    parts = []
    if any("rewardbench" in s for _, s in runs):
        secs = ["Chat", "Chat Hard", "Safety", "Reasoning", "Score"]
        parts.append("<h2>RewardBench v1 sections</h2>" + _table(
            ["run", *secs], [[n, *[s["rewardbench"].get(k) for k in secs]]
                             for n, s in runs if "rewardbench" in s]))
    if any("rewardbench2" in s for _, s in runs):
        names = sorted({k for _, s in runs for k in s.get("rewardbench2", {}).get("subsets", {})})
        parts.append("<h2>RewardBench 2</h2>" + _table(
            ["run", *names, "Score"],
            [[n, *[s["rewardbench2"]["subsets"].get(k) for k in names], s["rewardbench2"]["Score"]]
             for n, s in runs if "rewardbench2" in s]))
    if any("rmbench" in s for _, s in runs):
        parts.append("<h2>RM-Bench</h2>" + _table(
            ["run", "easy", "normal", "hard", "average"],
            [[n, *(s["rmbench"][k] for k in ("easy", "normal", "hard", "average"))]
             for n, s in runs if "rmbench" in s]))
    if any("agreement" in s for _, s in runs):
        keys = ["accuracy", "macro_f1", "cohen_kappa", "per_annotator_agreement",
                "human_pairwise_agreement", "ties_in_gold", "ties_predicted"]
        parts.append("<h2>Agreement with human annotators</h2>" + _table(
            ["run", *keys], [[n, *(s["agreement"].get(k) for k in keys)]
                             for n, s in runs if "agreement" in s]))
    if any("best_of_n" in s for _, s in runs):
        rows = []
        for n, s in runs:
            if "best_of_n" not in s:
                continue
            b = s["best_of_n"]
            corr = (s.get("calibration") or {}).get("correlation") or {}
            rows.append([n, _ci(b["top1_accuracy"]), b["pair_accuracy"], b["oracle_pass_at_n"],
                         b["random_pick"], corr.get("auroc"), corr.get("spearman"),
                         corr.get("pearson")])
        parts.append("<h2>Best-of-N and correlation with correctness</h2>" + _table(
            ["run", "top-1 accuracy", "correct>incorrect pairs", "pass@N (oracle)",
             "random pick", "AUROC", "Spearman", "Pearson"], rows))
    return "".join(parts)


def _calibration(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    curves = [(n, s["calibration"]["bins"]) for n, s in runs if s.get("calibration")]
    if not curves:
        return ""
    rows = [[n, s["calibration"].get("ece_raw", s["calibration"]["ece"]),
             s["calibration"].get("temperature"), s["calibration"]["ece"],
             s["calibration"]["method"]] for n, s in runs if s.get("calibration")]
    return ("<h2>Calibration</h2>" + svg.reliability_diagram("Reliability diagram", curves)
            + _table(["run", "ECE (raw)", "temperature", "ECE", "probability"], rows))


def _distributions(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    parts = ["<h2>Score distributions</h2>"]
    for n, s in runs:
        d = s.get("distributions")
        if d:
            parts.append(svg.histogram(f"Scores: {n}", d["edges"],
                                       [(d["labels"][0], d["preferred"]),
                                        (d["labels"][1], d["other"])]))
    return "".join(parts) if len(parts) > 1 else ""


def _probe_rows(probes: Mapping[str, Any]) -> list[tuple[str, float, float | None]]:
    rows = []
    for name, p in probes.items():
        variants = p.get("variants")
        if isinstance(variants, Mapping) and variants:
            for vname, v in variants.items():
                rows.append((f"{name}: {vname}", v.get("flip_rate", 0.0),
                             (v.get("drift") or {}).get("mean_abs")))
        else:
            rows.append((name, p.get("flip_rate", 0.0), (p.get("drift") or {}).get("mean_abs")))
    return rows


def _probes(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    with_probes = [(n, s["probes"]) for n, s in runs if s.get("probes")]
    if not with_probes:
        return ""
    labels: list[str] = []
    tables = []
    per_run = []
    for n, probes in with_probes:
        rows = _probe_rows(probes)
        per_run.append((n, {r[0]: r for r in rows}))
        labels += [r[0] for r in rows if r[0] not in labels]
        tables.append(f"<h3>{escape(n)}</h3>" + _table(
            ["probe", "flip rate", "mean |drift|"], [[r[0], r[1], r[2]] for r in rows]))
    series = [(n, [rows.get(k, (k, None, None))[1] for k in labels]) for n, rows in per_run]
    chart = svg.hbar_chart("probes", "Probes: share of items whose preferred response flipped",
                           labels, series, x_range=(0.0, 1.0))
    # drift in units of the run's own score spread, so rewards on different scales compare
    spreads = {n: s.get("score_std") for n, s in runs}
    drift_series = []
    for n, rows in per_run:
        std = spreads.get(n)
        drift_series.append((n, [None if not std or rows.get(k, (k, 0, None))[2] is None
                                 else rows[k][2] / std for k in labels]))
    if any(v is not None for _, vals in drift_series for v in vals):
        chart += svg.hbar_chart("drift", "Probes: mean |score drift| / score standard deviation",
                                labels, drift_series)
    length = [(n, s["length_baseline"]) for n, s in runs if s.get("length_baseline")]
    flagged = "".join(
        f"<p class='warn'>{escape(n)}: subsets solved by length alone at least as well as by the "
        f"reward: {escape(', '.join(lb['subsets_solved_by_length']))}</p>"
        for n, lb in length if lb.get("subsets_solved_by_length"))
    return "<h2>Robustness probes</h2>" + chart + flagged + "".join(tables)


def _example_html(example: Mapping[str, Any]) -> str:
    responses = []
    for k, r in enumerate(example.get("responses", [])):
        cls = "pref" if r.get("label") else "rej"
        tag = "preferred" if r.get("label") else "not preferred"
        status = "" if r.get("status") in (None, "ok") else f", status {r['status']}"
        responses.append(f"<div class='resp {cls}'><span class='meta'>response {k + 1} ({tag}), "
                         f"score {_num(r.get('score'))}{escape(status)}</span>\n"
                         f"{escape(r.get('text', ''))}</div>")
    prompt = example.get("prompt") or ""
    return (f"<div class='example'><div class='meta'>item {escape(str(example.get('id')))} "
            f"&middot; subset {escape(str(example.get('subset')))} &middot; credit "
            f"{_num(example.get('result'))}</div>"
            + (f"<div class='prompt'><b>prompt:</b> {escape(prompt)}</div>" if prompt else "")
            + "".join(responses) + "</div>")


def _worst_items(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Where the reward fails: the items with the least credit, with their texts."""
    parts = []
    for name, s in runs:
        worst = (s.get("examples") or {}).get("worst") or []
        if not worst:
            continue
        head = f"<h3>{escape(name)}</h3>" if len(runs) > 1 else ""
        parts.append(head + f"<p>The {len(worst)} items with the least credit, most "
                     "confidently wrong first (a non-preferred response outscored the preferred "
                     "one by the widest margin):</p>" + "".join(_example_html(e) for e in worst))
    return "<h2>Where the reward fails</h2>" + "".join(parts) if parts else ""


def _flipped_pairs(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """For each probe, the first items whose decision it flipped, with their texts."""
    parts = []
    for name, s in runs:
        flipped = (s.get("examples") or {}).get("flipped") or {}
        for probe, items in flipped.items():
            who = f"{escape(name)}: " if len(runs) > 1 else ""
            parts.append(f"<details><summary>{who}pairs the probe <code>{escape(probe)}</code> "
                         f"flipped ({len(items)} shown; scores before the probe)</summary>"
                         + "".join(_example_html(e) for e in items) + "</details>")
    return "<h3>Pairs each probe flipped</h3>" + "".join(parts) if parts else ""


def compare_runs(rows_by_run: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Pairwise comparison of runs scored on the same items: STARC-style distance between the
    two rewards (per-item centring, see :func:`~rewardlab.evaluate.metrics.starc_distance`),
    Spearman correlation of the scores, and how often they prefer the same response."""
    from scipy import stats

    from rewardlab.evaluate.metrics import starc_distance

    names = list(rows_by_run)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rows_b = {r["id"]: r for r in rows_by_run[b]}
            xs, ys, groups, agree = [], [], [], []
            for row in rows_by_run[a]:
                other = rows_b.get(row["id"])
                if other is None or len(other["scores"]) != len(row["scores"]):
                    continue
                agree.append(row["decision"] == other["decision"])
                for x, y in zip(row["scores"], other["scores"], strict=True):
                    if x is not None and y is not None:
                        xs.append(float(x))
                        ys.append(float(y))
                        groups.append(row["id"])
            if not agree:
                continue
            spearman = None
            if len(xs) > 2 and len(set(xs)) > 1 and len(set(ys)) > 1:
                spearman = float(stats.spearmanr(xs, ys).statistic)
            out.append({"a": a, "b": b, "items": len(agree), "responses": len(xs),
                        "starc_distance": starc_distance(xs, ys, groups) if xs else None,
                        "spearman": spearman,
                        "same_decision": sum(agree) / len(agree)})
    return out


def _comparisons(comparisons: Sequence[Mapping[str, Any]]) -> str:
    if not comparisons:
        return ""
    return ("<h2>Reward vs. reward on the same items</h2><p class='note'>STARC-style distance: "
            "0 when two rewards order every prompt's responses identically up to scale, 1 when "
            "they are opposite.</p>" + _table(
                ["run A", "run B", "items", "STARC distance", "Spearman", "same choice"],
                [[c["a"], c["b"], c["items"], c["starc_distance"], c["spearman"],
                  c["same_decision"]] for c in comparisons]))


def render_html(runs: Sequence[tuple[str, Mapping[str, Any]]], title: str | None = None,
                comparisons: Sequence[Mapping[str, Any]] = ()) -> str:
    """The HTML report for one or more runs (``(name, summary)`` pairs), as one string."""
    if not runs:
        raise ValueError("no runs to report")
    title = title or ("rewardlab evaluation: " + ", ".join(n for n, _ in runs))
    body = [f"<h1>{escape(title)}</h1>", _headline(runs), "<h2>Per-subset accuracy</h2>",
            _subset_chart(runs), _worst_items(runs), _comparisons(comparisons),
            _benchmark_tables(runs), _calibration(runs),
            _distributions(runs), _probes(runs), _flipped_pairs(runs),
            "<p class='note'>Generated by rewardlab. Accuracy intervals: 95 % percentile "
            "bootstrap over items. Unscored responses rank last.</p>"]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(body) + "</body></html>")


def load_rows(path: str | Path) -> list[dict[str, Any]] | None:
    """The per-item rows of a run directory (``None`` when it has no ``samples.jsonl``)."""
    file = Path(path) / "samples.jsonl"
    if not file.is_file():
        return None
    rows = []
    for line_no, value in read_jsonl(file):
        if isinstance(value, BadLine):
            raise DataError(f"{file}:{line_no}: {value.describe()}")
        rows.append(value)
    return rows


def load_run(path: str | Path) -> tuple[str, dict[str, Any]]:
    """``(name, summary)`` from a run directory or a ``summary.json`` file."""
    path = Path(path)
    file = path / "summary.json" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no summary.json in {path} (is it a `rewardlab eval` run?)")
    summary = json.loads(file.read_text(encoding="utf-8"))
    name = summary.get("run", {}).get("name") or (path.name if path.is_dir() else path.stem)
    return name, summary


def write_report(runs: Sequence[tuple[str, Mapping[str, Any]]], html_path: str | Path,
                 json_path: str | Path | None = None, title: str | None = None,
                 rows: Sequence[Sequence[Mapping[str, Any]] | None] | None = None) -> Path:
    """Write the HTML report (and a JSON file with every run's summary) and return its path.

    Args:
        runs: ``(name, summary)`` per run.
        html_path: The HTML file.
        json_path: Where to write the combined JSON summary (optional).
        title: Report title.
        rows: Per-item rows of each run (same order as ``runs``; ``None`` entries allowed);
            runs on the same items are then compared reward against reward.
    """
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    names = [n for n, _ in runs]
    if len(set(names)) != len(names):  # same directory names from different parents
        runs = [(f"{n} ({i + 1})", s) for i, (n, s) in enumerate(runs)]
    comparisons = []
    if rows is not None and len(runs) > 1:
        comparisons = compare_runs({n: r for (n, _), r in zip(runs, rows, strict=True)
                                    if r is not None})
    html_path.write_text(render_html(runs, title, comparisons), encoding="utf-8")
    if json_path is not None:
        Path(json_path).write_text(json.dumps({"runs": {n: s for n, s in runs},
                                               "comparisons": comparisons}, indent=2,
                                              default=str) + "\n", encoding="utf-8")
    return html_path
