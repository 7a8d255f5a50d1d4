"""Per-token log-probs with the real Gemma 270M model converted from its GGUF."""

from __future__ import annotations

import math
import random

import pytest

from rewardlab.local.causal_lm import (
    continuation_logprobs,
    encode_pair,
    length_buckets,
    load_causal_lm,
    mean_logprobs,
    sum_logprobs,
)

CONTEXTS = [
    "The capital of France is",
    "Q: What is 2+2?\nA:",
    "",
    "Once upon a time",
    "def add(a, b):\n",
    "Translate to French: cheese =>",
]
CONTINUATIONS = [
    " Paris.",
    " 4",
    "Hello world",
    " there was a little girl who lived in a village near the forest.",
    "    return a + b\n",
    " fromage",
]


@pytest.fixture(scope="module")
def lm(gemma_hf_path):
    return load_causal_lm(gemma_hf_path, dtype="float32")


def test_load_is_cached_per_process(lm, gemma_hf_path):
    assert load_causal_lm(gemma_hf_path, dtype="float32") is lm


def test_logprobs_are_per_continuation_token_and_plausible(lm):
    out = continuation_logprobs(lm, CONTEXTS, CONTINUATIONS)
    for ctx, cont, lps in zip(CONTEXTS, CONTINUATIONS, out, strict=True):
        n_tokens = len(lm.tokenizer(cont, add_special_tokens=False)["input_ids"])
        assert len(lps) == n_tokens, (ctx, cont)
        assert all(lp <= 0 and math.isfinite(lp) for lp in lps)
    paris, london = continuation_logprobs(
        lm, ["The capital of France is"] * 2, [" Paris.", " London."]
    )
    assert sum_logprobs(paris) > sum_logprobs(london) + 1.0


def test_results_do_not_depend_on_batch_size_or_order(lm):
    one = continuation_logprobs(lm, CONTEXTS, CONTINUATIONS, max_batch_size=1)
    many = continuation_logprobs(lm, CONTEXTS, CONTINUATIONS, max_batch_size=16)
    order = list(range(len(CONTEXTS)))
    random.Random(3).shuffle(order)
    shuffled = continuation_logprobs(
        lm, [CONTEXTS[i] for i in order], [CONTINUATIONS[i] for i in order], max_batch_size=4
    )
    unshuffled = [None] * len(order)
    for pos, i in enumerate(order):
        unshuffled[i] = shuffled[pos]
    for a, b, c in zip(one, many, unshuffled, strict=True):
        assert a == pytest.approx(b, abs=1e-4)
        assert a == pytest.approx(c, abs=1e-4)


def test_long_context_is_cut_from_the_left_keeping_the_continuation(lm):
    ids, start, truncated = encode_pair(lm.tokenizer, "word " * 100, " Paris.", max_length=20)
    assert truncated and len(ids) == 20
    assert ids[0] == lm.tokenizer.bos_token_id
    assert ids[start:] == lm.tokenizer(" Paris.", add_special_tokens=False)["input_ids"]


def test_bad_input_is_a_clear_error(lm):
    with pytest.raises(ValueError, match="empty"):
        continuation_logprobs(lm, ["x"], [""])
    with pytest.raises(ValueError, match="contexts"):
        continuation_logprobs(lm, ["x", "y"], ["z"])
    with pytest.raises(ValueError, match="over the limit"):
        encode_pair(lm.tokenizer, "x", "word " * 50, max_length=10)
    with pytest.raises(FileNotFoundError):
        load_causal_lm("/nonexistent/model")
    with pytest.raises(ValueError):
        mean_logprobs([])


def test_length_buckets_respect_budget_and_cover_every_row():
    lengths = [5, 100, 7, 50, 3, 3, 90, 12]
    batches = length_buckets(lengths, token_budget=120, max_batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 120
    with pytest.raises(ValueError):
        length_buckets([1], token_budget=0, max_batch_size=1)
