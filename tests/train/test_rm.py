"""Reward-model training: data shapes, the tie-aware loss, and a real MiniLM run via the CLI."""

from __future__ import annotations

import json
import math

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.cli import main
from rewardlab.evaluate.loaders import DataError
from rewardlab.train.rm import PreferencePair, preference_pairs, split_pairs

torch = pytest.importorskip("torch")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_hh_rlhf_transcripts_become_prompt_and_last_turns(fixtures_dir):
    pairs = preference_pairs(fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl", limit=5)
    assert len(pairs) == 5
    first = json.loads(
        (fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl").open().readline()
    )
    assert pairs[0].prompt[0]["role"] == "user"
    assert first["chosen"].rstrip().endswith(pairs[0].chosen.strip())
    assert first["rejected"].rstrip().endswith(pairs[0].rejected.strip())


def test_strings_and_message_lists(tmp_path):
    strings = write_jsonl(tmp_path / "s.jsonl", [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
    ])
    convo = [{"role": "user", "content": "Hi"}]
    messages = write_jsonl(tmp_path / "m.jsonl", [
        {"chosen": [*convo, {"role": "assistant", "content": "Hello!"}],
         "rejected": [*convo, {"role": "assistant", "content": "Go away."}]},
    ])
    got = preference_pairs(strings)[0]
    assert (got.prompt, got.chosen, got.rejected, got.tie) == ("2+2?", "4", "5", False)
    pair = preference_pairs(messages)[0]
    assert (pair.chosen, pair.rejected) == ("Hello!", "Go away.")
    assert list(pair.prompt) == convo
    with pytest.raises(DataError):
        preference_pairs(write_jsonl(tmp_path / "bad.jsonl", [{"text": "no pair here"}]))


def test_annotated_pairs_keep_ties_and_vote_margins(fixtures_dir):
    pairs = preference_pairs(fixtures_dir / "pandalm" / "testset-v1.jsonl", vote_margins=True)
    ties = [p for p in pairs if p.tie]
    decided = [p for p in pairs if not p.tie]
    assert ties and decided
    assert all(p.margin is None for p in ties)
    assert all(0.5 <= p.margin <= 1.0 for p in decided)


def test_split_keeps_prompts_together():
    pairs = [PreferencePair(f"a{i}", f"b{i}", f"p{i % 10}") for i in range(50)]
    train, held = split_pairs(pairs, 0.3, seed=1)
    assert len(train) + len(held) == 50 and held
    assert not {p.prompt for p in train} & {p.prompt for p in held}
    with pytest.raises(ValueError):
        split_pairs(pairs, 1.0)


def test_davidson_loss_generalizes_bradley_terry():
    from rewardlab.train.rm import preference_loss

    chosen = torch.tensor([1.0, 0.2, -0.5])
    rejected = torch.tensor([0.0, 0.4, -0.5])
    bt = preference_loss(chosen, rejected, "bt")
    expected = -torch.nn.functional.logsigmoid(chosen - rejected).mean()
    assert bt.item() == pytest.approx(expected.item())
    # with a vanishing tie strength and no ties, Davidson is Bradley-Terry
    tiny = preference_loss(chosen, rejected, "davidson", log_tie_strength=math.log(1e-9))
    assert tiny.item() == pytest.approx(bt.item(), abs=1e-6)
    # a tie is most likely when the rewards are equal
    tie = torch.tensor([True])
    at = [preference_loss(torch.tensor([d]), torch.tensor([0.0]), "davidson", tie=tie).item()
          for d in (-2.0, -0.5, 0.0, 0.5, 2.0)]
    assert min(at) == at[2] and at[0] == pytest.approx(at[4])
    # margins make the same pair costlier
    margin = preference_loss(chosen, rejected, "bt", margin=torch.tensor([0.5] * 3))
    assert margin.item() > bt.item()


def test_train_rm_cli_end_to_end(tmp_path, fixtures_dir, minilm_path, capsys):
    out = tmp_path / "rm"
    code = main([
        "train", "rm", "--data", str(fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl"),
        "--model", str(minilm_path), "--output", str(out), "--limit", "40",
        "--max-steps", "2", "--batch-size", "4", "--max-length", "64", "--save-steps", "1",
        "--center-rewards", "0.01", "--eval-fraction", "0.25", "--no-progress",
        "--logging-steps", "1",
    ])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    held = report["heldout"]
    assert held["pairs"] == 10 and held["failed"] == 0
    assert 0.0 <= held["ci95"][0] <= held["accuracy"] <= held["ci95"][1] <= 1.0
    assert report["train_pairs"] == 30
    assert (out / "rewardlab_rm.json").is_file()
    assert any((out / "checkpoints").glob("checkpoint-*"))
    # the saved folder is a scalar reward model rewardlab loads directly
    rm = build_reward({"name": "scalar_rm", "model": str(out), "max_length": 64})
    outcome = rm.score_one(Sample(prompt="Hi", response="Hello, how can I help?"))
    assert outcome.status is Status.OK and outcome.details["format"] == "pair"
    # loading it the way the docs show uses the max_length it was trained with, not 512
    record = json.loads((out / "rewardlab_rm.json").read_text())
    assert record["inputs"] == {"format": "pair", "max_length": 64, "separator": "\n\n",
                                "chat_template": False}
    plain = build_reward({"name": "scalar_rm", "model": str(out)})
    assert plain.encoder.max_length == 64 and plain.encoder.format == "pair"
    long = Sample(prompt="word " * 200, response="Hello")
    assert plain.score_one(long).details["tokens_kept"] == 64
    assert build_reward({"name": "scalar_rm", "model": str(out),
                         "max_length": 100}).encoder.max_length == 100  # the spec overrides


def test_davidson_training_runs_on_ties(tmp_path, fixtures_dir, minilm_path):
    from rewardlab.train.rm import RMTrainConfig, train_reward_model

    pairs = preference_pairs(fixtures_dir / "pandalm" / "testset-v1.jsonl", limit=24)
    assert any(p.tie for p in pairs)
    config = RMTrainConfig(model=str(minilm_path), output_dir=str(tmp_path / "dav"),
                           loss="davidson", max_steps=1, batch_size=8, max_length=48,
                           progress=False)
    result = train_reward_model(pairs, config)
    assert result.train_pairs == 24 and math.isfinite(result.train_loss)
    with pytest.raises(ValueError, match="loss"):
        RMTrainConfig(model="m", output_dir="o", loss="hinge")


def test_folders_with_only_a_training_config_use_its_max_length(tmp_path, minilm_path):
    """Folders written before ``inputs`` was recorded still carry ``config.max_length``."""
    from pathlib import Path

    folder = tmp_path / "old-rm"
    folder.mkdir()
    for f in Path(minilm_path).iterdir():  # links: no copy of the weights
        (folder / f.name).symlink_to(f)
    (folder / "rewardlab_rm.json").write_text(json.dumps({"config": {"max_length": 128,
                                                                     "format": "auto"}}))
    rm = build_reward({"name": "scalar_rm", "model": str(folder)})
    assert rm.max_length == 128 and rm.format == "auto"
    (folder / "rewardlab_rm.json").write_text("{broken")
    with pytest.raises(ValueError, match="unreadable"):
        build_reward({"name": "scalar_rm", "model": str(folder)})


def test_cli_bad_input(tmp_path, capsys):
    assert main(["train", "rm", "--data", str(tmp_path / "missing.jsonl"), "--model", "m",
                 "--output", str(tmp_path / "o")]) == 2
    assert "error" in capsys.readouterr().err


def test_chat_template_is_trained_with_and_saved(tmp_path, fixtures_dir, minilm_path):
    from rewardlab.train.rm import RMTrainConfig, train_reward_model

    template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }} {% endfor %}"
    pairs = preference_pairs(fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl", limit=8)
    out = tmp_path / "chat-rm"
    config = RMTrainConfig(model=str(minilm_path), output_dir=str(out), chat_template=template,
                           max_steps=1, batch_size=4, max_length=48, progress=False)
    train_reward_model(pairs, config)
    rm = build_reward({"name": "scalar_rm", "model": str(out), "max_length": 48})
    outcome = rm.score_one(Sample(prompt="Hi", response="Hello"))
    assert outcome.status is Status.OK and outcome.details["format"] == "chat"
    tok = rm.classifier.tokenizer
    ids = rm.encode(Sample(prompt="Hi", response="Hello")).input_ids
    assert ids[0] == tok.cls_token_id  # an encoder keeps its [CLS] under a chat template
    text = tok.decode(ids, skip_special_tokens=True)
    assert " ".join(text.lower().split()) == "[ user ] hi [ assistant ] hello"
