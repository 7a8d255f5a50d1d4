"""The implicit PRM backend on a real causal LM (Gemma-3-270M converted from its GGUF package)."""

import pytest

from rewardlab import Sample, build_reward

STEPS = ["2 + 3 = 5.", "So the answer is 5."]


@pytest.fixture(scope="module")
def gemma(gemma_hf_path):
    return str(gemma_hf_path)


def test_reference_free_step_scores_are_step_loglikelihoods(gemma):
    from rewardlab.local.causal_lm import continuation_logprobs, load_causal_lm

    reward = build_reward(
        {"name": "prm", "backend": "implicit", "model": gemma, "beta": 0.5, "threshold": 0}
    )
    out = reward.score_one(Sample(response="\n\n".join(STEPS), prompt="What is 2 + 3?"))
    assert out.is_ok, out.reason
    scores = out.details["step_scores"]
    lm = load_causal_lm(gemma)
    direct = continuation_logprobs(
        lm, ["What is 2 + 3?\n", "What is 2 + 3?\n2 + 3 = 5.\n\n"], ["2 + 3 = 5.\n\n", STEPS[1]]
    )
    assert scores == pytest.approx([0.5 * sum(d) for d in direct], rel=1e-4)
    assert all(s < 0 for s in scores)  # log-likelihoods
    assert out.details["first_error_step"] == 0  # every step is under threshold 0


def test_policy_equal_to_reference_gives_zero_rewards(gemma):
    reward = build_reward(
        {"name": "prm", "backend": "implicit", "model": gemma, "ref_model": gemma}
    )
    out = reward.score_one(Sample(response="\n\n".join(STEPS), prompt="What is 2 + 3?"))
    assert out.details["step_scores"] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="beta"):
        build_reward({"name": "prm", "backend": "implicit", "model": str(tmp_path), "beta": -1})
    with pytest.raises(ValueError, match="needs 'model'"):
        build_reward({"name": "prm", "backend": "implicit"})


def test_math_shepherd_style_lm_head_on_real_causal_lm(gemma):
    """special_token with head=lm: P(+) / (P(+) + P(-)) at the tag after each step."""
    import torch

    from rewardlab.local.causal_lm import load_causal_lm

    reward = build_reward({
        "name": "prm", "backend": "special_token", "model": gemma, "head": "lm",
        "step_token": "ки", "good_token": "+", "bad_token": "-", "chat_template": False,
    })
    out = reward.score_one(Sample(response="\n\n".join(STEPS), prompt="What is 2 + 3?"))
    assert out.is_ok, out.reason
    scores = out.details["step_scores"]
    assert len(scores) == 2 and all(0.0 < s < 1.0 for s in scores)
    # the same probabilities from the shared causal-LM loader, at the tag positions
    scorer = reward.scorer
    ids, positions = scorer.encode("What is 2 + 3?", STEPS)
    lm = load_causal_lm(gemma)
    tok = lm.tokenizer
    plus = tok.encode("+", add_special_tokens=False)[0]
    minus = tok.encode("-", add_special_tokens=False)[0]
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0].float()
    want = [float(logits[p, [plus, minus]].softmax(-1)[0]) for p in positions]
    assert scores == pytest.approx(want, abs=1e-4)
    reward.close()
