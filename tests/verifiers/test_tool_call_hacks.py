"""Reward hacks on ``tool_call``: each must earn less than the honest answer, or nothing.

Thinking like a policy: hedge with many calls, repeat the gold tool, hide calls in the
reasoning, smuggle values through type conversions, or exploit the parser.
"""

from __future__ import annotations

import json

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.verifiers.tool_call import answer_part

WEATHER = {"name": "get_weather", "arguments": {"city": "Paris"}}
FUNCTIONS = [{"name": "get_weather", "description": "Weather of a city.",
              "parameters": {"type": "dict", "properties": {
                  "city": {"type": "string", "description": "City name."},
                  "days": {"type": "integer", "description": "Forecast days."},
                  "metric": {"type": "boolean", "description": "Metric units."},
                  "hours": {"type": "array", "items": {"type": "integer"},
                            "description": "Hours."},
                  "scale": {"type": "float", "description": "Scale."}},
                  "required": ["city"]}},
             {"name": "get_time", "description": "Time of a city.",
              "parameters": {"type": "dict", "properties": {
                  "city": {"type": "string", "description": "City name."}},
                  "required": ["city"]}}]
BFCL_REF = {"function": FUNCTIONS, "ground_truth": [{"get_weather": {
    "city": ["Paris", "Paris, France"], "days": [5, ""], "metric": [True, ""],
    "hours": [[1, 2]], "scale": [2.0, ""]}}]}


def call(name: str, **arguments) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


@pytest.fixture(scope="module")
def toolrl():
    return build_reward("tool_call")


@pytest.fixture(scope="module")
def bfcl():
    return build_reward({"name": "tool_call", "mode": "bfcl"})


def score(reward, response: str, reference=None) -> float:
    outcome = reward.score_one(Sample(response=response,
                                      reference=[WEATHER] if reference is None else reference))
    assert outcome.status is Status.OK, outcome
    return outcome.score


# --- hedging ---------------------------------------------------------------------------------

def test_hedging_with_the_gold_tool_name_costs_in_toolrl_and_fails_in_bfcl(toolrl, bfcl):
    honest = score(toolrl, call("get_weather", city="Paris"))
    two = score(toolrl, call("get_weather", city="Paris") + call("get_weather", city="Rome"))
    cities = ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Quito", "Hanoi", "Accra"]
    eight = score(toolrl, "".join(call("get_weather", city=c) for c in cities))
    assert honest == 1.0 and two < honest and eight < two
    assert two == pytest.approx((1 / 2 + 1 + 1) / 3)  # name overlap counts calls: 1 of 2
    assert eight == pytest.approx((1 / 8 + 1 + 1) / 3)
    assert score(bfcl, call("get_weather", city="Paris") + call("get_weather", city="Rome"),
                 BFCL_REF) == 0.0
    # A repeat of the exact gold call is an extra call too.
    assert score(toolrl, call("get_weather", city="Paris") * 2) < 1.0
    assert score(bfcl, call("get_weather", city="Paris") * 2, BFCL_REF) == 0.0


def test_hedging_with_other_tools(toolrl, bfcl):
    hedge = call("get_weather", city="Paris") + call("get_time", city="Paris") + call("noop")
    assert score(toolrl, hedge) == pytest.approx((1 / 3 + 1 + 1) / 3)  # ToolRL partial credit
    assert score(bfcl, hedge, BFCL_REF) == 0.0
    exact = build_reward({"name": "tool_call", "exact": True})
    assert score(exact, hedge) == 0.0


def test_the_paper_s_set_overlap_is_available_and_documented_as_repeat_blind():
    paper = build_reward({"name": "tool_call", "name_overlap": "set"})
    repeat = call("get_weather", city="Paris") + call("get_weather", city="Rome")
    assert score(paper, repeat) == 1.0  # the paper's literal formula cannot see repeats


def test_toolrl_paper_scale():
    paper = build_reward({"name": "tool_call", "scale": "toolrl"})
    assert score(paper, call("get_weather", city="Paris")) == pytest.approx(3.0)
    assert score(paper, "no call") == pytest.approx(-3.0)
    assert score(paper, call("get_weather", city="Rome")) == pytest.approx(6 * 2 / 3 - 3)


# --- calls outside the answer ----------------------------------------------------------------

@pytest.mark.parametrize("response", [
    "<think>Maybe " + call("get_weather", city="Paris") + " but no.</think>I cannot help.",
    "<think>" + call("get_weather", city="Paris"),  # never closed: all reasoning
    "Let me think " + call("get_weather", city="Paris") + "</think>Done.",  # template opener
    "<THINK>" + call("get_weather", city="Paris") + "</Think>",
    "<thinking>" + call("get_weather", city="Paris") + "</thinking>",
    "<reasoning>" + call("get_weather", city="Paris") + "</reasoning>\n",
])
def test_calls_inside_reasoning_do_not_count(toolrl, bfcl, response):
    assert score(toolrl, response) == 0.0
    assert score(bfcl, response, BFCL_REF) == 0.0
    exact = build_reward({"name": "tool_call", "exact": True})
    assert score(exact, response) == 0.0


def test_calls_after_reasoning_count_and_the_rule_is_configurable(toolrl):
    answer = "<think>I should call it.</think>" + call("get_weather", city="Paris")
    assert score(toolrl, answer) == 1.0
    anywhere = build_reward({"name": "tool_call", "reasoning_tags": []})
    assert score(anywhere, "<think>" + call("get_weather", city="Paris") + "</think>") == 1.0
    custom = build_reward({"name": "tool_call", "reasoning_tags": ["scratch"]})
    assert score(custom, "<scratch>" + call("get_weather", city="Paris") + "</scratch>") == 0
    assert answer_part("a<think>b</think>c<think>d") == "a c"


# --- type tricks -----------------------------------------------------------------------------

@pytest.mark.parametrize(("gold", "trick"), [
    (True, 1), (1, True), (False, 0), (5, "5"), ("5", 5), ([1, 2], "[1, 2]"),
    ({"a": 1}, '{"a": 1}'), (None, "null"), (None, 0), ("true", True), (0.3, 0.1 + 0.2),
    ("Paris", " Paris"), ("Paris", "paris"), ([1, 2], [2, 1]), ([1], 1),
])
def test_type_and_value_tricks_earn_no_value_credit(toolrl, gold, trick):
    reference = [{"name": "f", "arguments": {"x": gold}}]
    # name 1 + params 1 + values 0 over S_max 3: the value point is withheld.
    assert score(toolrl, call("f", x=trick), reference) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("param", "trick"), [
    ("days", True), ("days", "5"), ("days", 5.0), ("metric", 1), ("metric", "true"),
    ("hours", "[1, 2]"), ("hours", [1.0, 2.0]), ("hours", [True, 2]), ("scale", "2.0"),
    ("scale", True), ("city", ["Paris"]), ("days", [5]),
])
def test_bfcl_type_rules(bfcl, param, trick):
    honest = {"city": "Paris", "days": 5, "metric": True, "hours": [1, 2], "scale": 2.0}
    assert score(bfcl, call("get_weather", **honest), BFCL_REF) == 1.0
    assert score(bfcl, call("get_weather", **{**honest, param: trick}), BFCL_REF) == 0.0


def test_bfcl_accepts_what_bfcl_accepts(bfcl):
    # int for float; optional parameters left out; any listed value; BFCL's string
    # standardisation (case, spaces and ,./-_*^ ignored).
    for args in [{"city": "Paris", "scale": 2}, {"city": "paris, france"},
                 {"city": "PARIS"}, {"city": "Paris", "days": 5, "metric": True}]:
        args["hours"] = [1, 2]
        assert score(bfcl, call("get_weather", **args), BFCL_REF) == 1.0, args
    for args in [{"city": "Lyon"}, {"city": "Paris", "days": 6}, {"days": 5},
                 {"city": "Paris", "unit": "C"}, {"city": "Paris"}]:  # the last lacks hours
        assert score(bfcl, call("get_weather", **args), BFCL_REF) == 0.0, args


def test_bfcl_quirk_kept_for_agreement_optional_arrays_skip_element_types(bfcl):
    """BFCL checks array element types only against list entries of the possible answer;
    with ``""`` (optional) among them the check passes, and ``[1.0, 2.0] == [1, 2]`` in
    Python. BFCL mode keeps this to agree with BFCL; toolrl mode is strict."""
    reference = {"function": FUNCTIONS, "ground_truth": [{"get_weather": {
        "city": ["Paris"], "hours": [[1, 2], ""]}}]}
    assert score(bfcl, call("get_weather", city="Paris", hours=[1.0, 2.0]), reference) == 1.0
    strict = [{"name": "get_weather", "arguments": {"city": "Paris", "hours": [1, 2]}}]
    exact = build_reward({"name": "tool_call", "exact": True})
    assert score(exact, call("get_weather", city="Paris", hours=[True, 2]), strict) == 0.0


def test_lenient_coercions_are_opt_in_and_named():
    lenient = build_reward({"name": "tool_call", "coerce": ["numeric_strings", "json_strings"]})
    assert score(lenient, call("f", x="5"), [{"name": "f", "arguments": {"x": 5}}]) == 1.0
    assert score(lenient, call("f", x="[1, 2]"),
                 [{"name": "f", "arguments": {"x": [1, 2]}}]) == 1.0
    # Even lenient, a boolean never equals a number.
    assert score(lenient, call("f", x=1), [{"name": "f", "arguments": {"x": True}}]) < 1.0
    with pytest.raises(ValueError, match="coercion"):
        build_reward({"name": "tool_call", "coerce": ["anything_goes"]})
    with pytest.raises(ValueError, match="bfcl"):
        build_reward({"name": "tool_call", "mode": "bfcl", "coerce": ["numeric_strings"]})


# --- parser and reference edge cases ---------------------------------------------------------

def test_malformed_or_partial_output_gets_no_bfcl_credit(bfcl):
    honest = call("get_weather", city="Paris")
    assert score(bfcl, honest + "<tool_call>{oops}</tool_call>", BFCL_REF) == 0.0
    assert score(bfcl, "", BFCL_REF) == 0.0
    assert score(bfcl, "Paris", BFCL_REF) == 0.0


def test_bad_bfcl_references_are_typed(bfcl):
    for reference in [[WEATHER], {"function": FUNCTIONS}, "{nope",
                      {"function": FUNCTIONS, "ground_truth": [{"missing_fn": {}}]},
                      {"function": [{"name": "f", "parameters": {"properties": {
                          "x": {"type": "complex"}}}}], "ground_truth": [{"f": {"x": [1]}}]}]:
        outcome = bfcl.score_one(Sample(response=call("f", x=1), reference=reference))
        assert outcome.status is Status.BAD_REFERENCE, reference


def test_bfcl_underscore_names_are_an_explicit_option():
    reference = {"function": [{"name": "math.gcd", "parameters": {"type": "dict", "properties": {
        "a": {"type": "integer"}}, "required": ["a"]}}], "ground_truth": [{"math.gcd": {
            "a": [4]}}]}
    plain = build_reward({"name": "tool_call", "mode": "bfcl"})
    underscored = build_reward({"name": "tool_call", "mode": "bfcl", "underscore_to_dot": True})
    assert score(plain, call("math.gcd", a=4), reference) == 1.0
    assert score(plain, call("math_gcd", a=4), reference) == 0.0
    assert score(underscored, call("math_gcd", a=4), reference) == 1.0
    assert score(underscored, call("math.gcd", a=4), reference) == 0.0
    with pytest.raises(ValueError, match="underscore_to_dot"):
        build_reward({"name": "tool_call", "underscore_to_dot": True})


def test_pathological_responses_stay_cheap(toolrl):
    """Quadratic parsing or matching would not finish within pytest's timeout here."""
    many_tags = "<think>x</think>" * 200_000 + call("get_weather", city="Paris")
    assert score(toolrl, many_tags) == 1.0
    unterminated = "<think " * 200_000 + call("get_weather", city="Paris")
    assert score(toolrl, unterminated) == 1.0
    many_calls = "".join(call("get_weather", city=f"c{i}") for i in range(5_000))
    assert 0 < score(toolrl, many_calls + call("get_weather", city="Paris")) < 0.7
