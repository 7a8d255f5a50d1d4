"""The documented loop as written: score -> pairs -> train rm -> eval (examples/data_loop.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_data_loop_example_runs_on_the_fixtures(tmp_path, fixtures_dir, minilm_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHON": sys.executable,
           "REWARDLAB": f"{sys.executable} -m rewardlab", "RM_STEPS": "2"}
    out = tmp_path / "loop"
    proc = subprocess.run(["bash", str(ROOT / "examples" / "data_loop.sh"), str(fixtures_dir),
                           str(out), str(minilm_path)], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rollouts = [json.loads(x) for x in (out / "rollouts.jsonl").read_text().splitlines()]
    scores = [json.loads(x) for x in (out / "scores.jsonl").read_text().splitlines()]
    assert len(rollouts) == len(scores) == 400
    verdict = {(r["prompt"], r["response"]): s for r, s in zip(rollouts, scores, strict=True)}
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
    assert pairs
    for pair in pairs:
        assert verdict[(pair["prompt"], pair["chosen"])]["score"] == 1.0
        assert verdict[(pair["prompt"], pair["rejected"])]["score"] == 0.0
    summary = json.loads((out / "pairs.summary.json").read_text())
    assert summary["written"] == len(pairs) and summary["groups"] == 100
    rm_report = json.loads((out / "rm.report.json").read_text())
    assert rm_report["train_pairs"] + rm_report["heldout"]["pairs"] == len(pairs)
    evaluation = json.loads((out / "eval" / "summary.json").read_text())
    assert evaluation["items"] == 20 and evaluation["responses"] == 160
    assert 0.0 <= evaluation["accuracy"]["mean"] <= 1.0
