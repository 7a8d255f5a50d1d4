"""One spec grammar, inline and in files, validated at every level (issue 17, issue 16)."""

from __future__ import annotations

import pytest

from rewardlab import Sample, SpecError, build_reward, load_spec, reward_from_spec
from rewardlab.compose.combinators import Gated, WeightedSum
from rewardlab.integrations.common import get_plans
from rewardlab.spec import declares_aliases, single_reward_spec

GATED = '{name: gated, gate: {name: regex, pattern: "boxed"}, reward: exact_match}'


def both_ways(text: str, tmp_path) -> list:
    """The same spec built inline and from a file."""
    path = tmp_path / "spec.yaml"
    path.write_text(text + "\n")
    return [reward_from_spec(text), reward_from_spec(path)]


def test_a_reward_with_a_field_named_reward_keeps_its_other_fields(tmp_path):
    for reward in both_ways(GATED, tmp_path):
        assert isinstance(reward, Gated)
        unboxed, boxed = reward.score([Sample(response="4", reference="4"),
                                       Sample(response="\\boxed{4} 4", reference="\\boxed{4} 4")])
        assert unboxed.score == 0.0 and unboxed.details["gate_passed"] is False
        assert boxed.score == 1.0


def test_the_issue_example_with_math_is_gated(tmp_path):
    spec = '{name: gated, gate: {name: regex, pattern: "boxed"}, reward: math}'
    for reward in both_ways(spec, tmp_path):
        outcome = reward.score_one(Sample(response="The answer is 4.", reference="4"))
        assert outcome.score == 0.0, outcome  # was 1.0: the gate had been dropped


def test_inline_weighted_sum_with_rewards_field(tmp_path):
    spec = "{name: weighted_sum, rewards: {a: exact_match, b: {name: exact_match, " \
           "ignore_case: true}}, weights: {a: 0.5, b: 0.5}}"
    for reward in both_ways(spec, tmp_path):
        assert isinstance(reward, WeightedSum)
        assert reward.score_one(Sample(response="X", reference="x")).score == 0.5
    assert not declares_aliases(load_spec(spec))
    plans, routed = get_plans(spec)
    assert not routed and len(plans) == 1


@pytest.mark.parametrize("spec, where, suggestion", [
    ("rewrd: exact_match", "top-level key 'rewrd'", "did you mean 'reward'"),
    ("reward: {name: exact_match, ignorecase: true}", "'ignorecase'", "did you mean 'ignore_case'"),
    ("reward: {name: weighted_sum, rewards: {a: {name: exact_match, ignor_case: true}}}",
     "'ignor_case'", "did you mean 'ignore_case'"),
    ("reward: {name: gated, gate: think_answer, reward: math, extra: 1}", "'extra'",
     "fields of gated"),
    ("reward: exact_mach", "'exact_mach'", "did you mean 'exact_match'"),
    ("{reward: exact_match, rewards: {a: exact_match}}", "not both", ""),
    ("{serve: {max_queue: 4}}", "no 'reward' or 'rewards'", ""),
])
def test_unknown_keys_at_every_level_are_errors_that_teach(spec, where, suggestion, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(spec + "\n")
    for source in (spec, path):
        with pytest.raises(SpecError) as err:
            reward_from_spec(source)
        assert where in str(err.value) and suggestion in str(err.value), str(err.value)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "0", "-3"])
def test_timeouts_must_be_finite_and_positive(value):
    with pytest.raises(SpecError, match="'timeout'"):
        reward_from_spec(f"reward: {{name: exact_match, timeout: {value}}}")


def test_non_finite_numbers_anywhere_are_named():
    with pytest.raises(SpecError, match=r"'weights\.a' must be a finite number"):
        reward_from_spec("{name: weighted_sum, rewards: {a: exact_match}, weights: {a: .nan}}")
    with pytest.raises(SpecError, match="'test_timeout'"):
        build_reward({"name": "code", "test_timeout": float("inf"), "allow_weaker": True})


def test_server_settings_numbers_are_checked_too():
    with pytest.raises(SpecError, match=r"'serve\.request_timeout' must be a finite number"):
        reward_from_spec("reward: exact_match\nserve: {request_timeout: .inf}")


def test_recursive_anchor_is_refused():
    with pytest.raises(SpecError, match="refers to itself"):
        load_spec("reward: &r {name: weighted_sum, rewards: {a: *r}}")


def test_alias_bomb_is_refused_quickly():
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(SpecError, match="too large"):
        load_spec("\n".join(lines))


def test_oversized_and_too_deep_specs_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("reward: exact_match\n" + "# padding\n" * 200_000)
    with pytest.raises(SpecError, match="larger than"):
        load_spec(big)
    with pytest.raises(SpecError, match="nested deeper"):
        load_spec("[" * 5000 + "]" * 5000)
    with pytest.raises(SpecError, match="nested deeper"):
        load_spec("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)))


def test_duplicate_yaml_keys_are_refused_but_merges_work():
    with pytest.raises(SpecError, match="duplicate key 'reward'"):
        load_spec("reward: exact_match\nreward: math\n")
    data = load_spec("base: &b {name: exact_match}\nreward: {<<: *b, ignore_case: true}")
    assert data["reward"] == {"name": "exact_match", "ignore_case": True}


def test_single_reward_spec_unwraps_documents_only():
    assert single_reward_spec("reward: math") == "math"
    inner = single_reward_spec(GATED)
    assert inner["name"] == "gated" and inner["reward"] == "exact_match"
    with pytest.raises(SpecError, match="expected one reward"):
        single_reward_spec("rewards: {a: math, b: exact_match}")
