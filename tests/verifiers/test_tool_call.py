"""The ``tool_call`` reward on handmade calls in OpenAI and ``<tool_call>`` text formats."""

from __future__ import annotations

import json

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.verifiers.tool_call import parse_calls, score_calls, to_call, values_equal

WEATHER = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
SEARCH = {"name": "search", "arguments": {"query": "rewardlab", "limit": 5}}
GOLD = [WEATHER, SEARCH]


def openai_call(call: dict, call_id: str = "call_1") -> dict:
    return {"id": call_id, "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}


def hermes(*calls: dict) -> str:
    return "I'll look that up.\n" + "\n".join(
        f"<tool_call>\n{json.dumps(c)}\n</tool_call>" for c in calls)


@pytest.fixture(scope="module")
def reward():
    return build_reward("tool_call")


def test_perfect_calls_in_any_order_score_one(reward):
    outcome = reward.score_one(Sample(response=hermes(SEARCH, WEATHER), reference=GOLD))
    assert outcome.score == 1.0 and outcome.details["exact"] is True


def test_openai_tool_calls_from_metadata_and_from_a_json_message(reward):
    calls = [openai_call(WEATHER, "a"), openai_call(SEARCH, "b")]
    via_metadata = Sample(response="", metadata={"tool_calls": calls}, reference=GOLD)
    assert reward.score_one(via_metadata).score == 1.0
    message = json.dumps({"role": "assistant", "content": None, "tool_calls": calls})
    assert reward.score_one(Sample(response=message, reference=GOLD)).score == 1.0
    gold_openai = {"tool_calls": calls}
    assert reward.score_one(Sample(response=hermes(WEATHER, SEARCH),
                                   reference=gold_openai)).score == 1.0


def test_toolrl_decomposition_by_hand():
    gold = [to_call(WEATHER), to_call(SEARCH)]
    # One call right except one value, the other missing:
    pred = [to_call({"name": "get_weather", "arguments": {"city": "Paris", "unit": "kelvin"}})]
    parts = score_calls(gold, pred)
    # name Jaccard 1/2; params Jaccard 1 for the matched call; values 1 of 2;
    # max = 1 + 2 calls + 4 gold parameters = 7.
    assert parts["name"] == pytest.approx(0.5)
    assert parts["params"] == pytest.approx(1.0)
    assert parts["values"] == pytest.approx(1.0)
    assert parts["score"] == pytest.approx((0.5 + 1.0 + 1.0) / 7)
    # An extra parameter lowers the parameter-name overlap:
    pred = [to_call({"name": "search", "arguments": {"query": "rewardlab", "limit": 5,
                                                      "lang": "en"}})]
    parts = score_calls([to_call(SEARCH)], pred)
    assert parts["params"] == pytest.approx(2 / 3)
    assert parts["score"] == pytest.approx((1 + 2 / 3 + 2) / 4)


def test_values_compare_strictly_unless_a_coercion_is_named(reward):
    loose = {"name": "search", "arguments": {"limit": "5", "query": " rewardlab "}}
    strict = reward.score_one(Sample(response=hermes(loose), reference=[SEARCH]))
    assert strict.score == pytest.approx((1 + 1 + 0) / 4)
    lenient = build_reward({"name": "tool_call",
                            "coerce": ["numeric_strings", "trim_strings"]})
    assert lenient.score_one(Sample(response=hermes(loose), reference=[SEARCH])).score == 1.0
    assert values_equal({"b": [1.0, 2], "a": None}, {"a": None, "b": [1, 2.0]})
    assert not values_equal(True, 1) and not values_equal("true", True)
    assert values_equal([1, 2], "[1, 2]", ["json_strings"])


def test_extra_and_wrong_calls_cost(reward):
    extra = reward.score_one(Sample(response=hermes(WEATHER, SEARCH, {"name": "delete_all",
                                                                      "arguments": {}}),
                                    reference=GOLD))
    assert 0 < extra.score < 1 and extra.details["name"] == pytest.approx(2 / 3)
    wrong = reward.score_one(Sample(response=hermes({"name": "book_flight", "arguments": {}}),
                                    reference=GOLD))
    assert wrong.score == 0.0


def test_no_call_expected(reward):
    assert reward.score_one(Sample(response="The answer is 4.", reference=[])).score == 1.0
    assert reward.score_one(Sample(response=hermes(WEATHER), reference=[])).score == 0.0


def test_several_calls_in_one_block_and_duplicates(reward):
    block = f"<tool_call>\n{json.dumps(WEATHER)}\n{json.dumps(SEARCH)}\n</tool_call>"
    assert reward.score_one(Sample(response=block, reference=GOLD)).score == 1.0
    twice = [WEATHER, {"name": "get_weather", "arguments": {"city": "Rome", "unit": "celsius"}}]
    swapped = hermes(twice[1], twice[0])
    assert reward.score_one(Sample(response=swapped, reference=twice)).score == 1.0


def test_malformed_tool_call_json(reward):
    broken = "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"x\"\n</tool_call>"
    outcome = reward.score_one(Sample(response=broken, reference=[SEARCH]))
    assert outcome.status is Status.OK and outcome.score == 0.0
    assert outcome.details["malformed"] == 1 and "invalid JSON" in outcome.details["errors"][0]
    strict = build_reward({"name": "tool_call", "malformed": "unparseable"})
    assert strict.score_one(Sample(response=broken, reference=[SEARCH])).status \
        is Status.UNPARSEABLE
    half = hermes(WEATHER) + "\n<tool_call>{oops}</tool_call>"
    mixed = reward.score_one(Sample(response=half, reference=GOLD))
    assert 0 < mixed.score < score_calls([to_call(c) for c in GOLD], [to_call(WEATHER)])["score"]
    bad_args = openai_call(SEARCH)
    bad_args["function"]["arguments"] = "{not json"
    outcome = reward.score_one(Sample(response="", metadata={"tool_calls": [bad_args]},
                                      reference=[SEARCH]))
    assert outcome.score == 0.0 and "not valid JSON" in outcome.details["errors"][0]


def test_exact_mode(reward):
    exact = build_reward({"name": "tool_call", "exact": True})
    assert exact.score_one(Sample(response=hermes(SEARCH, WEATHER), reference=GOLD)).score == 1
    assert exact.score_one(Sample(response=hermes(SEARCH), reference=GOLD)).score == 0.0


def test_bad_reference(reward):
    for ref in [None, "{broken", [{"arguments": {}}], [{"name": "x", "arguments": [1]}]]:
        assert reward.score_one(Sample(response=hermes(SEARCH), reference=ref)).status \
            is Status.BAD_REFERENCE, ref


def test_parse_calls_plain_json_forms():
    calls, errors = parse_calls(json.dumps(SEARCH))
    assert calls == [to_call(SEARCH)] and errors == []
    calls, errors = parse_calls("```json\n" + json.dumps([WEATHER]) + "\n```")
    assert calls == [to_call(WEATHER)]
    calls, errors = parse_calls("no calls here")
    assert calls == [] and errors == []


def test_many_calls_use_the_greedy_matcher():
    gold = [to_call({"name": f"t{i}", "arguments": {"x": i}}) for i in range(12)]
    parts = score_calls(gold, list(reversed(gold)))
    assert parts["score"] == pytest.approx(1.0) and parts["exact"]
