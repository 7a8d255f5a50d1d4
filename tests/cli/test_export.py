from __future__ import annotations

import importlib.util
import shlex

from rewardlab.cli import main

SPEC = """
reward:
  name: group_advantage
  method: opo
  rewards: {strict: exact_match, loose: {name: exact_match, ignore_case: true}}
"""


def test_export_each_trainer(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    assert main(["export", "verl", str(spec)]) == 0
    captured = capsys.readouterr()
    words = shlex.split(captured.out.replace("\\\n", " "))
    assert "reward.custom_reward_function.name=compute_score" in words
    assert f"++reward.custom_reward_function.reward_kwargs.spec={spec}" in words
    assert "reward.reward_manager.name=RewardlabRewardManager" in words
    assert "algorithm.adv_estimator=opo" in words
    # stdout is only overrides (issue 17): the note goes to stderr
    assert "note" not in captured.out and "note: verl's own opo" in captured.err

    assert main(["export", "trl", str(spec)]) == 0
    captured = capsys.readouterr()
    assert "grpo_kwargs = {'scale_rewards': 'none'}" in captured.out
    assert "rloo_kwargs = {}" in captured.out and "note:" in captured.err

    target = tmp_path / "rf.py"
    assert main(["export", "openrlhf", str(spec), "-o", str(target)]) == 0
    captured = capsys.readouterr()
    assert shlex.split(captured.out) == [
        "--reward.remote_url", str(target.resolve()), "--algo.advantage.estimator",
        "group_norm", "--algo.dynamic_filtering_enable"]
    module_spec = importlib.util.spec_from_file_location("rf", target)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    result = module.reward_func(["Q A"], ["Q "], ["a"])
    assert float(result["rewards"][0]) == 1.0


def test_export_reports_bad_specs(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text("reward: {name: weighted_sum, rewards: [nope]}")
    assert main(["export", "trl", str(spec)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["export", "verl", str(tmp_path / "missing.yaml")]) == 2
    assert main(["export", "openrlhf", str(spec), "--score-range", "1", "0"]) == 2


def test_export_routed_spec(tmp_path, capsys):
    spec = tmp_path / "routed.yaml"
    spec.write_text("rewards:\n  openai/gsm8k: exact_match\n  default: exact_match\n")
    assert main(["export", "verl", str(spec)]) == 0
    assert "reward.custom_reward_function.name=compute_score \\\n" in capsys.readouterr().out
    assert main(["export", "trl", str(spec)]) == 2
    assert "verl can route" in capsys.readouterr().err


def test_export_quotes_paths_for_shell_and_hydra(tmp_path, capsys):
    folder = tmp_path / "my specs"
    folder.mkdir()
    spec = folder / "spec=1.yaml"
    spec.write_text("reward: exact_match\n")
    assert main(["export", "verl", str(spec)]) == 0
    words = shlex.split(capsys.readouterr().out.replace("\\\n", " "))
    assert f"++reward.custom_reward_function.reward_kwargs.spec='{spec}'" in words
