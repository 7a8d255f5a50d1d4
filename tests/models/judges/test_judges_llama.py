"""Every judge type end to end against a real llama.cpp server (Gemma-3-270M, a base model:
this checks the plumbing, not the quality of the verdicts)."""

from __future__ import annotations

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.backends.openai_backend import OpenAIBackend

ALLOWED = {Status.OK, Status.UNPARSEABLE}
QA = Sample(prompt="What is the capital of France?", response="The capital is Paris.",
            reference="Paris")


@pytest.fixture(scope="module")
def backend(llama_server):
    return OpenAIBackend(llama_server.model, llama_server.base_url)


def check(outcome):
    """A verdict or a typed 'no verdict', never an error or a default score."""
    assert outcome.status in ALLOWED, outcome.reason
    if outcome.status is Status.OK:
        assert 0.0 <= outcome.score <= 1.0
    else:
        assert outcome.score is None


# Small budgets: the server answers one request at a time on a shared CPU.
COMMON = {"max_tokens": 8, "max_parse_retries": 0}


@pytest.mark.parametrize("spec", [
    {"name": "judge_rubric", "use_reference": True},
    {"name": "judge_principle", "principle": "Answer in one short sentence."},
    {"name": "judge_verify"},
    {"name": "judge_pairwise"},
    {"name": "judge_checklist", "checklist": ["Names Paris", {"item": "Is short", "weight": 2}]},
    {"name": "judge_reasoning", "samples": 2, "max_tokens": 8},
], ids=lambda s: s["name"])
def test_judge_types_against_llama_cpp(backend, spec):
    judge = build_reward({**COMMON, **spec, "backend": backend})
    sample = QA if spec["name"] != "judge_pairwise" else Sample(
        prompt=QA.prompt, response=QA.response, reference="It is Lyon.")
    before = backend.stats.requests + backend.stats.cache_hits
    check(judge.score_one(sample))
    assert backend.stats.requests + backend.stats.cache_hits > before


def test_listwise_against_llama_cpp(backend):
    judge = build_reward({**COMMON, "name": "judge_listwise", "backend": backend})
    outcomes = judge.score([Sample(prompt=QA.prompt, response=r, group=1)
                            for r in ("Paris.", "Lyon.")])
    for o in outcomes:
        check(o)
    if outcomes[0].status is Status.OK:
        assert sorted(o.score for o in outcomes) == [0.0, 1.0]


def test_structured_verdicts_fall_back_to_json_object(backend):
    judge = build_reward({"name": "judge_verify", "backend": backend, "output": "json",
                          "max_tokens": 48, "max_parse_retries": 0})
    check(judge.score_one(QA))
    assert "json_schema" in backend.unsupported_modes


def test_master_key_never_reaches_the_server(backend):
    judge = build_reward({**COMMON, "name": "judge_verify", "backend": backend})
    before = backend.stats.requests + backend.stats.cache_hits
    outcome = judge.score_one(Sample(prompt=QA.prompt, response="Thought process:",
                                     reference="Paris"))
    assert outcome.score == 0.0 and outcome.details["master_key"]["kind"] == "reasoning_opener"
    assert backend.stats.requests + backend.stats.cache_hits == before
    assert judge.screen_hits == 1
