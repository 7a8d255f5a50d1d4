"""Adapters warn once, loudly, when a whole batch fails for one reason, naming the fix."""

from __future__ import annotations

import math
import warnings

import pytest

from rewardlab.integrations import _batch_warning
from rewardlab.integrations._batch_warning import BatchFailureWarning
from rewardlab.integrations.openrlhf import score_queries
from rewardlab.integrations.trl import TrlReward
from rewardlab.integrations.verl import compute_score_batch


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(_batch_warning, "_warned", set())


def caught(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, [w for w in seen if issubclass(w.category, BatchFailureWarning)]


def test_trl_unread_reference_column_warns_once_with_the_fix():
    func = TrlReward("reward: exact_match")
    call = dict(prompts=["q1", "q1", "q2"], completions=["a", "b", "c"],
                gold=["a", "a", "c"], completion_ids=None)
    rewards, seen = caught(func, **call)
    assert rewards == [None, None, None] and len(seen) == 1
    message = str(seen[0].message)
    assert "ALL 3 samples" in message and "bad_reference" in message
    assert "reference, answer, solution, ground_truth, label" in message
    assert "columns={'reference': 'YOUR_COLUMN'}" in message and "gold" in message
    _, again = caught(func, **call)
    assert again == []  # once per process and cause
    fixed, none = caught(TrlReward("reward: exact_match", columns={"reference": "gold"}), **call)
    assert fixed == [1.0, 0.0, 1.0] and none == []


def test_partial_failures_do_not_warn():
    func = TrlReward("reward: exact_match")
    rewards, seen = caught(func, prompts=["q", "q"], completions=["a", "b"],
                           answer=["a", None])
    assert rewards == [1.0, None] and seen == []


def test_verl_unknown_data_source_names_the_alias_fix():
    spec = "rewards: {gsm8k: exact_match}"
    results, seen = caught(compute_score_batch, ["math500", "math500"], ["1", "2"], ["1", "2"],
                           [{}, {}], spec=spec)
    assert [r["status"] for r in results] == ["skipped", "skipped"]
    assert len(seen) == 1 and "`default` alias" in str(seen[0].message)


def test_openrlhf_missing_labels_name_the_label_key():
    out, seen = caught(score_queries, ["Q: a A: 1", "Q: b A: 2"], ["Q: a A:", "Q: b A:"],
                       [None, None], spec="reward: exact_match")
    # failures get failure_score in `rewards` and NaN in the 0-1 filter `scores` (issue 13)
    assert list(out["rewards"]) == [0.0, 0.0]
    assert all(math.isnan(float(s)) for s in out["scores"])
    assert len(seen) == 1 and "--data.label_key" in str(seen[0].message)


@pytest.mark.slow
def test_real_grpo_trainer_run_warns_about_an_unread_column(tmp_path):
    """A real TRL GRPOTrainer step on a dataset whose reference column is named `gold`."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from tiny_models import build_tiny_llama

    path = build_tiny_llama(tmp_path / "lm", ("[PAD]", "[UNK]", "[EOS]", "paris", "rome"))
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    dataset = Dataset.from_list([{"prompt": "capital of france", "gold": "paris"}] * 8)
    args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=1,
                      per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=1, report_to="none", save_strategy="no",
                      use_cpu=True, bf16=False, seed=0, logging_steps=1)
    trainer = GRPOTrainer(model=model, reward_funcs=[TrlReward("reward: exact_match")],
                          args=args, train_dataset=dataset, processing_class=tokenizer)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer.train()
    ours = [w for w in seen if issubclass(w.category, BatchFailureWarning)]
    assert len(ours) == 1 and "gold" in str(ours[0].message)
