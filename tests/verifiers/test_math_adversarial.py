"""The ``math`` reward against a policy hunting for an undeserved 1.0.

``tests/data/math_adversarial/corpus.jsonl`` (rebuilt by ``build_corpus.py`` next to it) holds
labelled pairs: ``expected`` 0 must never be credited (wrong, hedged, look-alike, resource
attacks), ``expected`` 1 must be (complete multi-part answers in any order, honest controls).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rewardlab import Sample, Status
from rewardlab.verifiers._math_answers import split_parts
from rewardlab.verifiers._math_unicode import POISON, normalize_unicode
from rewardlab.verifiers.math_verifier import MathVerifier

CORPUS = Path(__file__).parents[1] / "data" / "math_adversarial" / "corpus.jsonl"
# The false-positive classes of issue 15, each of which the corpus must cover.
ISSUE_CLASSES = {
    "decimal_comma_tuple", "fixed_decimal", "hedge_or_maybe", "hedge_alternatively",
    "mc_box_list", "mc_or", "mc_all_options", "hedge_wall", "hedge_candidates",
    "hedge_question", "reopened_think", "unicode_zero_width", "unicode_combining",
    "unicode_arabic_separator", "unicode_superscript", "variable_name", "units",
    "text_in_box", "negation_cmd", "disjunction_cmd", "quoted_echo", "multi_part",
    "multi_part_hedge", "resource",
}


def rows() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def response_of(row: dict) -> str:
    if "repeat" in row:
        unit, count = row["repeat"]
        return row["response"] + unit * count + row.get("suffix", "")
    return row["response"]


def test_corpus_covers_every_class():
    corpus = rows()
    classes = Counter(row["class"] for row in corpus)
    assert len(corpus) >= 500
    assert set(classes) >= ISSUE_CLASSES, ISSUE_CLASSES - set(classes)
    assert len({row["id"] for row in corpus}) == len(corpus)


@pytest.mark.slow
def test_no_wrong_or_hedged_answer_is_credited():
    reward = MathVerifier(isolation="inline")
    credited_wrongly, missed = [], []
    for row in rows():
        outcome = reward.compute(Sample(response=response_of(row), reference=row["reference"]))
        assert outcome.status in (Status.OK, Status.UNPARSEABLE, Status.BAD_REFERENCE), row["id"]
        if row["expected"] == 0 and outcome.score == 1.0:
            credited_wrongly.append((row["id"], outcome.details.get("method")))
        if row["expected"] == 1 and outcome.score != 1.0:
            missed.append((row["id"], outcome.reason))
    assert credited_wrongly == []
    assert missed == []


@pytest.mark.slow
def test_every_pair_is_typed_within_its_deadline_in_engine_workers():
    """Through the engine (process isolation, hard deadline): the guards settle every pair,
    so no outcome is a timeout or an error."""
    corpus = rows()
    reward = MathVerifier(timeout=10.0, cache=False)
    outcomes = reward.score([Sample(response=response_of(r), reference=r["reference"])
                             for r in corpus])
    settled = {Status.OK, Status.UNPARSEABLE, Status.BAD_REFERENCE}
    unsettled = [(r["id"], o.status, o.reason) for r, o in zip(corpus, outcomes, strict=True)
                 if o.status not in settled]
    assert unsettled == []
    credited = [r["id"] for r, o in zip(corpus, outcomes, strict=True)
                if r["expected"] == 0 and o.score == 1.0]
    assert credited == []


def verdict(response: str, reference: str, **options):
    return MathVerifier(isolation="inline", **options).compute(
        Sample(response=response, reference=reference))


def test_unicode_normalisation_is_recorded_in_details():
    outcome = verdict("\\boxed{\uff14\u200b\uff12}", "42")
    assert outcome.score == 1.0
    assert outcome.details["unicode"] == ["zero_width", "nfkc"]
    assert "unicode" not in verdict("\\boxed{42}", "42").details
    assert normalize_unicode("2\u2074")[0] == "2^{4}"
    assert normalize_unicode("3\u066b5")[0] == "3.5"
    assert POISON in normalize_unicode("4\u0338")[0]
    assert normalize_unicode("caf\u00e9 4")[0] == "caf\u00e9 4"  # accents on letters are prose


@pytest.mark.parametrize(
    ("answer", "parts"),
    [("1, 2, 3", ["1", "2", "3"]), ("\\{1, 2\\}", ["1", "2"]), ("(1, 2)", ["(1, 2)"]),
     ("[0, 1)", ["[0, 1)"]), ("1,000", ["1,000"]), ("x = 3 \\text{ or } x = -1",
                                                     ["x = 3", "x = -1"]),
     ("\\pm 2021", ["2021", "-2021"]), ("(7,11)or(11,7)", ["(7,11)", "(11,7)"]),
     ("f(1, 2), 3", ["f(1, 2)", "3"]), ("32,\\! 349", ["32,\\! 349"])],
)
def test_split_parts(answer, parts):
    assert split_parts(answer) == parts


@pytest.mark.parametrize(
    ("response", "reference", "expected"),
    [
        ("\\boxed{-2,1}", "\\(\\boxed{1}\\) and \\(\\boxed{-2}\\)", 1.0),
        ("\\boxed{1,2,3}", "$1$ and $2$ and $3$", 1.0),
        ("\\boxed{-2021, 2021}", "\\pm 2021", 1.0),
        ("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", "$(3, 3), (1, 1)$", 1.0),
        ("\\boxed{(2, 1)}", "(1, 2)", 0.0),  # a tuple is ordered
        ("\\boxed{1, 2, 3}", "1, 2", 0.0),  # more values than the reference: a hedge
        ("\\boxed{3, 4}", "4", 0.0),  # a list for a single answer: a hedge
        ("\\boxed{4, 4}", "4", 1.0),  # the same value twice is still one answer
        ("\\boxed{3}. Wait, actually \\boxed{4}", "4", 1.0),  # a correction
        ("\\boxed{3} and then \\boxed{4}", "4", 1.0),
    ],
)
def test_answer_set_semantics(response, reference, expected):
    outcome = verdict(response, reference)
    assert outcome.status is Status.OK, outcome
    assert outcome.score == expected, outcome


def test_hedges_say_why():
    outcome = verdict("$\\sqrt{9}$ or maybe $4$", "4")
    assert (outcome.score, outcome.details["hedge"]) == (0.0, True)
    assert "maybe" in outcome.reason
    assert "wall" in verdict(" ".join(f"\\boxed{{{i}}}" for i in range(1, 12)), "11").reason
    assert "reopened" in verdict("<think>a</think>\\boxed{4}<think>or 5", "4").reason
