"""Model paths: a missing local-looking path is one clear error naming it, hub names are tried
only for what looks like a hub name, and a hub failure is one error, not one per sample."""

from __future__ import annotations

import json
import time

import pytest

from rewardlab import build_reward
from rewardlab.reward_models.paths import ModelNotFoundError, looks_local, resolve_model


@pytest.mark.parametrize("path", [
    "/abs/missing", "./rel", "../up/rm", "~/models/rm", "runs/a/b", "runs\\rm", "rm/",
    "name with spaces", "a/b/c",
])
def test_local_looking_paths(path):
    assert looks_local(path)


@pytest.mark.parametrize("path", ["org/model", "gpt2", "Qwen/Qwen2.5-Math-PRM-7B"])
def test_hub_looking_names(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not looks_local(path)


def test_relative_path_under_an_existing_folder_is_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    assert looks_local("runs/my-rm")  # the docs' own style: a folder next to runs/
    t0 = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="runs/my-rm"):
        resolve_model("runs/my-rm", "reward model")
    assert time.monotonic() - t0 < 5  # no hub retries


@pytest.mark.parametrize("spec", [
    {"name": "scalar_rm", "model": "runs/my-rm"},
    {"name": "implicit_dpo", "policy": "runs/my-rm"},
    {"name": "implicit_dpo", "policy": "runs/policy", "reference": "runs/my-rm"},
    {"name": "prm", "model": "runs/my-rm"},
    {"name": "rlpr", "backend": {"type": "transformers", "model": "runs/my-rm"}},
])
def test_every_model_reward_names_a_missing_relative_path(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    if spec.get("policy") == "runs/policy":
        (tmp_path / "runs" / "policy").mkdir()
    with pytest.raises(Exception, match="runs/my-rm"):
        build_reward(spec)


def test_hub_failure_is_one_error_at_build_time(tmp_path, monkeypatch):
    """Offline, a hub name fails once when the reward is built (cached for the process)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name = "rewardlab-test-org/no-such-model-19"
    with pytest.raises(ValueError, match="hub") as first:
        build_reward({"name": "scalar_rm", "model": name})
    assert name in str(first.value)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="hub"):
        build_reward({"name": "prm", "model": name})
    assert time.monotonic() - t0 < 2  # remembered, not retried


def test_eval_stops_with_one_clear_error_on_a_missing_model(tmp_path, monkeypatch, capsys,
                                                           fixtures_dir):
    from rewardlab.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    data = fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl"
    code = main(["eval", "--reward", json.dumps({"name": "scalar_rm", "model": "runs/my-rm"}),
                 "--data", str(data), "--limit", "3", "-o", str(tmp_path / "out"),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0
    assert "runs/my-rm" in err and "accuracy" not in err
    assert err.count("not found") == 1


def test_existing_file_is_not_a_model_folder(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="file"):
        resolve_model(str(f))
