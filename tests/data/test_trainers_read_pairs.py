"""The files `rewardlab data` writes, read by the trainers' own dataset code.

TRL's DPOTrainer and RewardTrainer each run one CPU step on a tiny Llama with the written pairs
(text and conversational); OpenRLHF's RewardDataset tokenizes the `openrlhf`-format file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardlab.data import PairOptions, build_file
from tiny_models import build_tiny_llama

WORDS = ("[PAD]", "[UNK]", "[EOS]", "paris", "rome", "london", "four", "five", "capital",
         "of", "france", "is", "two", "plus", "user", "assistant", ":")

ROWS = [
    {"prompt": "capital of france is", "response": "paris", "score": 1.0},
    {"prompt": "capital of france is", "response": "rome", "score": 0.0},
    {"prompt": "capital of france is", "response": "london", "score": 0.2},
    {"prompt": "two plus two is", "response": "four", "score": 1.0},
    {"prompt": "two plus two is", "response": "five", "score": 0.0},
]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} "
                 "{% endfor %}{% if add_generation_prompt %}assistant : {% endif %}")


def pairs_file(tmp_path: Path, chat: bool, fmt: str = "trl") -> Path:
    rows = [{**r, "prompt": [{"role": "user", "content": r["prompt"]}]} if chat else r
            for r in ROWS]
    source = tmp_path / "scored.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"pairs-{fmt}-{chat}.jsonl"
    build_file(source, out, PairOptions(strategy="all", format=fmt))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    lm = build_tiny_llama(tmp_path_factory.mktemp("lm"), WORDS)
    rm = build_tiny_llama(tmp_path_factory.mktemp("rm"), WORDS, sequence_classifier=True)
    for path in (lm, rm):  # conversational data needs a chat template
        config = Path(path) / "tokenizer_config.json"
        data = json.loads(config.read_text())
        data["chat_template"] = CHAT_TEMPLATE
        config.write_text(json.dumps(data))
    return lm, rm


def _dataset(path: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train")


@pytest.mark.slow
@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
def test_trl_dpo_trainer_takes_a_step_on_the_pairs(tiny, tmp_path, chat):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    dataset = _dataset(pairs_file(tmp_path, chat))
    assert len(dataset) == 4  # (paris, rome), (paris, london), (london, rome), (four, five)
    tokenizer = AutoTokenizer.from_pretrained(tiny[0])
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=1, per_device_train_batch_size=2,
                     report_to="none", save_strategy="no", use_cpu=True, bf16=False,
                     logging_steps=1, learning_rate=1e-3)
    trainer = DPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny[0]), args=args,
                         train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 1
    assert any("loss" in entry for entry in trainer.state.log_history)


@pytest.mark.slow
@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
def test_trl_reward_trainer_takes_a_step_with_margins(tiny, tmp_path, chat):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    dataset = _dataset(pairs_file(tmp_path, chat))
    assert "margin" in dataset.column_names
    tokenizer = AutoTokenizer.from_pretrained(tiny[1])
    args = RewardConfig(output_dir=str(tmp_path / "rm"), max_steps=1,
                        per_device_train_batch_size=2, report_to="none", save_strategy="no",
                        use_cpu=True, bf16=False, logging_steps=1, learning_rate=1e-3)
    trainer = RewardTrainer(model=AutoModelForSequenceClassification.from_pretrained(tiny[1]),
                            args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 1


@pytest.mark.parametrize("chat", [False, True], ids=["text", "chat"])
def test_openrlhf_reward_dataset_reads_the_openrlhf_format(tiny, tmp_path, chat):
    datasets_mod = pytest.importorskip("openrlhf.datasets")
    from types import SimpleNamespace

    from transformers import AutoTokenizer

    dataset = _dataset(pairs_file(tmp_path, chat=chat, fmt="openrlhf"))
    tokenizer = AutoTokenizer.from_pretrained(tiny[0])
    # OpenRLHF's flags for these files (docs/training-data.md): chat files need only
    # --apply_chat_template; text files --prompt_key prompt and an input template.
    data_args = SimpleNamespace(
        prompt_key=None if chat else "prompt", chosen_key="chosen", rejected_key="rejected",
        apply_chat_template=chat, tokenizer_chat_template=None)
    strategy = SimpleNamespace(args=SimpleNamespace(data=data_args), is_rank_0=lambda: True)
    reward_ds = datasets_mod.RewardDataset(dataset, tokenizer, max_length=64, strategy=strategy,
                                           input_template=None if chat else "{} ",
                                           num_processors=1)
    assert len(reward_ds) == 4
    decoded = set()
    for index in range(len(reward_ds)):
        chosen_ids, _, rejected_ids, _, margin = reward_ds[index]
        chosen = tokenizer.decode(chosen_ids[0], skip_special_tokens=True).split()
        rejected = tokenizer.decode(rejected_ids[0], skip_special_tokens=True).split()
        assert chosen[:-1] == rejected[:-1] and chosen[-1] != rejected[-1]
        decoded.add((" ".join(chosen), rejected[-1], round(margin, 9)))
    # the user turn and the response, in OpenRLHF's own tokenization (chat: via the template)
    prefix = "user : capital of france is assistant : " if chat else "capital of france is "
    assert (prefix + "paris", "rome", 1.0) in decoded
    assert (prefix + "london", "rome", 0.2) in decoded
