"""A new user's path through the CLI: errors that teach instead of silently wrong rows.

Real subprocesses of ``python -m rewardlab`` on the shared public fixtures (GSM8K model
solutions, sanitized MBPP).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            ) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, PYTHONPATH=str(REPO / "src"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "rewardlab", *args], capture_output=True,
                          text=True, env=full_env, timeout=300, cwd=cwd)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def gsm8k_slice(fixtures_dir: Path, tmp_path: Path, n: int = 6) -> Path:
    lines = (fixtures_dir / "gsm8k/model_solutions.jsonl").read_text().splitlines()[:n]
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- --field mapping is checked against the first records ---------------------------------

def test_wrong_field_paths_stop_with_the_keys_that_exist(fixtures_dir, tmp_path):
    data = gsm8k_slice(fixtures_dir, tmp_path)
    out = tmp_path / "out.jsonl"
    proc = run_cli("score", str(data), "--spec", "math", "-o", str(out), "--no-progress",
                   "--field", "response=6b_finetuning.soluton",
                   "--field", "reference=groundtruth")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    assert "did you mean response=6b_finetuning.solution" in err
    assert "did you mean reference=ground_truth" in err
    assert "is_correct, solution" in err  # the keys that exist under 6b_finetuning
    assert "Traceback" not in err and not out.exists()


def test_correct_field_paths_score_and_whole_record_reference(fixtures_dir, tmp_path):
    data = gsm8k_slice(fixtures_dir, tmp_path)
    out = tmp_path / "out.jsonl"
    proc = run_cli("score", str(data), "--spec", "math", "-o", str(out), "--no-progress",
                   "--field", "response=6b_finetuning.solution",
                   "--field", "reference=ground_truth")
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    truth = [json.loads(line)["6b_finetuning"]["is_correct"]
             for line in data.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok"] * len(truth)
    assert [r["score"] == 1.0 for r in rows] == truth


def test_mbpp_rows_are_their_own_reference(fixtures_dir, tmp_path):
    lines = (fixtures_dir / "mbpp/sanitized-mbpp.jsonl").read_text().splitlines()[:3]
    data = tmp_path / "mbpp.jsonl"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    proc = run_cli("score", str(data), "--spec", "{name: code, allow_weaker: true}", "-o",
                   str(out), "--no-progress", "--field", "response=code",
                   "--field", "reference=.")
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert [(r["status"], r["score"]) for r in rows] == [("ok", 1.0)] * 3, rows


def test_ragged_data_flag_gives_per_row_errors(tmp_path):
    data = tmp_path / "ragged.jsonl"
    data.write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n")
    out = tmp_path / "out.jsonl"
    stopped = run_cli("score", str(data), "--spec", "exact_match", "-o", str(out),
                      "--no-progress")
    assert stopped.returncode == 2 and "response=response: no 'response'" in stopped.stderr
    assert "keys there: text" in stopped.stderr
    ragged = run_cli("score", str(data), "--spec", "exact_match", "-o", str(out),
                     "--no-progress", "--allow-missing-fields")
    assert ragged.returncode == 0, ragged.stderr
    assert [r["status"] for r in read_rows(out)] == ["error", "error"]


def test_unknown_sample_field_suggests_one(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"response": "a"}) + "\n")
    proc = run_cli("score", str(data), "--spec", "exact_match", "--field", "refrence=x")
    assert proc.returncode == 2 and "did you mean 'reference'" in proc.stderr


# --- --plugin on every command that builds rewards -----------------------------------------

PLUGIN = '''
from rewardlab import CpuReward, Outcome, Sample, Status, register


@register("contains_reference_t17")
class ContainsReference(CpuReward):
    """1.0 when the reference string occurs in the response.

    Args:
        ignore_case: Compare case-insensitively.
        timeout: Per-sample deadline in seconds.
    """

    def __init__(self, ignore_case: bool = False, timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self.ignore_case = ignore_case

    def compute(self, sample: Sample) -> Outcome:
        if not isinstance(sample.reference, str):
            return Outcome.fail(Status.BAD_REFERENCE, "reference must be a string")
        fold = str.casefold if self.ignore_case else str
        return Outcome.ok(float(fold(sample.reference) in fold(sample.response)))
'''


def test_a_users_own_reward_works_in_score_rewards_and_export(tmp_path):
    (tmp_path / "my_rewards.py").write_text(PLUGIN)
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"response": "It is PARIS.", "reference": "paris"}) + "\n")
    spec = "{name: contains_reference_t17, ignore_case: true}"
    # by module name from the current directory, and by file path from elsewhere
    by_name = run_cli("score", "in.jsonl", "--spec", spec, "--plugin", "my_rewards",
                      "--no-progress", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["score"] == 1.0  # scored in an engine worker process
    by_path = run_cli("score", str(data), "--spec", spec, "--plugin",
                      str(tmp_path / "my_rewards.py"), "--no-progress")
    assert by_path.returncode == 0 and json.loads(by_path.stdout)["score"] == 1.0
    shown = run_cli("rewards", "contains_reference_t17", "--plugin", "my_rewards", cwd=tmp_path)
    assert "Compare case-insensitively." in shown.stdout, shown.stderr
    (tmp_path / "spec.yaml").write_text(f"reward: {spec}\n")
    exported = run_cli("export", "trl", "spec.yaml", "--plugin", "my_rewards", cwd=tmp_path)
    assert exported.returncode == 0 and "trl_reward_funcs" in exported.stdout, exported.stdout
    without = run_cli("score", str(data), "--spec", spec, "--no-progress")
    assert without.returncode == 2
    assert "unknown reward 'contains_reference_t17'" in without.stderr


def test_every_reward_building_command_takes_plugin():
    from rewardlab.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in ("score", "eval", "serve", "export", "rewards"):
        options = {o for a in sub.choices[command]._actions for o in a.option_strings}
        assert "--plugin" in options, command
    prm = sub.choices["prm"]
    prm_eval = next(a for a in prm._actions if a.dest == "prm_command").choices["eval"]
    assert "--plugin" in {o for a in prm_eval._actions for o in a.option_strings}


def test_missing_or_broken_plugin_is_one_clear_line(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    missing = run_cli("rewards", "--plugin", "no_such_mod_t17", cwd=tmp_path)
    assert missing.returncode == 2 and "no module 'no_such_mod_t17'" in missing.stderr
    broken = run_cli("rewards", "--plugin", "broken", cwd=tmp_path)
    assert broken.returncode == 2 and "RuntimeError: oops" in broken.stderr
    assert "Traceback" not in missing.stderr + broken.stderr


# --- rewards NAME: field descriptions and did-you-mean -------------------------------------

def test_rewards_name_describes_fields_and_suggests_names():
    shown = run_cli("rewards", "exact_match")
    assert shown.returncode == 0
    assert "ignore_case: bool (default False)" in shown.stdout
    assert "Compare case-insensitively (Unicode casefold)." in shown.stdout
    typo = run_cli("rewards", "exact_mtch")
    assert typo.returncode == 2 and "did you mean 'exact_match'" in typo.stderr
    assert len(typo.stderr.splitlines()) == 1


# --- Ctrl-C and eval's bad lines -----------------------------------------------------------

SLEEPY = (
    "import asyncio\nfrom rewardlab import Reward, Outcome, register\n"
    "@register('test_sleepy_t17')\nclass Sleepy(Reward):\n"
    "    async def score_batch(self, samples):\n"
    "        await asyncio.sleep(0.2)\n"
    "        return [Outcome.ok(float(len(s.response))) for s in samples]\n")


def interrupt_when(args: list[str], started: Path) -> tuple[int, list[str]]:
    """Run ``rewardlab ARGS``, send SIGINT (Ctrl-C) once ``started`` has content."""
    proc = subprocess.Popen([sys.executable, "-m", "rewardlab", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    deadline = time.monotonic() + 60
    while (not started.exists() or not started.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, [line for line in err.splitlines() if line.strip()]


def test_ctrl_c_prints_one_line_with_the_resume_command(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"response": "x" * 10, "reference": "x"}) + "\n"
                            for _ in range(400)))
    out = tmp_path / "out.jsonl"
    plugin = tmp_path / "sleepy.py"
    plugin.write_text(SLEEPY)
    code, lines = interrupt_when(
        ["score", str(data), "--spec", "{name: test_sleepy_t17}", "-o", str(out),
         "--batch-size", "4", "--no-progress", "--plugin", str(plugin)], out)
    assert code == 130
    assert len(lines) == 1, lines
    assert "interrupted" in lines[0] and "rows in" in lines[0]
    command = lines[0].split("continue with: ", 1)[1]
    assert command.startswith("rewardlab score ") and command.endswith("--resume")
    resumed = run_cli(*shlex.split(command)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_rows(out)) == 400


def test_ctrl_c_in_eval_gives_the_resume_command(fixtures_dir, tmp_path):
    plugin = tmp_path / "sleepy.py"
    plugin.write_text(SLEEPY)
    run_dir = tmp_path / "run"
    code, lines = interrupt_when(
        ["eval", "--reward", "test_sleepy_t17", "--data",
         str(fixtures_dir / "llmbar/natural.jsonl"), "--format", "llmbar", "-o", str(run_dir),
         "--batch-size", "4", "--no-progress", "--plugin", str(plugin)],
        run_dir / "samples.jsonl")
    assert code == 130 and len(lines) == 1, lines
    command = lines[0].split("continue with: ", 1)[1]
    assert command.startswith("rewardlab eval ") and command.endswith("--resume")
    resumed = run_cli(*shlex.split(command)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_rows(run_dir / "samples.jsonl")) == 100


def test_eval_writes_an_error_row_for_a_bad_line_and_goes_on(fixtures_dir, tmp_path):
    lines = (fixtures_dir / "llmbar/natural.jsonl").read_text().splitlines()[:6]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"input": "q", "output_1": "a", "output_2": "b", "label": 7}))
    data = tmp_path / "llmbar.jsonl"
    data.write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    proc = run_cli("eval", "--reward", "length_baseline", "--data", str(data), "--format",
                   "llmbar", "-o", str(run_dir), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "2 records could not be read" in proc.stderr
    errors = read_rows(run_dir / "errors.jsonl")
    assert [e["status"] for e in errors] == ["error", "error"]
    assert "invalid JSON" in errors[0]["reason"] and "label" in errors[1]["reason"]
    assert len(read_rows(run_dir / "samples.jsonl")) == 6


def test_eval_field_typo_stops_with_suggestion(fixtures_dir, tmp_path):
    proc = run_cli("eval", "--reward", "length_baseline", "--data",
                   str(fixtures_dir / "llmbar/natural.jsonl"), "--format", "llmbar",
                   "--field", "input=inptu", "-o", str(tmp_path / "run"), "--no-progress")
    assert proc.returncode == 2
    assert "did you mean input=input" in proc.stderr


def test_every_registered_field_has_a_description():
    """`rewardlab rewards NAME` explains every field of every built-in reward."""
    from rewardlab.registry import available_rewards, factory_parameters, field_descriptions

    missing = [f"{name}.{field}" for name, entry in available_rewards().items()
               if entry.factory.__module__.startswith("rewardlab.")  # not tests' own rewards
               for field in factory_parameters(entry.factory)
               if not field_descriptions(entry.factory).get(field)]
    assert missing == []
