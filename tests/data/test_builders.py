"""The data builders on hand-made groups: what is chosen, what is dropped and why."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardlab.data import (
    DataReport,
    FilterOptions,
    PairOptions,
    RelabelOptions,
    SelectOptions,
    build_records,
    row_from_record,
)
from rewardlab.data.rows import Dropped


def rows_of(records):
    return [row_from_record(r, n) for n, r in enumerate(records, start=1)]


def group(prompt, scored, **extra):
    return [{"prompt": prompt, "response": text, "score": score, **extra}
            for text, score in scored]


def build(records, options):
    report = DataReport("test")
    out = list(build_records(iter(rows_of(records)), options, report=report))
    return out, report


def test_best_worst_pairs_one_per_prompt_and_skip_ties():
    records = group("p1", [("a", 1.0), ("b", 0.0), ("c", 0.5)]) + \
        group("p2", [("x", 1.0), ("y", 1.0)])  # a tie: no pair
    out, report = build(records, PairOptions())
    assert [(r["prompt"], r["chosen"], r["rejected"], r["margin"]) for r in out] == \
        [("p1", "a", "b", 1.0)]
    assert report.dropped_in_groups == Counter(no_pair_with_margin=1)
    assert report.groups == 2 and report.groups_with_output == 1


def test_all_strategy_respects_margin_and_cap_largest_first():
    records = group("p", [("a", 1.0), ("b", 0.7), ("c", 0.5), ("d", 0.0)])
    out, _ = build(records, PairOptions(strategy="all", min_margin=0.5))
    assert [(r["chosen"], r["rejected"]) for r in out] == \
        [("a", "d"), ("b", "d"), ("a", "c"), ("c", "d")]
    capped, report = build(records, PairOptions(strategy="all", min_margin=0.5,
                                                max_pairs_per_prompt=1))
    assert [(r["chosen"], r["rejected"]) for r in capped] == [("a", "d")]
    assert report.dropped_in_groups["pairs_over_cap"] == 3


def test_best_random_is_seeded_by_group_not_by_position():
    records = group("p", [(f"r{i}", i / 10) for i in range(10)])
    first, _ = build(records, PairOptions(strategy="best_random", seed=3))
    shuffled = records[:]
    random.Random(0).shuffle(shuffled)
    second, _ = build(shuffled, PairOptions(strategy="best_random", seed=3))
    assert first == second
    assert first[0]["chosen"] == "r9" and first[0]["rejected"] != "r9"
    others = {build(records, PairOptions(strategy="best_random", seed=s))[0][0]["rejected"]
              for s in range(20)}
    assert len(others) > 1  # the seed matters


def test_verifier_gate_on_score_and_on_a_gate_field():
    records = group("p", [("half right", 0.6), ("wrong", 0.0)])
    out, report = build(records, PairOptions(chosen_min_score=1.0))
    assert out == [] and report.dropped_in_groups == Counter(no_chosen_passes_gate=1)
    # The gate field: the best by score fails its verifier, the runner-up passes.
    gated = [{"prompt": "q", "response": "long pretty wrong", "score": 0.9, "gate": False},
             {"prompt": "q", "response": "right", "score": 0.8, "gate": True},
             {"prompt": "q", "response": "bad", "score": 0.1, "gate": False}]
    out, _ = build(gated, PairOptions(gate_min=1.0, format="trl"))
    assert [(r["chosen"], r["rejected"]) for r in out] == [("right", "bad")]
    # A missing gate value never passes.
    out, _ = build([{k: v for k, v in r.items() if k != "gate"} for r in gated],
                   PairOptions(gate_min=1.0))
    assert out == []


def test_rejected_max_score_keeps_partially_right_answers_out_of_rejected():
    records = group("p", [("right", 1.0), ("partly", 0.5)])
    out, _ = build(records, PairOptions(chosen_min_score=1.0, rejected_max_score=0.0))
    assert out == []


def test_duplicates_never_pair_with_themselves():
    records = group("p", [("same answer", 1.0), (" same   answer ", 0.0)])
    out, report = build(records, PairOptions())
    assert out == []
    assert report.dropped_in_groups["duplicate_response"] == 1


def test_failed_outcomes_are_never_used_and_are_counted():
    records = [
        {"prompt": "p", "response": "timed out but high", "score": 5.0, "status": "timeout"},
        {"prompt": "p", "response": "error", "score": None, "status": "error"},
        {"prompt": "p", "response": "nan", "score": float("nan")},
        {"prompt": "p", "response": "good", "score": 1.0, "status": "ok"},
        {"prompt": "p", "response": "bad", "score": 0.0, "status": "ok"},
        ["not", "an", "object"],
        {"prompt": "p", "score": 1.0},
    ]
    out, report = build(records, PairOptions())
    assert [(r["chosen"], r["rejected"]) for r in out] == [("good", "bad")]
    assert report.dropped_rows == Counter({"status:timeout": 1, "status:error": 1,
                                           "no_score": 1, "not_an_object": 1,
                                           "missing_response": 1})
    assert report.rows_read == 7 and report.rows_used == 2


def test_chat_prompts_give_conversational_records_in_both_formats():
    chat = [{"role": "user", "content": "2+2?"}]
    records = group(chat, [("4", 1.0), ("5", 0.0)])
    trl, _ = build(records, PairOptions(format="trl"))
    assert trl[0]["prompt"] == chat
    assert trl[0]["chosen"] == [{"role": "assistant", "content": "4"}]
    orlhf, _ = build(records, PairOptions(format="openrlhf"))
    assert "prompt" not in orlhf[0]
    assert orlhf[0]["chosen"] == [*chat, {"role": "assistant", "content": "4"}]
    assert orlhf[0]["rejected"][-1] == {"role": "assistant", "content": "5"}


def test_select_top_k_threshold_cap_and_dedupe():
    records = group("p", [("a", 0.9), ("a ", 0.8), ("b", 0.7), ("c", 0.2)])
    out, report = build(records, SelectOptions(top_k=2))
    assert [(r["completion"], r["rank"]) for r in out] == [("a", 1), ("b", 2)]
    assert report.dropped_in_groups == Counter(duplicate_response=1, below_top_k=1)
    out, _ = build(records, SelectOptions(top_k=None, min_score=0.5))
    assert [r["completion"] for r in out] == ["a", "b"]
    out, _ = build(records, SelectOptions(top_k=None, min_score=0.0, max_per_prompt=1))
    assert [r["completion"] for r in out] == ["a"]
    with pytest.raises(ValueError, match="top_k, min_score"):
        SelectOptions(top_k=None)


def test_filter_reasons_and_stats():
    records = (group("constant", [("a", 1.0), ("b", 1.0)])
               + group("hard", [("a", 0.0), ("b", 0.0), ("c", 1.0), ("d", 0.0)])
               + group("mid", [("a", 1.0), ("b", 0.0)]))
    out, report = build(records, FilterOptions(min_pass_rate=0.3))
    assert [r["prompt"] for r in out] == ["mid"]
    assert out[0]["pass_rate"] == 0.5 and out[0]["gap"] == 1.0 and out[0]["n"] == 2
    assert report.dropped_in_groups == Counter(zero_variance=1, pass_rate_below_band=1)
    rip, _ = build(records, FilterOptions(drop_constant=False, max_gap=0.5))
    assert [r["prompt"] for r in rip] == ["constant"]
    rows, _ = build(records, FilterOptions(rows=True, max_pass_rate=0.5))
    assert sorted((r["prompt"], r["response"]) for r in rows) == \
        sorted([("hard", x) for x in "abcd"] + [("mid", "a"), ("mid", "b")])


def test_relabel_text_and_chat_prompts_with_levels():
    chat = [{"role": "user", "content": "hi"}]
    records = group("q", [("good", 0.9), ("poor", 0.1)]) + group(chat, [("ok", 0.5)])
    options = RelabelOptions(template="[quality: {level}] {prompt}", levels=(0.5,),
                             level_names=("low", "high"))
    out, _ = build(records, options)
    by_completion = {r["completion"]: r for r in out}
    assert by_completion["good"]["prompt"] == "[quality: high] q"
    assert by_completion["poor"]["prompt"] == "[quality: low] q"
    assert by_completion["ok"]["prompt"][0] == {"role": "system", "content": "[quality: high]"}
    assert by_completion["ok"]["prompt"][1:] == chat
    assert by_completion["good"]["target_reward"] == 0.9
    with pytest.raises(ValueError, match="level_names"):
        RelabelOptions(levels=(0.5,), level_names=("one",))
    with pytest.raises(ValueError, match="template"):
        RelabelOptions(template="{answer}")


@pytest.mark.parametrize("bad", [{"strategy": "worst"}, {"format": "csv"},
                                 {"min_margin": float("nan")}, {"min_margin": -1},
                                 {"max_pairs_per_prompt": 0}])
def test_pair_options_are_validated(bad):
    with pytest.raises(ValueError):
        PairOptions(**bad)


# --- properties ---------------------------------------------------------------------------

score_values = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 1.0]))
record = st.fixed_dictionaries({
    "prompt": st.sampled_from(["p1", "p2", "p3", "p4"]),
    "response": st.text(alphabet="ab c", max_size=4),
    "score": st.one_of(score_values, st.none(), st.just(float("inf"))),
    "status": st.sampled_from(["ok", "ok", "ok", "error", "timeout", "unparseable"]),
})
pair_options = st.builds(
    PairOptions, strategy=st.sampled_from(["best_worst", "all", "best_random"]),
    min_margin=st.sampled_from([0.0, 0.5, 2.0]),
    chosen_min_score=st.sampled_from([None, 0.0, 1.0]),
    max_pairs_per_prompt=st.sampled_from([None, 1, 3]), seed=st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(st.lists(record, max_size=40), pair_options, st.randoms(use_true_random=False),
       st.sampled_from([1, 3]))
def test_pair_properties(records, options, rnd, spills):
    out, _ = build(records, options)
    usable = {(r["prompt"], r["response"]): r for r in records}
    for pair in out:
        assert " ".join(pair["chosen"].split()) != " ".join(pair["rejected"].split())
        assert pair["margin"] >= options.min_margin and pair["margin"] > options.tie_epsilon
        assert pair["margin"] == pair["score_chosen"] - pair["score_rejected"]
        if options.chosen_min_score is not None:
            assert pair["score_chosen"] >= options.chosen_min_score
        # both sides come from rows whose outcome was ok with a finite score
        for side in ("chosen", "rejected"):
            matches = [r for r in records if r["prompt"] == pair["prompt"]
                       and r["response"] == pair[side] and r["status"] == "ok"
                       and r["score"] == pair[f"score_{side}"]]
            assert matches, (side, pair, usable)
    # The output does not depend on the input order, nor on spilling to temp files.
    shuffled = records[:]
    rnd.shuffle(shuffled)
    again = list(build_records(iter(rows_of(shuffled)), options, spills=spills))
    assert json.dumps(again) == json.dumps(out)


def test_dropped_rows_keep_their_line_numbers():
    rows = rows_of([{"prompt": "p"}, {"prompt": "p", "response": "r", "score": 1}])
    assert rows[0] == Dropped("missing_response", 1)
