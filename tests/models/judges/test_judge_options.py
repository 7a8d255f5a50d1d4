"""Judge options are declared once (`JudgeOptions`) and reach every judge the same way: flat spec
keys, a nested `options:` block, or an options object in Python."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from rewardlab import SpecError, build_reward, load_spec
from rewardlab.judges.base import Judge, JudgeOptions
from rewardlab.registry import available_rewards, factory_parameters
from rewardlab.spec import reward_from_spec

OPTION_NAMES = [name for name in inspect.signature(JudgeOptions).parameters]
BACKEND = {"type": "scripted", "replies": ["Fine. [RESULT] 4"]}
JUDGES = ["judge_rubric", "judge_principle", "judge_reasoning", "judge_checklist",
          "judge_verify", "judge_pairwise", "judge_listwise"]


def _state(judge: Judge) -> dict:
    state = {k: v for k, v in vars(judge).items() if k not in ("backend", "_hits_lock")}
    grammar = state.pop("grammar", None)  # compared by what it holds
    return {**state, "grammar": (type(grammar), getattr(grammar, "__dict__", grammar))}


def test_there_are_eight_options_and_every_judge_is_registered():
    assert len(OPTION_NAMES) == 8
    assert set(JUDGES) <= set(available_rewards())


@pytest.mark.parametrize("name", JUDGES)
def test_no_judge_signature_repeats_an_option(name):
    factory = available_rewards()[name].factory
    target = factory.__init__ if isinstance(factory, type) else factory
    params = set(inspect.signature(target).parameters)
    assert params.isdisjoint(OPTION_NAMES), params & set(OPTION_NAMES)
    assert "options" in params
    # ...yet every option is a spec field of the judge, with the judge's own default.
    assert set(OPTION_NAMES) <= set(factory_parameters(factory))


@pytest.mark.parametrize("name", ["judge_rubric", "judge_reasoning", "judge_verify"])
def test_flat_keys_and_a_nested_block_build_equal_judges(name):
    given = {"max_tokens": 99, "max_parse_retries": 0, "screen_master_keys": False,
             "system_prompt": "Be strict."}
    flat = build_reward({"name": name, "backend": BACKEND, **given})
    nested = build_reward({"name": name, "backend": BACKEND, "options": given})
    assert _state(flat) == _state(nested)
    assert flat.options == nested.options and flat.options.max_tokens == 99
    assert flat.system_prompt == "Be strict."


def test_unset_options_keep_the_judges_own_defaults():
    rubric = build_reward({"name": "judge_rubric", "backend": BACKEND, "samples": 3})
    assert rubric.options == JudgeOptions(samples=3, aggregate="mean")
    reasoning = build_reward({"name": "judge_reasoning", "backend": BACKEND,
                              "options": {"max_tokens": 100}})
    assert reasoning.options == JudgeOptions(samples=5, aggregate="vote", temperature=0.7,
                                             max_tokens=100)
    verify = build_reward({"name": "judge_verify", "backend": BACKEND})
    assert verify.options.max_tokens == 256


def test_a_spec_file_with_a_nested_block_scores(tmp_path):
    path = tmp_path / "judge.yaml"
    path.write_text(
        "reward:\n  name: judge_rubric\n  backend: {type: scripted, replies: ['Ok. [RESULT] 4']}\n"
        "  options:\n    samples: 2\n    temperature: 0.5\n", encoding="utf-8")
    judge = reward_from_spec(load_spec(path))
    assert judge.options.samples == 2 and judge.temperature == 0.5
    from rewardlab.types import Sample

    out = judge.score_one(Sample(prompt="q", response="a"))
    assert out.score == pytest.approx(0.75) and out.details["samples"] == [4, 4]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"options": {"samples": 0}}, "samples"),
        ({"options": {"sample": 2}}, "options.sample is not an option"),
        ({"options": 3}, "mapping of options"),
        ({"samples": 2, "options": {"samples": 3}}, "both flat and in the 'options' block"),
        ({"options": {"output": "xml"}}, "output"),
        ({"aggregate": "mean"}, "aggregate must be 'vote'"),  # labels cannot be averaged
    ],
)
def test_bad_options_are_spec_errors_naming_the_option(fields, message):
    name = "judge_pairwise" if "aggregate" in fields else "judge_rubric"
    with pytest.raises(SpecError, match=message):
        build_reward({"name": name, "backend": BACKEND, **fields})


def test_listwise_refuses_samples():
    with pytest.raises(SpecError, match="shuffles"):
        build_reward({"name": "judge_listwise", "backend": BACKEND, "samples": 2})


def test_rewards_command_lists_each_option_once_with_its_description():
    out = subprocess.run([sys.executable, "-m", "rewardlab", "rewards", "judge_rubric"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    for option in OPTION_NAMES:
        heads = [i for i, line in enumerate(lines) if line.startswith(f"  {option}: ")]
        assert len(heads) == 1, (option, out)
        description = lines[heads[0] + 1]
        assert description.startswith("      ") and description.strip(), (option, out)
    assert "default 'mean'" in next(line for line in lines if line.startswith("  aggregate:"))
    assert any(line.startswith("  options: a block of output, samples") for line in lines)
