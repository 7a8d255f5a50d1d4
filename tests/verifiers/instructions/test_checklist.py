"""The ``checklist`` reward: programmatic items, judge questions, weights, per-item verdicts,
and un-judgeable items that are reported and never counted as passed."""

from __future__ import annotations

import pytest

from rewardlab import Sample, Status
from rewardlab.backends.scripted_backend import ScriptedBackend
from rewardlab.spec import SpecError, build_reward

ITEMS = [
    {"id": "punctuation:no_comma", "weight": 2},
    {"kind": "regex", "pattern": "^Dear", "label": "greets"},
    {"kind": "json", "schema": {"type": "object"}, "weight": 0.5},
    {"kind": "length", "min_words": 2, "max_words": 6},
    "Is the response polite?",
]


def _reward(**fields):
    return build_reward({"name": "checklist", "isolation": "inline", **fields})


def _by_label(outcome):
    return {row["label"]: row["satisfied"] for row in outcome.details["items"]}


def test_weighted_score_and_per_item_verdicts_with_a_judge() -> None:
    backend = ScriptedBackend(["Polite enough. [RESULT] YES"])
    reward = _reward(items=ITEMS, judge=backend)
    out = reward.score_one(Sample(response="Dear Bob thanks a lot", prompt="Write a note"))
    assert out.status is Status.OK
    assert _by_label(out) == {"punctuation:no_comma": True, "greets": True,
                              "valid JSON for the schema": False,
                              "min words 2, max words 6": True,
                              "Is the response polite?": True}
    assert out.score == pytest.approx((2 + 1 + 1 + 1) / 5.5)
    # the judge saw the instruction, the response and the question
    asked = backend.calls[-1]["messages"][-1]["content"]
    assert "Write a note" in asked and "Dear Bob thanks a lot" in asked
    assert "Is the response polite?" in asked


def test_unparseable_judge_item_is_reported_not_passed() -> None:
    backend = ScriptedBackend(["I cannot decide."])
    sample = Sample(response="Dear Bob thanks", prompt="p")
    no_score = _reward(items=ITEMS, judge=backend, judge_max_tokens=32).score_one(sample)
    assert no_score.status is Status.UNPARSEABLE and no_score.score is None
    assert _by_label(no_score)["Is the response polite?"] is None
    assert no_score.details["unjudged"] == 1
    failed = _reward(items=ITEMS, judge=backend, on_unjudged="count_as_failed").score_one(sample)
    assert failed.score == pytest.approx(4 / 5.5)
    renorm = _reward(items=ITEMS, judge=backend, on_unjudged="renormalize").score_one(sample)
    assert renorm.score == pytest.approx(4 / 4.5)


def test_judge_questions_without_a_judge_are_unjudged() -> None:
    out = _reward(items=ITEMS).score_one(Sample(response="Dear Bob"))
    assert out.status is Status.ERROR
    assert "no judge backend" in out.details["items"][-1]["note"]


def test_undetectable_language_is_unjudged_not_passed() -> None:
    reward = _reward(items=[{"id": "language:response_language", "kwargs": {"language": "fr"}}],
                     on_unjudged="count_as_failed")
    out = reward.score_one(Sample(response="12345 6789"))
    assert out.score == 0.0 and out.details["items"][0]["satisfied"] is None


def test_constraint_needing_missing_data_is_unjudged_not_bad_reference() -> None:
    import nltk

    try:
        nltk.data.find("corpora/stopwords")
        pytest.skip("NLTK's stopwords corpus is installed here")
    except LookupError:
        pass
    reward = _reward(items=[{"id": "ratio:stop_words", "kwargs": {"percentage": 50}},
                            {"id": "punctuation:no_comma"}], on_unjudged="renormalize")
    out = reward.score_one(Sample(response="no commas here"))
    assert out.score == 1.0 and out.details["unjudged"] == 1
    assert "stopwords" in out.details["items"][0]["note"]
    strict = _reward(items=[{"id": "ratio:stop_words", "kwargs": {"percentage": 50}}])
    assert strict.score_one(Sample(response="x")).status is Status.ERROR


def test_per_sample_checklists_from_reference_and_metadata() -> None:
    reward = _reward()
    by_ref = reward.score_one(Sample(response="a b", reference={"checklist": [
        {"kind": "length", "max_words": 1}]}))
    by_meta = reward.score_one(Sample(response="a b", metadata={"checklist": [
        {"id": "startend:quotation", "loose": True}]}))
    assert by_ref.score == 0.0 and by_meta.score == 0.0
    loose = reward.score_one(Sample(response='**"quoted"**', reference=[
        {"id": "startend:quotation", "loose": True}, {"id": "startend:quotation"}]))
    assert [r["satisfied"] for r in loose.details["items"]] == [True, False]


@pytest.mark.parametrize("items", [
    [], "not a list", [{"kind": "nope"}], [{"id": "no:such"}], [{"kind": "regex", "pattern": "("}],
    [{"kind": "json", "schema": {"type": 5}}], [{"kind": "length"}],
    [{"kind": "length", "max_words": -1}], [{"kind": "judge", "question": " "}],
    [{"id": "punctuation:no_comma", "weight": -1}], [{"id": "punctuation:no_comma", "weight": 0}],
])
def test_bad_items_fail_at_build_and_are_bad_reference_per_sample(items) -> None:
    with pytest.raises((ValueError, SpecError)):
        _reward(items=items)
    out = _reward().score_one(Sample(response="x", metadata={"checklist": items}))
    assert out.status is Status.BAD_REFERENCE, out


def test_no_checklist_anywhere_is_bad_reference() -> None:
    assert _reward().score_one(Sample(response="x")).status is Status.BAD_REFERENCE


def test_programmatic_items_hold_their_deadline_and_judge_items_still_answer() -> None:
    backend = ScriptedBackend(["[RESULT] YES"])
    reward = build_reward({"name": "checklist", "timeout": 2.0, "judge": backend,
                           "on_unjudged": "count_as_failed", "items": [
                               {"kind": "regex", "pattern": "(a+)+$"}, "Is it fine?"]})
    out = reward.score_one(Sample(response="a" * 40 + "!"))
    rows = out.details["items"]
    assert rows[0]["satisfied"] is None and rows[0]["note"].startswith("timeout")
    assert rows[1]["satisfied"] is True
    assert out.score == 0.5


@pytest.mark.slow
def test_judge_questions_against_a_real_llama_cpp_server(llama_server) -> None:
    from rewardlab.backends.openai_backend import OpenAIBackend

    backend = OpenAIBackend(llama_server.model, llama_server.base_url)
    reward = _reward(items=[{"id": "punctuation:no_comma"}, "Does the response mention Paris?"],
                     judge=backend, judge_max_tokens=64, on_unjudged="count_as_failed")
    out = reward.score_one(Sample(response="The capital of France is Paris.",
                                  prompt="What is the capital of France?"))
    assert out.status is Status.OK
    rows = out.details["items"]
    assert rows[0]["satisfied"] is True
    # Gemma 3 270M may answer YES, NO or nothing parseable; a missing verdict is reported and
    # scores as failed, never as passed.
    if rows[1]["satisfied"] is None:
        assert out.details["unjudged"] == 1 and out.score == 0.5
        assert rows[1]["note"].startswith("judge reply unparseable")
    else:
        assert out.score == (1.0 if rows[1]["satisfied"] else 0.5)
