"""Text similarity rewards: exact_match's SQuAD mode, token F1, BLEU, chrF, ROUGE, embeddings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardlab import Sample, SpecError, Status, build_reward
from rewardlab.verifiers.text_similarity import token_f1_score


def score(spec, response: str, reference) -> float | None:
    return build_reward(spec).score_one(Sample(response=response, reference=reference)).score


def test_exact_match_squad_normalization():
    assert score({"name": "exact_match", "squad": True}, "The Eiffel Tower!", "eiffel tower") == 1.0
    assert score("exact_match", "The Eiffel Tower!", "eiffel tower") == 0.0


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        # pred {cat, sat}, gold {cat, sat, down}: p = 1, r = 2/3, F1 = 2 * (2/3) / (5/3) = 0.8
        ("the cat sat", "a cat sat down", 0.8),
        ("Cat, sat!", "cat sat", 1.0),
        ("dog", "cat", 0.0),
        ("", "", 1.0),
        ("the", "cat", 0.0),  # only an article: empty after normalization
        # multiset overlap: pred {a:3}, gold {a:1, b:1} -> c = 1, p = 1/3, r = 1/2, F1 = 0.4
        ("x x x", "x y", 0.4),
    ],
)
def test_token_f1_formula(prediction, reference, expected):
    assert token_f1_score(prediction, reference, ignore_case=True, ignore_punctuation=True,
                          ignore_articles=True) == pytest.approx(expected)


def test_token_f1_reward_takes_the_best_reference():
    out = build_reward("token_f1").score_one(
        Sample(response="cat sat", reference=["dog ran", "the cat sat down"]))
    assert out.score == pytest.approx(0.8)
    assert out.details["best_reference"] == 1


@pytest.mark.parametrize("name", ["token_f1", "bleu", "chrf", "rouge", "embedding_similarity"])
def test_bad_references(name):
    reward = build_reward(name)
    for bad in (None, 5, [], ["ok", 3]):
        out = reward.score_one(Sample(response="x", reference=bad))
        assert out.status is Status.BAD_REFERENCE, (name, bad)


def test_bleu():
    ref = "the cat is on the mat"
    assert score("bleu", ref, ref) == pytest.approx(1.0)
    assert score("bleu", "zzz qqq", ref) == pytest.approx(0.0, abs=1e-6)
    partial = score("bleu", "the cat is on a mat", ref)
    assert 0.0 < partial < 1.0
    # Multiple references: the hypothesis matching one exactly scores 1.
    assert score("bleu", ref, ["a dog", ref]) == pytest.approx(1.0)
    assert score({"name": "bleu", "lowercase": True}, ref.upper(), ref) == pytest.approx(1.0)
    with pytest.raises(SpecError, match="tokenize"):
        build_reward({"name": "bleu", "tokenize": "nope"})


def test_chrf():
    assert score("chrf", "hello world", "hello world") == pytest.approx(1.0)
    assert score("chrf", "qqq", "hello") == pytest.approx(0.0)
    near = score("chrf", "hello wrld", "hello world")
    plus = score({"name": "chrf", "word_order": 2}, "hello wrld", "hello world")
    assert 0.5 < near < 1.0 and 0.0 < plus < near  # chrF++ also counts the missed word


def test_rouge_formula():
    # rouge1: pred {the, cat}, ref {the, cat, sat}: p = 1, r = 2/3, F = 0.8
    assert score({"name": "rouge", "rouge_type": "rouge1"}, "the cat", "the cat sat") \
        == pytest.approx(0.8)
    assert score({"name": "rouge", "rouge_type": "rouge1", "measure": "recall"}, "the cat",
                 "the cat sat") == pytest.approx(2 / 3)
    # rougeL: LCS of "a b c d" and "a c d" is 3: p = 3/4, r = 1, F = 6/7
    assert score({"name": "rouge", "rouge_type": "rougeL"}, "a b c d", "a c d") \
        == pytest.approx(6 / 7)
    # Stemming makes "cats" match "cat".
    assert score("rouge", "cats", "cat") == pytest.approx(1.0)
    assert score({"name": "rouge", "use_stemmer": False}, "cats", "cat") == 0.0
    with pytest.raises(SpecError, match="rouge_type"):
        build_reward({"name": "rouge", "rouge_type": "rougeX"})


def test_embedding_similarity_with_the_offline_minilm():
    reward = build_reward("embedding_similarity")
    outs = reward.score([
        Sample(response="A man is playing a guitar.", reference="A man is playing a guitar."),
        Sample(response="A person plays the guitar.", reference="A man is playing a guitar."),
        Sample(response="The stock market fell today.", reference="A man is playing a guitar."),
        Sample(response="x", reference=None),
    ])
    same, paraphrase, unrelated, bad = outs
    assert same.score == pytest.approx(1.0, abs=1e-4)
    assert paraphrase.score > 0.6 > 0.3 > unrelated.score
    assert bad.status is Status.BAD_REFERENCE
    rescaled = build_reward({"name": "embedding_similarity", "rescale": True}).score_one(
        Sample(response="The stock market fell today.", reference="A man is playing a guitar."))
    assert rescaled.score == pytest.approx((unrelated.score + 1) / 2, abs=1e-5)


def test_missing_extras_are_clear_spec_errors(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sacrebleu", None)
    monkeypatch.setitem(sys.modules, "rouge_score", None)
    for name in ("bleu", "chrf", "rouge"):
        with pytest.raises(SpecError, match=r"pip install 'rewardlab\[text\]'"):
            build_reward(name)


# -- SQuAD v1.1 mode ------------------------------------------------------------------------
# Oracle: the official evaluate-v1.1.py (rajpurkar.github.io/SQuAD-explorer, also at
# github.com/allenai/bi-att-flow/blob/master/squad/evaluate-v1.1.py), re-stated from reading it:
# lower(), drop string.punctuation, \b(a|an|the)\b -> " ", split/join; F1 is 0 when no token
# is shared (so 0 for empty vs empty); the best over the ground truths.


def _official_normalize(s):
    import re
    import string

    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _official_f1(prediction, truth):
    from collections import Counter

    p, g = _official_normalize(prediction).split(), _official_normalize(truth).split()
    same = sum((Counter(p) & Counter(g)).values())
    if same == 0:
        return 0
    precision, recall = 1.0 * same / len(p), 1.0 * same / len(g)
    return (2 * precision * recall) / (precision + recall)


SQUAD_PIECES = ["the", "a", "an", "The", "AN", "Paris", "paris", "ﬁne", "fine", "Straße",
                "STRASSE", "…", "«", "»", "!", ".", ",", "'s", "-", "théâtre", "ÉCOLE", " ",
                "\t", "the-end", "an.", "", "42", "İ"]


@settings(max_examples=300, deadline=None)
@given(prediction=st.lists(st.sampled_from(SQUAD_PIECES), max_size=8).map(" ".join),
       truths=st.lists(st.lists(st.sampled_from(SQUAD_PIECES), max_size=8).map(" ".join),
                       min_size=1, max_size=3))
def test_squad_mode_equals_the_official_script(prediction, truths):
    expected = max(_official_f1(prediction, t) for t in truths)
    out = build_reward({"name": "token_f1", "squad": True}).score_one(
        Sample(response=prediction, reference=truths))
    assert out.score == expected


@pytest.mark.parametrize(("prediction", "truth", "squad", "default"), [
    ("the", "a", 0.0, 1.0),              # both normalize to nothing
    ("ﬁne", "fine", 0.0, 1.0),           # NFKC only in the default mode
    ("Straße", "STRASSE", 0.0, 1.0),     # casefold only in the default mode
    ("wait…", "wait", 0.0, 1.0),         # SQuAD keeps "…"; NFKC makes it "..." (dropped)
])
def test_squad_mode_differs_from_the_default_where_documented(prediction, truth, squad, default):
    assert build_reward({"name": "token_f1", "squad": True}).score_one(
        Sample(response=prediction, reference=truth)).score == squad
    assert build_reward("token_f1").score_one(
        Sample(response=prediction, reference=truth)).score == default


# -- parity with sacrebleu and rouge-score (the references' own code) ------------------------

TEXT_PIECES = ["the", "cat", "sat", "on", "mat", "Mat", "cats", ".", ",", "!", "a", "dog",
               "über", "naïve", "42", "-", "'s", "running", "ran", ""]
texts = st.lists(st.sampled_from(TEXT_PIECES), max_size=12).map(" ".join)


@settings(max_examples=50, deadline=None)
@given(prediction=texts, refs=st.lists(texts, min_size=1, max_size=3),
       tokenize=st.sampled_from(["13a", "intl", "char"]), lowercase=st.booleans(),
       smooth=st.sampled_from(["exp", "floor", "add-k", "none"]))
def test_bleu_and_chrf_equal_sacrebleu(prediction, refs, tokenize, lowercase, smooth):
    sacrebleu = pytest.importorskip("sacrebleu")
    bleu = build_reward({"name": "bleu", "tokenize": tokenize, "lowercase": lowercase,
                         "smooth_method": smooth}).score_one(
        Sample(response=prediction, reference=refs))
    expected = sacrebleu.sentence_bleu(prediction, refs, tokenize=tokenize, lowercase=lowercase,
                                       smooth_method=smooth).score / 100
    assert bleu.score == expected
    chrf = build_reward({"name": "chrf", "word_order": 2}).score_one(
        Sample(response=prediction, reference=refs))
    assert chrf.score == sacrebleu.sentence_chrf(prediction, refs, word_order=2).score / 100


@settings(max_examples=50, deadline=None)
@given(prediction=texts, refs=st.lists(texts, min_size=1, max_size=3),
       rouge_type=st.sampled_from(["rouge1", "rouge2", "rouge4", "rougeL", "rougeLsum"]),
       measure=st.sampled_from(["fmeasure", "precision", "recall"]), stem=st.booleans())
def test_rouge_equals_rouge_score(prediction, refs, rouge_type, measure, stem):
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer([rouge_type], use_stemmer=stem)
    expected = max(getattr(scorer.score(r, prediction)[rouge_type], measure) for r in refs)
    out = build_reward({"name": "rouge", "rouge_type": rouge_type, "measure": measure,
                        "use_stemmer": stem}).score_one(Sample(response=prediction,
                                                               reference=refs))
    assert out.score == expected


@settings(max_examples=300, deadline=None)
@given(prediction=st.lists(st.sampled_from(SQUAD_PIECES), max_size=8).map(" ".join),
       truths=st.lists(st.lists(st.sampled_from(SQUAD_PIECES), max_size=8).map(" ".join),
                       min_size=1, max_size=3))
def test_exact_match_squad_mode_equals_the_official_script(prediction, truths):
    # evaluate-v1.1.py's exact_match_score: normalize_answer(prediction) == normalize_answer(gt),
    # the best over the ground truths
    expected = float(any(_official_normalize(prediction) == _official_normalize(t)
                         for t in truths))
    out = build_reward({"name": "exact_match", "squad": True}).score_one(
        Sample(response=prediction, reference=truths))
    assert out.score == expected
