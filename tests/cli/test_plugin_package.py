"""The documented entry-point route: install examples/reward_plugin, use its reward anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_installed_plugin_package_registers_through_its_entry_point(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(REPO / "examples/reward_plugin")],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), str(REPO / "src")]))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rewardlab", *args], capture_output=True,
                              text=True, env=env, timeout=300, cwd=tmp_path)

    listed = cli("rewards", "contains_reference")
    assert listed.returncode == 0, listed.stderr
    assert "Compare case-insensitively." in listed.stdout
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"response": "It is Paris.", "reference": "paris"}) + "\n")
    scored = cli("score", str(data), "--spec", "{name: contains_reference, ignore_case: true}",
                 "--no-progress")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["score"] == 1.0
    # The same package adds a trainer export through the rewardlab.exports entry point.
    spec = tmp_path / "spec.yaml"
    spec.write_text("reward: {name: contains_reference, ignore_case: true}\n")
    exported = cli("export", "spec-json", str(spec), "--failure-score", "-1")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {
        "spec": {"reward": {"name": "contains_reference", "ignore_case": True}},
        "failure_score": -1.0}
    assert "example export" in exported.stderr
    unknown = cli("export", "spec-jsn", str(spec))
    assert unknown.returncode == 2 and "spec-json" in unknown.stderr
    # ... and a PRM scorer through the rewardlab.prm_scorers entry point: its field is a flat
    # key of the prm spec, and the steps are split and aggregated by rewardlab's prm reward.
    described = cli("rewards", "prm")
    assert described.returncode == 0, described.stderr
    assert "max_chars" in described.stdout and "short_steps" in described.stdout
    steps = tmp_path / "steps.jsonl"
    steps.write_text(json.dumps({"response": "x = 2\n\nso the answer is clearly 2"}) + "\n")
    prm_scored = cli("score", str(steps), "--spec",
                     "{name: prm, backend: short_steps, max_chars: 10, aggregation: mean}",
                     "--no-progress")
    assert prm_scored.returncode == 0, prm_scored.stderr
    row = json.loads(prm_scored.stdout)
    assert row["score"] == 0.5 and row["details"]["step_scores"] == [1.0, 0.0], row
