"""The local PRM backends on a real model (MiniLM with a two-class token head)."""

import os

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.evaluate.prm import prmbench_solutions
from rewardlab.prm.scorers.hf_scorers import SpecialTokenScorer, TokenClassificationScorer

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

STEPS = ["We add 2 and 3.", "The sum is 5.", "So the answer is 5."]


def test_encoding_matches_trl_prmtrainer(minilm_token_classifier):
    prm_mod = pytest.importorskip("trl.experimental.prm")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_token_classifier)
    scorer = TokenClassificationScorer(minilm_token_classifier, step_separator="\n")
    scorer._tokenizer = tok
    ids, positions = scorer.encode("What is 2 + 3?", STEPS)
    row = prm_mod.PRMTrainer.tokenize_row(
        {"prompt": "What is 2 + 3?", "completions": STEPS, "labels": [True, True, False]},
        tok, "\n", max_length=None, max_completion_length=None,
        train_on_last_step_only=False, is_eval=True,
    )
    assert ids == row["input_ids"]
    assert positions == [i for i, lab in enumerate(row["labels"]) if lab != -100]


def test_token_classification_scores_real_model(minilm_token_classifier):
    reward = build_reward(
        {"name": "prm", "backend": "token_classification", "model": str(minilm_token_classifier),
         "aggregation": "min"}
    )
    sample = Sample(response="\n\n".join(STEPS), prompt="What is 2 + 3?")
    out = reward.score_one(sample)
    assert out.is_ok, out.reason
    scores = out.details["step_scores"]
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    assert out.score == pytest.approx(min(scores))
    # deterministic, and batching does not change a sample's scores
    again = reward.score([sample, Sample(response="Other.\n\nSteps here.")])
    assert again[0].details["step_scores"] == pytest.approx(scores, abs=1e-5)
    # the step score depends on the preceding steps (the model reads the whole solution)
    changed = reward.score_one(
        Sample(response="\n\n".join(["We multiply 2 and 3.", *STEPS[1:]]), prompt="What is 2 + 3?")
    )
    assert changed.details["step_scores"][1] != pytest.approx(scores[1], abs=1e-7)
    reward.close()


def test_long_solution_is_scored_in_windows(minilm_token_classifier, fixtures_dir):
    sols = prmbench_solutions(fixtures_dir / "prmbench" / "prmbench-p1-test.jsonl")
    longest = max(sols, key=lambda s: sum(len(x) for x in s.steps))
    scorer = TokenClassificationScorer(minilm_token_classifier, max_length=256)
    reward = build_reward({"name": "prm", "model": str(minilm_token_classifier), "max_length": 256})
    out = reward.score_one(longest.to_sample())
    assert out.is_ok, out.reason
    assert len(out.details["step_scores"]) == len(longest.steps)
    from transformers import AutoTokenizer

    scorer._tokenizer = AutoTokenizer.from_pretrained(minilm_token_classifier)
    windows = scorer.encode_windows(longest.question, longest.steps)
    assert len(windows) > 1
    assert all(len(ids) <= 256 for ids, _ in windows)
    assert sum(len(p) for _, p in windows) == len(longest.steps)


def test_step_longer_than_context_is_an_error(minilm_token_classifier):
    reward = build_reward({"name": "prm", "model": str(minilm_token_classifier), "max_length": 16})
    out = reward.score_one(Sample(response="short\n\n" + "word " * 40))
    assert out.status is Status.ERROR and "over max_length" in out.reason


def test_special_token_backend_real_model(minilm_token_classifier):
    reward = build_reward(
        {"name": "prm", "backend": "special_token", "model": str(minilm_token_classifier),
         "step_token": "[SEP]", "chat_template": False, "aggregation": "last"}
    )
    out = reward.score_one(Sample(response="\n\n".join(STEPS), prompt="What is 2 + 3?"))
    assert out.is_ok, out.reason
    assert len(out.details["step_scores"]) == 3
    assert out.score == pytest.approx(out.details["step_scores"][-1])
    # a marker that is several tokens cannot mark steps
    bad = SpecialTokenScorer(minilm_token_classifier, step_token="<<step>>", chat_template=False)
    reward_bad = build_reward({"name": "prm", "backend": "special_token",
                              "model": str(minilm_token_classifier), "step_token": "<<step>>"})
    bad_out = reward_bad.score_one(Sample(response="a\n\nb"))
    assert bad_out.status is Status.ERROR and "need 1" in bad_out.reason
    assert bad.step_token == "<<step>>"
