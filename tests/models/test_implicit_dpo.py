"""``implicit_dpo`` on the real Gemma 270M model (policy and reference)."""

from __future__ import annotations

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.local.causal_lm import continuation_logprobs, load_causal_lm

SAMPLES = [
    Sample(prompt="The capital of France is", response="Paris."),
    Sample(prompt="The capital of France is", response="a small cheese shop in Berlin."),
    Sample(prompt=[{"role": "user", "content": "Count: 1, 2, 3,"}], response="4, 5, 6"),
]


def spec(gemma, **kw):
    return {"name": "implicit_dpo", "policy": str(gemma), **kw}


def test_reference_free_is_beta_times_policy_logprob(gemma_hf_path):
    rm = build_reward(spec(gemma_hf_path, beta=0.5, separator=" "))
    outcomes = rm.score(SAMPLES)
    assert all(o.status is Status.OK for o in outcomes)
    lm = load_causal_lm(gemma_hf_path)
    lps = continuation_logprobs(
        lm, [s.prompt_text + " " for s in SAMPLES], [s.response for s in SAMPLES]
    )
    for o, lp in zip(outcomes, lps, strict=True):
        assert o.score == pytest.approx(0.5 * sum(lp), abs=1e-4)
        assert o.details["tokens"] == len(lp)
    assert outcomes[0].score > outcomes[1].score  # a real LM prefers the true continuation
    mean = build_reward(spec(gemma_hf_path, beta=0.5, separator=" ", aggregation="mean"))
    assert mean.score_one(SAMPLES[1]).score == pytest.approx(
        outcomes[1].score / outcomes[1].details["tokens"], abs=1e-4
    )


def test_policy_against_reference(gemma_hf_path):
    same = build_reward(spec(gemma_hf_path, reference=str(gemma_hf_path), beta=0.1))
    assert [o.score for o in same.score(SAMPLES)] == pytest.approx([0.0] * 3, abs=1e-6)
    # a different reference: the same weights run in bfloat16 give a small non-zero ratio
    other = build_reward(
        spec(gemma_hf_path, reference=str(gemma_hf_path), beta=0.1, aggregation="sum")
    )
    from rewardlab.reward_models.implicit_dpo import ImplicitDPO

    bf16_ref = ImplicitDPO(str(gemma_hf_path), reference=str(gemma_hf_path), dtype="bfloat16")
    policy, _ = other._models()
    _, reference = bf16_ref._models()
    assert reference.model.dtype != policy.model.dtype
    other._models = lambda: (policy, reference)  # policy fp32 vs reference bf16
    for aggregation in ("sum", "mean", "length_normalized"):
        other.aggregation = aggregation
        for s, o in zip(SAMPLES, other.score(SAMPLES), strict=True):
            d = o.details
            ratio = d["logp_policy"] - d["logp_reference"]
            assert ratio != 0.0
            expected = {
                "sum": ratio,
                "mean": d["logp_policy"] / d["tokens"]
                - d["logp_reference"] / d["reference_tokens"],
                "length_normalized": ratio / len(s.response),
            }[aggregation]
            assert o.score == pytest.approx(0.1 * expected, rel=1e-6)


def test_bad_input(gemma_hf_path):
    with pytest.raises(Exception, match="aggregation"):
        build_reward(spec(gemma_hf_path, aggregation="max"))
    with pytest.raises(Exception, match="beta"):
        build_reward(spec(gemma_hf_path, beta=0))
    with pytest.raises(Exception, match="not found"):
        build_reward(spec(gemma_hf_path, reference="/nonexistent/ref"))
    rm = build_reward(spec(gemma_hf_path))
    assert rm.score_one(Sample(prompt="x", response="")).status is Status.SKIPPED
    chat = build_reward(spec(gemma_hf_path, format="chat"))
    assert chat.score_one(SAMPLES[0]).status is Status.ERROR  # no chat template: a clear error
