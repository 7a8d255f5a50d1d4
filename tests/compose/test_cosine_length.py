"""``cosine_length``: a child reward's correctness scaled by length (moved from verifiers/)."""

from __future__ import annotations

import math

import pytest

from rewardlab import Sample, Status, build_reward


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


# -- cosine_length ---------------------------------------------------------------------------


def cosine_spec(**extra):
    return {"name": "cosine_length", "max_length": 100, "unit": "words",
            "correctness": {"name": "exact_match"}, **extra}


@pytest.mark.parametrize(
    ("length", "correct", "expected"),
    [
        # correct: 0.5 + 0.25 * (1 + cos(pi * L / 100))
        (0, True, 1.0), (50, True, 0.75), (100, True, 0.5), (200, True, 0.5),
        (25, True, 0.5 + 0.25 * (1 + math.cos(math.pi / 4))),
        # wrong: -0.5 + (-0.25) * (1 + cos(pi * L / 100))
        (0, False, -1.0), (50, False, -0.75), (100, False, -0.5),
    ],
)
def test_cosine_length_formula(length, correct, expected):
    reward = build_reward(cosine_spec())
    response = words(length)
    reference = response if correct else "something else"
    out = reward.score_one(Sample(response=response, reference=reference))
    assert out.score == pytest.approx(expected)
    assert out.details["correct"] is correct


def test_cosine_length_passes_child_failures_through():
    reward = build_reward(cosine_spec())
    out = reward.score_one(Sample(response="x", reference=None))
    assert out.status is Status.BAD_REFERENCE


def test_cosine_length_with_math_default():
    reward = build_reward({"name": "cosine_length", "max_length": 100, "unit": "words"})
    right, wrong, unreadable = reward.score([
        Sample(response="so \\boxed{4}", reference="4"),
        Sample(response="so \\boxed{5}", reference="4"),
        Sample(response="no idea, sorry", reference="x^2"),
    ])
    assert right.score == pytest.approx(0.5 + 0.25 * (1 + math.cos(math.pi * 2 / 100)))
    assert wrong.score == pytest.approx(-0.5 - 0.25 * (1 + math.cos(math.pi * 2 / 100)))
    assert unreadable.status is Status.UNPARSEABLE
