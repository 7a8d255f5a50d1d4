"""Beam search and CARDS against a real llama_cpp.server (Gemma-270M), guided by a real PRM."""

import asyncio

import pytest

from rewardlab import build_reward
from rewardlab.search.cards import cards_search
from rewardlab.search.generators import OpenAICompletionsGenerator, TokenBudget
from rewardlab.search.step_search import StepSearch, beam_search

PROMPT = "Question: Tom has 3 apples and buys 4 more. How many apples does he have?\nSolution:\n"


@pytest.fixture(scope="module")
def prm_reward(minilm_prm):
    reward = build_reward({"name": "prm", "model": str(minilm_prm), "aggregation": "min"})
    yield reward
    reward.close()


def _search(llama_server, reward, budget):
    gen = OpenAICompletionsGenerator(llama_server.base_url, llama_server.model)
    return gen, StepSearch(
        generator=gen, reward=reward, prompt=PROMPT, step_separator="\n",
        max_step_tokens=16, max_steps=2, temperature=0.9, seed=7, budget=TokenBudget(budget),
    )


def test_beam_search_live_respects_budget(llama_server, prm_reward):
    gen, search = _search(llama_server, prm_reward, budget=60)
    result = asyncio.run(beam_search(search, beam_width=2, expansions=2))
    usage = result.usage
    assert 0 < usage["completion_tokens"] <= 60
    assert usage["calls"] >= 2
    assert result.steps and result.response
    assert result.score is not None and 0.0 <= result.score <= 1.0
    assert result.scored >= 2
    # the kept beams come complete responses first, then by the PRM's score
    keys = [(c.finished, c.score) for c in result.candidates if c.score is not None]
    assert keys == sorted(keys, reverse=True)
    assert result.score == result.candidates[0].score
    asyncio.run(gen.aclose())


def test_cards_live_respects_budget(llama_server, prm_reward):
    gen, search = _search(llama_server, prm_reward, budget=40)
    # a bar no random-head PRM reaches: every segment is re-sampled until the retries run out
    result = asyncio.run(cards_search(search, threshold=1.01, max_retries=1))
    usage = result.usage
    assert 0 < usage["completion_tokens"] <= 40
    segments = result.details["segments"]
    assert segments and all(s["forced"] for s in segments)
    assert sum(s["proposals"] for s in segments) == usage["calls"]
    assert result.details["rejected"] == usage["calls"] - len(segments)
    asyncio.run(gen.aclose())


def test_early_rejection_in_process_llama(prm_reward):
    pytest.importorskip("llama_cpp")
    from rewardlab.local.llama_server import gemma_gguf_path
    from rewardlab.search.generators import LlamaCppGenerator
    from rewardlab.search.step_search import early_rejection_search

    gen = LlamaCppGenerator(gemma_gguf_path(), n_ctx=512, n_threads=2)
    search = StepSearch(
        generator=gen, reward=prm_reward, prompt=PROMPT, step_separator="\n",
        max_step_tokens=12, max_steps=2, temperature=0.9, seed=3, budget=TokenBudget(48),
    )
    result = asyncio.run(early_rejection_search(search, n=3, keep_fraction=0.3))
    usage = result.usage
    assert 0 < usage["completion_tokens"] <= 48
    assert usage["prompt_tokens"] > 0
    assert result.details["started"] == 3
    # after the first step only one response keeps growing: 3 first steps, then 1 second step
    assert usage["calls"] <= 4
    assert result.response
    asyncio.run(gen.aclose())
