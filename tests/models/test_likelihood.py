"""Likelihood rewards: answer splitting and formulas with a scripted backend, then end to end
through llama.cpp (completions echo + logprobs) and the in-process transformers backend."""

from __future__ import annotations

import asyncio
import math

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.backends.openai_backend import OpenAIBackend
from rewardlab.backends.scripted_backend import ScriptedBackend
from rewardlab.reward_models.likelihood import (
    AnswerConfidenceReward,
    FollowUpLikelihoodReward,
    RLPRReward,
    split_answer,
)

MATH = Sample(prompt="What is 2 + 3?", response="2 + 3 = 5.\nThe answer is 5.", reference="5")


@pytest.mark.parametrize(("response", "reasoning", "answer"), [
    ("We add. \\boxed{\\frac{1}{2}} done", "We add.", "\\frac{1}{2}"),
    ("Work <<2*3=6>>6\n#### 6", "Work <<2*3=6>>6", "6"),
    ("Janet has 3.\nA: 18", "Janet has 3.", "18"),
    ("2 + 3 = 5. Answer: 5", "2 + 3 = 5.", "5"),
    ("so the final answer is 42.", "so", "42"),
    ("<think>x</think><answer> Paris </answer>", "<think>x</think>", "Paris"),
])
def test_split_answer(response, reasoning, answer):
    split = split_answer(response)
    assert split is not None and split.answer == answer and split.reasoning == reasoning


def test_split_answer_none_without_marker():
    assert split_answer("I am not sure.") is None


def test_rlpr_scores_the_reference_after_the_reasoning():
    backend = ScriptedBackend(["unused"], logprob=math.log(0.5))
    outcome = RLPRReward(backend).score_one(MATH)
    assert outcome.score == pytest.approx(0.5) and outcome.details["answer_found"]
    call = backend.calls[0]
    assert call["continuation"] == "5"
    assert call["context"].endswith("2 + 3 = 5.\nThe answer is ")
    assert "The answer is 5." not in call["context"]  # the response's own answer is removed


def test_rlpr_debias_and_bad_reference():
    backend = ScriptedBackend(["unused"], logprob=math.log(0.5))
    outcome = RLPRReward(backend, debias=True).score_one(MATH)
    assert outcome.score == 0.0  # same probability with and without reasoning: no gain
    assert len(backend.calls) == 2
    missing = RLPRReward(backend).score_one(Sample(prompt="Q", response="A"))
    assert missing.status is Status.BAD_REFERENCE


def test_confidence_needs_an_answer():
    backend = ScriptedBackend(["unused"], logprob=-1.0)
    reward = AnswerConfidenceReward(backend)
    ok, missing = reward.score([MATH, Sample(prompt="Q", response="No idea.")])
    assert ok.score == pytest.approx(math.exp(-1.0)) and backend.calls[0]["continuation"] == "5"
    assert missing.status is Status.UNPARSEABLE


def test_follow_up_difference():
    class Backend(ScriptedBackend):
        async def continuation_logprobs(self, context, continuation):
            self._logprob = -0.5 if continuation.startswith("Thanks") else -2.0
            return await super().continuation_logprobs(context, continuation)

    reward = FollowUpLikelihoodReward(Backend(["x"]), positive=["Thanks!"], negative=["Wrong."])
    outcome = reward.score_one(MATH)
    assert outcome.score == pytest.approx(1.5)
    with pytest.raises(ValueError):
        FollowUpLikelihoodReward(Backend(["x"]), positive=[])


def test_specs_build_likelihood_rewards():
    reward = build_reward({"name": "rlpr", "debias": True,
                           "backend": {"type": "openai", "model": "m",
                                       "base_url": "http://127.0.0.1:9/v1"}})
    assert isinstance(reward, RLPRReward) and isinstance(reward.backend, OpenAIBackend)


# --- real models -------------------------------------------------------------------------------


def test_likelihood_rewards_over_http_with_echo(llama_server):
    # llama.cpp sorts the whole 262k-token vocabulary in Python for every echoed prompt token,
    # so keep this to one short prompt; the formulas are checked above and on the transformers
    # backend below.
    backend = OpenAIBackend(llama_server.model, llama_server.base_url)
    short = Sample(prompt="2 + 3?", response="2 + 3 = 5. Answer: 5", reference="5")
    outcome = RLPRReward(backend).score_one(short)
    assert outcome.status is Status.OK, outcome.reason
    assert 0 < outcome.score <= 1 and outcome.details["answer_found"]
    assert backend.stats.requests == 1


def test_transformers_backend_chat_and_likelihood(gemma_hf_path):
    from rewardlab.backends.hf_backend import TransformersBackend

    backend = TransformersBackend(str(gemma_hf_path))
    result = asyncio.run(backend.chat([{"role": "user", "content": "Say hello."}], max_tokens=4,
                                      logprobs=True, top_logprobs=3))
    assert result.completion_tokens >= 1 and result.logprobs
    assert all(t.logprob <= 0 and len(t.top) == 3 for t in result.logprobs)
    # greedy decoding: each chosen token is the most likely one
    assert all(t.logprob == pytest.approx(t.top[0][1], abs=1e-4) for t in result.logprobs)
    right, wrong = RLPRReward(backend).score([MATH, Sample(prompt=MATH.prompt,
                                                           response=MATH.response,
                                                           reference="banana")])
    assert 0 < wrong.score < right.score <= 1
    confidence = AnswerConfidenceReward(backend).score_one(MATH)
    assert 0 < confidence.score <= 1
    follow = FollowUpLikelihoodReward(backend, positive=["Thanks!"], negative=["Wrong."]).score_one(
        MATH)
    assert follow.status is Status.OK and math.isfinite(follow.score)
