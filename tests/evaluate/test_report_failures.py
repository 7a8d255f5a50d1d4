"""The report says what a user needs to decide: chance and length-only lines, "below chance",
the worst items with their texts, the pairs each probe flipped, and readable probe labels,
checked as laid out by headless Chromium (real LLMBar data from the shared fixtures)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rewardlab.evaluate import evaluate, load_items
from rewardlab.evaluate.failures import chance_level
from rewardlab.evaluate.report import load_run, verdict, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report-screenshot.png"

# Injected into a copy of the report only: where the browser put every label and line.
_MEASURE = """<script>
const out = {labels: [], lines: []};
for (const svg of document.querySelectorAll('svg.chart')) {
  const box = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('text.rowlabel')) {
    const b = t.getBoundingClientRect();
    out.labels.push({chart: svg.dataset.chart, text: t.textContent,
                     inside: b.left >= box.left - 0.5 && b.right <= box.right + 0.5});
  }
  for (const l of svg.querySelectorAll('line.refline')) {
    const b = l.getBoundingClientRect();
    out.lines.push({chart: svg.dataset.chart, label: l.dataset.line, width: b.width});
  }
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


@pytest.fixture(scope="module")
def below_chance_run(fixtures_dir, tmp_path_factory):
    """A reward that prefers the shorter response, on pairs where that is mostly wrong."""
    items = list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))
    directory = tmp_path_factory.mktemp("runs") / "shorter-wins"
    spec = {"name": "affine", "reward": "length_baseline", "scale": -1.0}
    return evaluate(spec, items, directory, probes=["length", "rewrites", "master_keys"],
                    probe_limit=40, progress=False, name="shorter-wins")


def test_summary_carries_chance_and_examples(below_chance_run):
    s = below_chance_run.summary
    assert s["chance"] == pytest.approx(0.5)
    assert s["chance"] == chance_level(below_chance_run.rows)
    worst = s["examples"]["worst"]
    assert worst and all(e["result"] < 1.0 for e in worst)
    assert all(e["responses"][0]["text"] or e["responses"][1]["text"] for e in worst)
    flipped = s["examples"]["flipped"]
    assert flipped, "rewrites/master keys flip some decisions of a length reward"
    for label, examples in flipped.items():
        assert label.split(":")[0] in ("rewrites", "master_keys")
        assert all(len(e["responses"]) == 2 for e in examples)


def test_below_chance_is_called_out(below_chance_run):
    s = below_chance_run.summary
    cls, text = verdict(s)
    assert s["accuracy"]["mean"] < 0.5  # shorter-wins loses on LLMBar Natural
    assert cls == "verdict-bad" and text.startswith("below chance")
    html = below_chance_run.report.read_text()
    assert text.split(" (")[0] in html and "Where the reward fails" in html
    assert "Pairs each probe flipped" in html and "pairs the probe <code>rewrites: " in html


def test_verdicts_cover_each_case():
    base = {"chance": 0.5, "length_baseline": {"length_accuracy": 0.7}}
    assert "whole 95% interval" in verdict(
        {**base, "accuracy": {"mean": 0.45, "low": 0.40, "high": 0.49}})[1]
    cls, text = verdict({**base, "accuracy": {"mean": 0.47, "low": 0.40, "high": 0.55}})
    assert cls == "verdict-bad" and text.startswith("below chance") and "reaches it" in text
    assert verdict({**base, "accuracy": {"mean": 0.52, "low": 0.45, "high": 0.6}})[1] \
        .startswith("not above chance")
    assert verdict({**base, "accuracy": {"mean": 0.65, "low": 0.6, "high": 0.7}})[1] \
        .startswith("no better than length alone")
    assert verdict({**base, "accuracy": {"mean": 0.8, "low": 0.75, "high": 0.85}})[0] \
        == "verdict-ok"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/test.sh installs it)")
def test_report_lines_and_labels_in_chromium(below_chance_run, tmp_path):
    name, summary = load_run(below_chance_run.directory)
    html = write_report([(name, summary)], tmp_path / "report.html")
    probe = tmp_path / "measure.html"
    probe.write_text(html.read_text().replace("</body>", _MEASURE + "</body>"))
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                             "--dump-dom", probe.as_uri()],
                            capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    measured = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    lines = {(m["chart"], m["label"]) for m in measured["lines"] if m["width"] > 100}
    assert ("subsets", "chance") in lines and ("subsets", "length only (all items)") in lines
    probe_labels = [m for m in measured["labels"] if m["chart"] == "probes"]
    assert any(m["text"] == "rewrites: answer_restated" for m in probe_labels), probe_labels
    assert all(m["inside"] and "…" not in m["text"] for m in probe_labels), probe_labels
    # docs/report-screenshot.png is such a report, drawn by Chromium with these flags.
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'p2'}",
                    "--window-size=1100,2600", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000
    assert SCREENSHOT.is_file()  # docs/report-screenshot.png: made with this same command
