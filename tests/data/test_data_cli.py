"""`rewardlab data ...` as a user runs it: real processes, rewardlab's own score output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "rewardlab", *args], capture_output=True,
                          text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROLLOUTS = [
    {"id": "a1", "prompt": "Capital of France?", "response": "Paris", "reference": "Paris"},
    {"id": "a2", "prompt": "Capital of France?", "response": "Lyon", "reference": "Paris"},
    {"id": "a3", "prompt": "Capital of France?", "response": "paris", "reference": "Paris"},
    {"id": "b1", "prompt": "Capital of Peru?", "response": "Lima", "reference": "Lima"},
    {"id": "b2", "prompt": "Capital of Peru?", "response": "Cusco", "reference": None},
    {"id": "c1", "prompt": "Capital of Chad?", "response": "Abuja", "reference": "N'Djamena"},
    {"id": "c2", "prompt": "Capital of Chad?", "response": "Lagos", "reference": "N'Djamena"},
]


def test_score_then_pairs_with_rewardlab_output(tmp_path):
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", ROLLOUTS)
    scores = tmp_path / "scores.jsonl"
    cli("score", str(rollouts), "--spec", "exact_match", "-o", str(scores), "--no-progress")
    pairs, summary = tmp_path / "pairs.jsonl", tmp_path / "summary.json"
    proc = cli("data", "pairs", str(rollouts), "--scores", str(scores), "-o", str(pairs),
               "--chosen-min-score", "1", "--no-progress", "--summary-json", str(summary))
    rows = [json.loads(line) for line in pairs.read_text().splitlines()]
    # France: "paris" and "Lyon" both score 0 (exact_match is case-sensitive); among equally
    # bad responses the last by text is taken, deterministically. Peru: Cusco had no
    # reference (bad_reference), leaving one response: no pair. Chad: both wrong: no pair.
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == \
        [("Capital of France?", "Paris", "paris")]
    assert rows[0]["id_chosen"] == "a1"
    report = json.loads(summary.read_text())
    assert report["dropped_rows"] == {"status:bad_reference": 1}
    assert report["dropped_in_groups"]["no_chosen_passes_gate"] == 1  # Chad
    assert report["dropped_in_groups"]["group_too_small"] == 1  # Peru after the failure
    assert "pairs: read 7 rows" in proc.stderr


def test_scores_from_another_input_are_refused(tmp_path):
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", ROLLOUTS)
    other = write_jsonl(tmp_path / "other.jsonl", ROLLOUTS[:3])
    scores = tmp_path / "scores.jsonl"
    cli("score", str(other), "--spec", "exact_match", "-o", str(scores), "--no-progress")
    proc = cli("data", "pairs", str(rollouts), "--scores", str(scores), "-o",
               str(tmp_path / "p.jsonl"), check=False)
    assert proc.returncode == 2
    assert "different numbers of rows" in proc.stderr
    assert "Traceback" not in proc.stderr
    shuffled = write_jsonl(tmp_path / "shuffled.jsonl", ROLLOUTS[::-1])
    proc = cli("data", "pairs", str(shuffled), "--scores", str(
        _score(tmp_path, rollouts)), check=False)
    assert proc.returncode == 2 and "does not belong to" in proc.stderr


def _score(tmp_path: Path, rollouts: Path) -> Path:
    out = tmp_path / "s2.jsonl"
    cli("score", str(rollouts), "--spec", "exact_match", "-o", str(out), "--no-progress")
    return out


def test_resume_finishes_a_cut_output_without_duplicates(tmp_path):
    rows = [{"prompt": f"q{i // 4}", "response": f"r{i}", "score": (i * 7) % 5}
            for i in range(400)]
    source = write_jsonl(tmp_path / "scored.jsonl", rows)
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    cli("data", "pairs", str(source), "--strategy", "all", "-o", str(full), "--no-progress")
    data = full.read_bytes()
    lines = data.splitlines(keepends=True)
    assert len(lines) > 100
    # as if killed mid-write: 50 complete lines and half of the next
    cut.write_bytes(b"".join(lines[:50]) + lines[50][: len(lines[50]) // 2])
    proc = cli("data", "pairs", str(source), "--strategy", "all", "-o", str(cut), "--resume",
               "--no-progress")
    assert cut.read_bytes() == data
    assert "resumed after 50 records" in proc.stderr


def test_field_mapping_and_stdout(tmp_path):
    rows = [{"q": {"text": "2+2"}, "out": "4", "reward": {"total": 1.0}},
            {"q": {"text": "2+2"}, "out": "5", "reward": {"total": 0.0}}]
    source = write_jsonl(tmp_path / "logged.jsonl", rows)
    proc = cli("data", "pairs", str(source), "--field", "prompt=q.text", "--field",
               "response=out", "--field", "score=reward.total", "--no-progress")
    assert json.loads(proc.stdout.splitlines()[0])["chosen"] == "4"
    bad = cli("data", "pairs", str(source), "--field", "answer=out", check=False)
    assert bad.returncode == 2 and "unknown row field 'answer'" in bad.stderr


def test_bad_options_and_missing_input_are_clear_errors(tmp_path):
    missing = cli("data", "select", str(tmp_path / "nope.jsonl"), check=False)
    assert missing.returncode == 2 and "input file not found" in missing.stderr
    source = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "p", "response": "r", "score": 1}])
    for args, message in [(["--top-k", "0"], "top_k must be at least 1"),
                          (["--min-score", "nan"], "min_score must be a finite number")]:
        proc = cli("data", "select", str(source), *args, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    proc = cli("data", "relabel", str(source), "--template", "{reward}", check=False)
    assert proc.returncode == 2 and "bad relabel template" in proc.stderr


def test_interrupt_ends_with_one_line_and_the_resume_command(tmp_path, monkeypatch, capsys):
    import rewardlab.data as data_api
    from rewardlab.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data_api, "build_file", interrupted)
    source = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "p", "response": "r", "score": 1}])
    argv = ["data", "pairs", str(source), "-o", str(tmp_path / "o.jsonl")]
    monkeypatch.setattr(sys, "argv", ["rewardlab", *argv])
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rewardlab data pairs: interrupted; rerun with --resume to continue: "
                   f"rewardlab {' '.join(argv)} --resume"]
