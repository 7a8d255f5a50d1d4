"""PRM scorers are a name registry: a third-party scorer is one module, its fields flat in the
``prm`` spec, and the built-in backends keep their spec keys."""

from __future__ import annotations

import pytest

from rewardlab import Sample, SpecError, Status, build_reward
from rewardlab.prm.reward import StepItem
from rewardlab.prm.reward_factory import prm
from rewardlab.prm.scorers import SCORERS
from rewardlab.registry import factory_parameters, field_descriptions


class LengthScorer:
    """Scores each step by whether it is at most ``limit`` characters long."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.closed = False

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        return [[float(len(s) <= self.limit) for s in steps] for _, steps in items]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def length_scorer():
    @SCORERS.register("step_length")
    def step_length(max_chars: int, strict: bool = False) -> LengthScorer:
        """A step is good when it is short.

        Args:
            max_chars: The longest good step, in characters.
            strict: Unused here; shows a second field.
        """
        return LengthScorer(max_chars)

    yield step_length
    SCORERS._members.pop("step_length")  # leave the registry as the other tests expect it


def test_third_party_scorer_from_a_flat_spec(length_scorer):
    reward = build_reward(
        {"name": "prm", "backend": "step_length", "max_chars": 5, "aggregation": "mean",
         "threshold": 0.5}
    )
    out = reward.score_one(Sample(response="short\n\nmuch longer step\n\nok"))
    assert out.is_ok, out.reason
    assert out.details["step_scores"] == [1.0, 0.0, 1.0]
    assert out.score == pytest.approx(2 / 3)
    assert out.details["first_error_step"] == 1
    reward.close()
    assert reward.scorer.closed


def test_registered_scorer_fields_join_the_prm_schema(length_scorer):
    params = factory_parameters(prm)
    assert "max_chars" in params and "strict" in params
    assert "The longest good step" in field_descriptions(prm)["max_chars"]
    assert "step_length" in prm.__doc__


def test_scorer_fields_are_checked_against_the_chosen_scorer(length_scorer):
    with pytest.raises(SpecError, match="needs 'max_chars'"):
        build_reward({"name": "prm", "backend": "step_length"})
    with pytest.raises(SpecError, match="does not take 'model'"):
        build_reward({"name": "prm", "backend": "step_length", "max_chars": 3, "model": "x"})
    with pytest.raises(SpecError, match="max_chars"):  # the scorer's own hint: an int
        build_reward({"name": "prm", "backend": "step_length", "max_chars": "many"})
    with pytest.raises(SpecError, match=r"unknown PRM scorer 'step_lenght'.*did you mean"):
        build_reward({"name": "prm", "backend": "step_lenght", "max_chars": 3})


def test_builtin_backends_keep_their_flat_keys():
    params = factory_parameters(prm)
    old_keys = {
        "backend", "model", "aggregation", "threshold", "split", "separator", "temperature",
        "step_separator", "step_token", "head", "good_token", "bad_token", "chat_template",
        "trust_remote_code", "batch_size", "device", "max_length", "ref_model", "beta", "judge",
        "judge_samples", "judge_temperature", "url", "remote_reward", "token", "timeout",
    }
    assert old_keys <= set(params)
    assert set(SCORERS.names()) >= {
        "token_classification", "special_token", "implicit", "judge", "remote"
    }
    assert params["backend"][1] == "token_classification"


def test_an_empty_step_list_is_still_unparseable(length_scorer):
    reward = build_reward({"name": "prm", "backend": "step_length", "max_chars": 5})
    assert reward.score_one(Sample(response="")).status is Status.UNPARSEABLE


def test_the_architecture_doc_example_is_one_working_module():
    """docs/architecture.md's "PRM scorers" example, run as written."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "SCORERS" in b]
    exec(compile(block, "architecture.md", "exec"), {"__name__": "doc_example"})
    try:
        reward = build_reward({"name": "prm", "backend": "short_steps", "max_chars": 3})
        out = reward.score_one(Sample(response="one\n\ntoo long"))
        assert out.details["step_scores"] == [1.0, 0.0] and out.score == 0.0
    finally:
        SCORERS._members.pop("short_steps", None)
