"""Generative step verification: verdict logic with a scripted judge, plumbing on a real server."""

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.backends.llm import LLMBackend, StructuredResult
from rewardlab.prm.reward import ProcessReward
from rewardlab.prm.scorers.judge import JudgeScorer, verdict_step_scores, verification_messages


def test_verdict_to_step_scores():
    assert verdict_step_scores(0, 3) == [1.0, 1.0, 1.0]
    assert verdict_step_scores(2, 4) == [1.0, 0.0, 0.0, 0.0]
    assert verdict_step_scores(1, 1) == [0.0]
    with pytest.raises(ValueError, match="has 3 steps"):
        verdict_step_scores(5, 3)
    with pytest.raises(ValueError, match="not an integer"):
        verdict_step_scores("2", 3)
    with pytest.raises(ValueError, match="not an integer"):
        verdict_step_scores(True, 3)


def test_messages_number_the_steps():
    msgs = verification_messages("What is 1+1?", ["1+1=3", "So 3."])
    assert "Step 1: 1+1=3\n\nStep 2: So 3." in msgs[-1]["content"]
    assert msgs[-1]["content"].startswith("Problem:\nWhat is 1+1?")


class ScriptedJudge(LLMBackend):
    """Answers the verdicts it is given, in turn (a stand-in for a real judge's replies)."""

    model = "scripted"

    def __init__(self, verdicts):
        super().__init__()
        self.verdicts = list(verdicts)
        self.calls = 0

    async def chat(self, messages, **kw):
        raise NotImplementedError

    async def structured(self, messages, schema, **kw):
        v = self.verdicts[self.calls % len(self.verdicts)]
        self.calls += 1
        return StructuredResult(data={"first_error_step": v}, mode="scripted", result=None)

    async def continuation_logprobs(self, context, continuation):
        raise NotImplementedError


def test_sampled_verdicts_average_into_graded_scores():
    reward = ProcessReward(JudgeScorer(ScriptedJudge([2, 0]), samples=2), aggregation="min")
    out = reward.score_one(Sample(response="a\n\nb\n\nc", prompt="q"))
    assert out.details["step_scores"] == [1.0, 0.5, 0.5]
    assert out.score == 0.5


def test_out_of_range_verdict_is_an_error_outcome():
    reward = ProcessReward(JudgeScorer(ScriptedJudge([9])))
    out = reward.score_one(Sample(response="a\n\nb", prompt="q"))
    assert out.status is Status.ERROR and "named step 9" in out.reason


def test_judge_prm_against_real_llama_server(llama_server):
    reward = build_reward({
        "name": "prm", "backend": "judge",
        "judge": {"type": "openai", "base_url": llama_server.base_url,
                  "model": llama_server.model, "api_key": "x", "default_max_tokens": 64},
    })
    out = reward.score_one(Sample(response="2 + 3 = 6.\n\nSo the answer is 6.",
                                  prompt="What is 2 + 3?"))
    # a 270M base model's verdict is noise, but it must come back as a well-formed verdict or
    # as a typed failure saying why it could not be read
    if out.is_ok:
        scores = out.details["step_scores"]
        assert len(scores) == 2 and set(scores) <= {0.0, 1.0}
        assert scores == sorted(scores, reverse=True)  # ones, then zeros from the first error
    else:
        assert out.status is Status.ERROR and out.reason
    reward.close()
