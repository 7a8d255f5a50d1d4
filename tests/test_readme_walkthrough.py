"""A new user's walkthrough: the README's commands, run from a clean temporary directory.

Uses the installed environment (the ``rewardlab`` command of this interpreter's venv, or
``python -m rewardlab`` with this checkout's ``src``); the README's Python snippets are read
from README.md itself and run as written, so the README cannot drift from what works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "rewardlab", *args], capture_output=True,
                          text=True, cwd=workdir, env=env, timeout=600)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A clean directory holding only what a user copies from the repository's examples."""
    for name in ("math_rollouts.jsonl", "math_rollouts.yaml", "exact_match.yaml",
                 "capitals.jsonl"):
        shutil.copy(REPO / "examples" / name, tmp_path / name)
    return tmp_path


def test_python_quick_example_prints_what_the_readme_says(workdir):
    block = next(b for b in python_blocks() if "build_reward" in b)
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")
                and line[2:].split(" ", 1)[0] in ("ok", "bad_reference")]
    proc = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                          cwd=workdir, env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert [line.rstrip() for line in proc.stdout.splitlines()] == expected


def test_command_line_section(workdir):
    listed = cli(workdir, "rewards")
    assert listed.returncode == 0 and "exact_match" in listed.stdout
    fields = cli(workdir, "rewards", "exact_match")
    assert "ignore_case" in fields.stdout and "Compare case-insensitively" in fields.stdout
    # rewardlab score IN.jsonl --spec SPEC.yaml -o OUT.jsonl (the demo's data and spec)
    scored = cli(workdir, "score", "math_rollouts.jsonl", "--spec", "math_rollouts.yaml",
                 "-o", "out/scored.jsonl", "--no-progress")
    assert scored.returncode == 0, scored.stderr
    rows = [json.loads(x) for x in (workdir / "out/scored.jsonl").read_text().splitlines()]
    inputs = (workdir / "math_rollouts.jsonl").read_text().splitlines()
    assert len(rows) == len(inputs) and rows[0]["id"] == "gsm-right"
    assert {"ok", "unparseable", "bad_reference"} <= {r["status"] for r in rows}
    # verl-style records with --field, as in the README
    verl = workdir / "verl.jsonl"
    verl.write_text("".join(json.dumps({"solution": r["response"], "reward_model": {
        "ground_truth": r["reference"]}}) + "\n" for r in map(json.loads, inputs)))
    (workdir / "math.yaml").write_text("reward: math\n")
    mapped = cli(workdir, "score", "verl.jsonl", "--spec", "math.yaml", "-o", "out.jsonl",
                 "--field", "response=solution", "--field", "reference=reward_model.ground_truth",
                 "--no-progress")
    assert mapped.returncode == 0, mapped.stderr
    assert json.loads((workdir / "out.jsonl").read_text().splitlines()[0])["score"] == 1.0
    # a typo in the same command is an error that names the fix, not rows of errors
    typo = cli(workdir, "score", "verl.jsonl", "--spec", "math.yaml", "-o", "typo.jsonl",
               "--field", "response=solution", "--field", "reference=reward_model.groundtruth")
    assert typo.returncode == 2 and "reward_model.ground_truth" in typo.stderr


def test_writing_a_reward_then_using_it_from_the_cli(workdir):
    block = next(b for b in python_blocks() if "@register(" in b)
    (workdir / "my_rewards.py").write_text(block)
    name = re.search(r'@register\("([^"]+)"\)', block).group(1)
    data = workdir / "in.jsonl"
    data.write_text(json.dumps({"response": "It is Paris.", "reference": "Paris"}) + "\n")
    scored = cli(workdir, "score", "in.jsonl", "--spec", name, "--plugin", "my_rewards",
                 "--no-progress")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["score"] == 1.0


def test_readme_spec_commands_and_grammar(workdir):
    # The README's composition example is the gdpo spec: it builds from a file and inline.
    spec_block = re.search(r"```yaml\n(reward:\n  name: group_advantage.*?)```", README,
                           re.S).group(1)
    (workdir / "gdpo.yaml").write_text(spec_block)
    export = cli(workdir, "export", "trl", "gdpo.yaml")
    assert export.returncode == 0 and "trl_reward_funcs" in export.stdout, export.stdout


@pytest.mark.slow
def test_evaluate_and_report_section(workdir, fixtures_dir):
    data = fixtures_dir / "qwen_math_bon/math_cot.jsonl"
    run = cli(workdir, "eval", "--reward", "math", "--data", str(data), "--format", "qwen_math",
              "-o", "runs/qwen-math", "--probes", "all", "--limit", "12", "--probe-limit", "4",
              "--no-progress")
    assert run.returncode == 0, run.stderr
    assert (workdir / "runs/qwen-math/report.html").is_file()
    report = cli(workdir, "report", "runs/qwen-math", "-o", "report.html")
    assert report.returncode == 0, report.stderr
    html = (workdir / "report.html").read_text()
    assert "chance" in html and "Where the reward fails" in html
