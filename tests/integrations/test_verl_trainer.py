"""rewardlab inside verl's own code (the pinned release in tests/trainers-nodeps.txt).

The file is loaded with verl's ``load_extern_object``; ``rewardlab export verl`` output is
composed by Hydra with verl's ``ppo_trainer`` config (the flattened copy verl ships); verl's
``get_custom_reward_fn``, ``resolve_reward_manager_cls`` and ``load_reward_manager`` build the
reward path; the manager's ``run_single`` scores a ``DataProto``; and verl's
``compute_advantage`` runs the estimators.
"""

from __future__ import annotations

import asyncio
import json
import math
import shlex
from pathlib import Path

import numpy as np
import pytest

verl = pytest.importorskip("verl")
pytest.importorskip("hydra")
torch = pytest.importorskip("torch")

from hydra import compose, initialize_config_dir  # noqa: E402
from verl import DataProto  # noqa: E402
from verl.trainer.ppo import core_algos  # noqa: E402
from verl.trainer.ppo.reward import (  # noqa: E402
    get_custom_reward_fn,
    load_reward_manager,
    resolve_reward_manager_cls,
)
from verl.utils.import_utils import load_extern_object  # noqa: E402

import rewardlab.integrations.verl as adapter  # noqa: E402
from rewardlab.cli import main  # noqa: E402

CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")

GRPO = """
reward:
  name: group_advantage
  method: grpo
  rewards:
    strict: exact_match
    loose: {name: exact_match, ignore_case: true}
  weights: {strict: 1.0, loose: 0.5}
"""
GDPO = GRPO.replace("method: grpo", "method: gdpo")


def _export(capsys, spec: Path, *extra: str) -> list[str]:
    assert main(["export", "verl", str(spec), *extra]) == 0
    captured = capsys.readouterr()
    assert "note:" not in captured.out  # notes go to stderr, never into the overrides
    return shlex.split(captured.out.replace("\\\n", " "))


def _compose(overrides: list[str]):
    # verl ships ppo_trainer.yaml also in the flattened form its own scripts generate from it
    # (_generated_ppo_trainer.yaml); hydra-core 1.4 (the one that can sit beside math-verify's
    # antlr4) no longer composes the '../optim' defaults of the unflattened file.
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose("_generated_ppo_trainer", overrides=overrides)


def _batch(tokenizer, rows, *, turns=None, tool_fields=None, rollout_scores=None) -> DataProto:
    """A DataProto shaped like verl's rollout output: left-padded prompts, right-padded
    responses, ``data_source``, ``reward_model.ground_truth``, ``extra_info`` and ``uid``."""
    prompt_len, response_len = 4, 3
    prompts, responses, masks = [], [], []
    for row in rows:
        p = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"][-prompt_len:]
        r = tokenizer(row["response"], add_special_tokens=False)["input_ids"][:response_len]
        prompts.append([0] * (prompt_len - len(p)) + p)
        responses.append(r + [0] * (response_len - len(r)))
        masks.append([0] * (prompt_len - len(p)) + [1] * len(p) + [1] * len(r)
                     + [0] * (response_len - len(r)))
    n = len(rows)
    non_tensors = {
        "data_source": np.array([r.get("data_source", "trivia") for r in rows], dtype=object),
        "reward_model": np.array([{"ground_truth": r["answer"]} for r in rows], dtype=object),
        "extra_info": np.array([{"index": r["uid"]} for r in rows], dtype=object),
        "uid": np.array([str(r["uid"]) for r in rows], dtype=object),
    }
    if turns is not None:
        non_tensors["__num_turns__"] = np.array(turns, dtype=np.int32)
    if tool_fields is not None:
        non_tensors["tool_extra_fields"] = np.array(tool_fields, dtype=object)
    if rollout_scores is not None:
        non_tensors["reward_scores"] = np.array(rollout_scores, dtype=object)
    return DataProto.from_dict(
        tensors={"prompts": torch.tensor(prompts), "responses": torch.tensor(responses),
                 "attention_mask": torch.tensor(masks),
                 "input_ids": torch.cat([torch.tensor(prompts), torch.tensor(responses)], 1)},
        non_tensors=non_tensors, meta_info={"n": n})


def _run_manager(manager, data: DataProto) -> list[dict]:
    """One ``run_single`` per row, gathered on the manager's own event loop (as verl's
    ``RewardLoopWorker.compute_score_batch`` does)."""
    async def all_rows():
        return await asyncio.gather(*(manager.run_single(data[i:i + 1])
                                      for i in range(len(data))))
    return manager.loop.run_until_complete(all_rows())


@pytest.fixture
def tokenizer(tiny_lm):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_lm)


def test_adapter_file_loads_by_path_and_as_package():
    by_path = load_extern_object(module_path=adapter.__file__, object_name="compute_score")
    by_pkg = load_extern_object(module_path="pkg://rewardlab.integrations.verl",
                                object_name="compute_score")
    spec = {"reward": {"name": "exact_match"}}
    for fn in (by_path, by_pkg):
        assert fn("d", "paris", "paris", {"index": 0}, spec=spec)["score"] == 1.0
    manager_cls = load_extern_object(
        module_path=str(Path(adapter.__file__).with_name("verl_manager.py")),
        object_name="RewardlabRewardManager")
    assert manager_cls.__name__ == "RewardlabRewardManager"
    # loading the manager file again (verl does, once per process and worker) is harmless
    load_extern_object(module_path=str(Path(adapter.__file__).with_name("verl_manager.py")),
                       object_name="RewardlabRewardManager")


def test_exported_overrides_drive_verls_reward_path(tmp_path, capsys, tokenizer, tiny_lm):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GRPO)
    overrides = _export(capsys, spec)
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    assert config.algorithm.adv_estimator == "rewardlab_grpo"
    # verl's own loaders resolve the intended function and manager
    fn = get_custom_reward_fn(config)
    assert fn is not None
    assert fn(data_source="trivia", solution_str="paris", ground_truth="Paris",
              extra_info={})["loose"] == 1.0
    assert resolve_reward_manager_cls(config).__name__ == "RewardlabRewardManager"
    manager = load_reward_manager(config, tokenizer)
    rows = [{"prompt": "paris rome", "response": "paris", "answer": "paris", "uid": 0},
            {"prompt": "paris rome", "response": "rome", "answer": "paris", "uid": 0},
            {"prompt": "paris rome", "response": "paris", "answer": ["bad", {"x": 1}],
             "uid": 0}]
    out = _run_manager(manager, _batch(tokenizer, rows))
    assert [o["reward_score"] for o in out[:2]] == [1.5, 0.0]
    assert math.isnan(out[2]["reward_score"])  # masked: the estimator leaves it out
    assert [o["reward_extra_info"]["status"] for o in out] == ["ok", "ok", "bad_reference"]
    assert {frozenset(o["reward_extra_info"]) for o in out} == {
        frozenset({"score", "acc", "status", "strict", "loose"})}


def test_old_keys_are_not_what_export_prints(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GRPO)
    overrides = _export(capsys, spec)
    assert not any(o.lstrip("+").startswith(("custom_reward_function.", "reward_model."))
                   for o in overrides)
    # the dead keys verl still accepts: its loader then finds no function at all
    dead = _compose([f"custom_reward_function.path={adapter.__file__}",
                     "custom_reward_function.name=compute_score"])
    assert get_custom_reward_fn(dead) is None


def _advantages(scores, uids, estimator, **config):
    """verl's ``compute_advantage`` (its trainer's entry point) on outcome rewards."""
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.ray_trainer import compute_advantage

    n, length = len(scores), 3
    rewards = torch.zeros(n, length)
    rewards[:, -1] = torch.tensor(scores, dtype=torch.float32)
    data = DataProto.from_dict(
        tensors={"token_level_rewards": rewards, "response_mask": torch.ones(n, length)},
        non_tensors={"uid": np.array(uids, dtype=object)})
    algo = AlgoConfig(adv_estimator=estimator, **config)
    out = compute_advantage(data, adv_estimator=estimator, config=algo,
                            norm_adv_by_std_in_grpo=algo.norm_adv_by_std_in_grpo)
    return out.batch["advantages"][:, 0], out.batch["token_level_rewards"]


@pytest.mark.parametrize(("estimator", "base", "config"), [
    ("rewardlab_grpo", "grpo", {}),
    ("rewardlab_grpo", "grpo", {"norm_adv_by_std_in_grpo": False}),
    ("rewardlab_rloo", "rloo", {}),
])
def test_failed_samples_do_not_move_their_groups_advantages(estimator, base, config):
    import rewardlab.integrations.verl_manager  # noqa: F401  (registers the estimators)

    nan = math.nan
    scores = [1.0, 0.96, 0.98, nan, 0.2, 0.9, nan, nan, 0.0, 1.0, 1.0, 0.5]
    uids = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    masked, rewards = _advantages(scores, uids, estimator, **config)
    keep = [i for i, s in enumerate(scores) if not math.isnan(s)]
    clean, _ = _advantages([scores[i] for i in keep], [uids[i] for i in keep], base, **config)
    # the samples that were scored get exactly verl's advantages without the failed ones
    assert masked[keep].tolist() == pytest.approx(clean.tolist(), abs=1e-6)
    assert [masked[i].item() for i in (3, 6, 7)] == [0.0, 0.0, 0.0]
    assert torch.isfinite(rewards).all()  # metrics verl logs from this tensor stay finite
    # what failure_score=0.0 does to the same group under verl's own estimator
    zeroed, _ = _advantages([0.0 if math.isnan(s) else s for s in scores], uids, base, **config)
    assert (zeroed[:3] - clean[:3]).abs().max() > 0.2


def test_gdpo_component_keys_stay_finite_through_verls_gdpo(tmp_path, capsys, tokenizer,
                                                            tiny_lm):
    spec = tmp_path / "gdpo.yaml"
    spec.write_text(GDPO)
    overrides = _export(capsys, spec)
    assert "++algorithm.gdpo_reward_keys=[strict,loose]" in overrides
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    manager = load_reward_manager(config, tokenizer)
    rows = [{"prompt": "paris", "response": r, "answer": a, "uid": 0}
            for r, a in [("paris", "paris"), ("rome", "paris"), ("paris", None),
                         ("paris", "Paris")]]
    data = _batch(tokenizer, rows)
    out = _run_manager(manager, data)
    assert [o["reward_extra_info"]["status"] for o in out][2] == "bad_reference"
    non_tensor = {k: np.array([o["reward_extra_info"][k] for o in out])
                  for k in ("strict", "loose")}
    assert non_tensor["strict"][2] == 0.0  # never NaN
    response_mask = torch.ones(4, 3)
    adv, _ = core_algos.compute_gdpo_outcome_advantage(
        token_level_rewards=torch.zeros(4, 3), response_mask=response_mask,
        index=np.array(["0"] * 4, dtype=object), config=config.algorithm,
        non_tensor_batch=non_tensor, batch=data.batch)
    assert torch.isfinite(adv).all()


def test_multi_turn_fields_become_sample_fields(tmp_path, capsys, tokenizer, tiny_lm,
                                                monkeypatch):
    seen = []
    original = adapter.sample_from_verl

    def spy(*args, **kwargs):
        sample = original(*args, **kwargs)
        seen.append(sample)
        return sample

    spec = tmp_path / "spec.yaml"
    spec.write_text("reward: exact_match\n")
    overrides = _export(capsys, spec)
    # verl loads the adapter by path (a separate module object): spy on the pkg:// form instead
    overrides = [o.replace(f"path={adapter.__file__}", "path=pkg://rewardlab.integrations.verl")
                 for o in overrides]
    monkeypatch.setattr(adapter, "sample_from_verl", spy)
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    manager = load_reward_manager(config, tokenizer)
    rows = [{"prompt": "paris", "response": "paris", "answer": "paris", "uid": 0}]
    out = _run_manager(manager, _batch(tokenizer, rows, turns=[3],
                                       tool_fields=[{"calls": 2}],
                                       rollout_scores=[{"tool": 0.5}]))
    assert out[0]["reward_score"] == 1.0
    [sample] = seen
    assert sample.num_turns == 3
    assert sample.tool_extra_fields == {"calls": 2}
    assert sample.rollout_reward_scores == {"tool": 0.5}
    assert "num_turns" not in sample.metadata


def test_unknown_estimator_names_the_installed_version_and_choices(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GRPO)
    assert main(["export", "verl", str(spec), "--estimator", "batch"]) == 2
    err = capsys.readouterr().err
    assert f"verl {verl.__version__}" in err and "rewardlab_grpo" in err and "gdpo" in err
    with pytest.raises(ValueError, match=r"valid choices: .*naive"):
        adapter.check_verl_choice("manager", "prime")


def test_spec_can_name_verls_naive_manager(tmp_path, capsys, tokenizer, tiny_lm):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GRPO + "trainers:\n  verl: {manager: naive}\n")
    assert main(["export", "verl", str(spec)]) == 0
    captured = capsys.readouterr()
    overrides = shlex.split(captured.out.replace("\\\n", " "))
    assert "algorithm.adv_estimator=grpo" in overrides  # rewardlab_* needs rewardlab's manager
    assert "enters the group statistics" in captured.err
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    manager = load_reward_manager(config, tokenizer)
    assert type(manager).__name__ == "NaiveRewardManager"
    rows = [{"prompt": "paris", "response": "paris", "answer": "paris", "uid": 0},
            {"prompt": "paris", "response": "paris", "answer": None, "uid": 0}]
    out = _run_manager(manager, _batch(tokenizer, rows))
    assert [o["reward_score"] for o in out] == [1.5, 0.0]  # naive: failure_score, no mask
    assert out[1]["reward_extra_info"]["status"] == "bad_reference"


def test_spec_naming_a_missing_manager_or_estimator_is_a_clear_error(tmp_path, capsys):
    for section, missing in (("{manager: batch}", "manager 'batch'"),
                             ("{estimator: gdpo_plus}", "estimator 'gdpo_plus'")):
        spec = tmp_path / "spec.yaml"
        spec.write_text(GRPO + f"trainers:\n  verl: {section}\n")
        assert main(["export", "verl", str(spec)]) == 2
        err = capsys.readouterr().err
        assert f"verl {verl.__version__} has no {missing}; valid choices:" in err
    spec.write_text(GRPO + "trainers:\n  verl: {manager: naive, estimator: rewardlab_grpo}\n")
    assert main(["export", "verl", str(spec)]) == 2
    assert "needs rewardlab's manager" in capsys.readouterr().err


@pytest.mark.slow
def test_judge_reaches_the_model_behind_verls_reward_router(tmp_path, capsys, tokenizer,
                                                            tiny_lm, llama_server):
    """verl passes ``reward_router_address`` (``host:port`` of the reward model it serves) to
    the manager; a judge whose base_url holds the placeholder talks to that server."""
    from urllib.parse import urlsplit

    grader = {"type": "score_model", "name": "quality", "model": "gpt-4o", "range": [0, 10],
              "sampling_params": {"temperature": 0.0, "max_completions_tokens": 16},
              "input": [{"role": "system", "content": "Rate the answer from 0 to 10."},
                        {"role": "user", "content": "Answer: {{ sample.output_text }}"}]}
    spec = tmp_path / "judge.json"
    spec.write_text(json.dumps({"reward": {
        "name": "openai_grader", "grader": grader,
        "backend": {"type": "openai", "base_url": "http://${reward_router_address}/v1",
                    "model": llama_server.model, "max_retries": 0}}}))
    overrides = _export(capsys, spec)
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    rows = [{"prompt": "paris", "response": "paris", "answer": "paris", "uid": 0}]
    address = urlsplit(llama_server.base_url).netloc
    manager = load_reward_manager(config, tokenizer, reward_router_address=address)
    [live] = _run_manager(manager, _batch(tokenizer, rows))
    # a 270M model: the plumbing is tested (a real request, a typed answer), not the judgement
    assert live["reward_extra_info"]["status"] in ("ok", "unparseable")
    closed = load_reward_manager(config, tokenizer, reward_router_address=f"127.0.0.1:{_port()}")
    [dead] = _run_manager(closed, _batch(tokenizer, rows))
    assert dead["reward_extra_info"]["status"] == "error" and math.isnan(dead["reward_score"])


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_odd_component_names_survive_hydra(tmp_path, capsys, tiny_lm):
    spec = tmp_path / "odd.yaml"
    spec.write_text(GDPO.replace("strict:", "'1':").replace("loose:", "'null':"))
    overrides = _export(capsys, spec)
    config = _compose([*overrides, f"actor_rollout_ref.model.path={tiny_lm}"])
    assert list(config.algorithm.gdpo_reward_keys) == ["1", "null"]
    assert list(config.algorithm.gdpo_reward_weights) == [1.0, 0.5]
