"""Transforms of transforms to any depth, and extreme scores: each failure stays with its sample.

Issue 18: ``clip(affine(...))`` used to fail every sample with ``KeyError: 'raw_score'``, and one
overflowing score failed its whole batch in ``affine``, ``delta`` and ``lsc``.
"""

from __future__ import annotations

import math

import pytest
from compose_helpers import MetadataScore
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardlab import Sample, Status, build_reward
from rewardlab.compose.transforms import Affine, Clip, Delta, Lsc, Par, Rank, ZScore

PER_SAMPLE = {  # transform name -> (factory, the same function applied to one score)
    "affine": (lambda r: Affine(r, scale=-2.0, shift=0.25), lambda x: -2.0 * x + 0.25),
    "clip": (lambda r: Clip(r, low=-1.0, high=0.5), lambda x: min(0.5, max(-1.0, x))),
    "delta": (lambda r: Delta(r, reference="metadata", reference_key="ref"), lambda x: x - 0.1),
    "par": (lambda r: Par(r, reference="metadata", reference_key="ref"),
            lambda x: min(max(1 / (1 + math.exp(-(x - 0.1))), 2.2250738585072014e-308),
                          math.nextafter(1.0, 0.0))),
}
BATCH_WIDE = {
    "zscore": lambda r: ZScore(r),
    "rank": lambda r: Rank(r),
    "lsc": lambda r: Lsc(r, reference="quantile"),
}

score_or_failure = st.one_of(st.floats(-5, 5, allow_nan=False),
                             st.sampled_from(["timeout", "error", "unparseable"]))


def _batch(values):
    return [Sample(response="r", prompt="p", metadata={"a": v, "ref": 0.1}) for v in values]


@settings(max_examples=60, deadline=None)
@given(chain=st.lists(st.sampled_from(sorted(PER_SAMPLE)), min_size=1, max_size=8),
       values=st.lists(score_or_failure, min_size=1, max_size=8))
def test_per_sample_transforms_compose_to_any_depth(chain, values):
    reward, expected = MetadataScore("a"), list(values)
    for name in chain:
        factory, fn = PER_SAMPLE[name]
        reward = factory(reward)
        expected = [v if isinstance(v, str) else fn(v) for v in expected]
    out = reward.score(_batch(values))
    assert len(out) == len(values)
    for o, v, want in zip(out, values, expected, strict=True):
        if isinstance(v, str):  # the failure stays with its sample, with its own status
            assert o.status is Status(v) and o.score is None
        else:
            assert o.is_ok and o.score == pytest.approx(want, rel=1e-12, abs=1e-12)
            assert len(o.details["raw_scores"]) == len(chain)
            assert o.details["raw_scores"][0] == v


@settings(max_examples=40, deadline=None)
@given(chain=st.lists(st.sampled_from(sorted(PER_SAMPLE) + sorted(BATCH_WIDE)), min_size=1,
                      max_size=6),
       values=st.lists(score_or_failure, min_size=1, max_size=8))
def test_batch_transforms_nest_and_keep_failures_per_sample(chain, values):
    reward = MetadataScore("a")
    for name in chain:
        reward = PER_SAMPLE[name][0](reward) if name in PER_SAMPLE else BATCH_WIDE[name](reward)
    out = reward.score(_batch(values))
    for o, v in zip(out, values, strict=True):
        if isinstance(v, str):
            assert o.status is Status(v)
        else:
            assert o.is_ok, o.reason
            assert len(o.details["raw_scores"]) == len(chain)


@pytest.mark.parametrize("spec", [
    {"name": "clip", "high": 0, "reward": {"name": "affine", "shift": -0.5,
                                           "reward": "exact_match"}},
    {"name": "affine", "scale": 2, "reward": {"name": "clip", "low": 0.5, "reward": "exact_match"}},
    {"name": "par", "reference": "metadata", "reference_key": "ref",
     "reward": {"name": "clip", "high": 0.5, "reward": "exact_match"}},
    {"name": "lsc", "reference": "quantile", "reward": {"name": "zscore", "reward": "exact_match"}},
    {"name": "rank", "reward": {"name": "affine", "scale": -1, "reward": "exact_match"}},
    {"name": "clip", "low": 0.4, "reward": {"name": "par", "reference": "metadata",
                                            "reference_key": "ref", "reward": "exact_match"}},
])
def test_the_issue_specs_score_every_sample(spec):
    batch = [Sample(response=r, reference="a", prompt="p", metadata={"ref": 0.5})
             for r in ("a", "b", "a")]
    out = build_reward(spec).score(batch)
    assert all(o.is_ok for o in out), [o.reason for o in out]


def test_paper_clip_form_min_r_minus_eta_zero():
    # Clip & Delta: r_clip = min(r - eta, 0), written as clip(high=0) of affine(shift=-eta)
    reward = build_reward({"name": "clip", "high": 0, "reward": {
        "name": "affine", "shift": -0.3, "reward": MetadataScore("a")}})
    out = reward.score(_batch([0.1, 0.3, 0.9]))
    assert [o.score for o in out] == pytest.approx([-0.2, 0.0, 0.0])
    assert out[0].details["raw_scores"] == [0.1, pytest.approx(-0.2)]


@pytest.mark.parametrize("make", [
    lambda r: Affine(r, scale=10.0),
    lambda r: Delta(r, reference="metadata", reference_key="ref", temperature=1e-10),
    lambda r: Lsc(r, reference="metadata", reference_key="ref", temperature=1e-10),
    lambda r: Lsc(r, reference="quantile", temperature=1e-300),
    lambda r: ZScore(r, eps=0.0),
])
def test_one_overflowing_sample_fails_only_itself(make):
    values = [1.0, -1.7e308, 2.0, 1.7e308]
    batch = [Sample(response="r", prompt="p", metadata={"a": v, "ref": -1.7e308 if i == 3 else 0.0})
             for i, v in enumerate(values)]
    out = make(MetadataScore("a")).score(batch)
    assert len(out) == 4
    assert any(o.is_ok for o in out)
    for o in out:
        assert o.is_ok or (o.status is Status.ERROR and o.details["raw_score"] is not None)
        if o.is_ok:
            assert math.isfinite(o.score)


def test_zscore_of_huge_scores_is_finite():
    out = ZScore(MetadataScore("a")).score(_batch([0.0, 1.9e154, 1.7e308]))
    assert all(o.is_ok for o in out)
    assert out[0].score <= out[1].score < out[2].score  # 1.9e154 is negligible next to 1.7e308


def test_lsc_with_the_papers_reference_distribution():
    batch = [Sample(response="r", metadata={"a": 1.0, "ref_scores": [0.0, 1.0, 2.0, 3.0]}),
             Sample(response="r", metadata={"a": 1.0, "ref_scores": "nope"})]
    out = Lsc(MetadataScore("a"), reference="distribution", reference_key="ref_scores",
              quantile=0.5).score(batch)
    assert out[0].score == pytest.approx(math.log(1 / (1 + math.exp(0.5))))
    assert out[0].details["reference_scores"] == [1.5]
    assert out[1].status is Status.BAD_REFERENCE


# -- group advantages with extreme scores ---------------------------------------------------

extreme = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.0, 1.9e154, -1.9e154, 1.7e308, -1.7e308, 3.5e38, 5e-324]))
CONVENTION_METHODS = [(c, m) for c, methods in {
    "rewardlab": ("grpo", "dr_grpo", "rloo", "opo"), "verl": ("grpo", "dr_grpo", "rloo", "opo"),
    "trl": ("grpo", "dr_grpo"), "openrlhf": ("grpo", "dr_grpo", "rloo")}.items()
    for m in methods]


@pytest.mark.parametrize(("convention", "method"), CONVENTION_METHODS)
def test_the_issue_overflow_example_gives_a_typed_result(convention, method):
    from rewardlab.compose.advantage_math import group_advantages

    adv = group_advantages([0.0, 1.9e154], [0, 0], method=method, convention=convention,
                           lengths=[1, 2])
    for i, value in enumerate(adv.values):
        assert (value is not None and math.isfinite(value)) or i in adv.failures or \
            adv.excluded  # never OverflowError, never a non-finite number
    if convention == "rewardlab" and method == "grpo":
        assert adv.values == pytest.approx([-math.sqrt(0.5), math.sqrt(0.5)])


@settings(max_examples=80, deadline=None)
@given(values=st.lists(extreme, min_size=1, max_size=8),
       groups=st.lists(st.integers(0, 2), min_size=8, max_size=8),
       pair=st.sampled_from(CONVENTION_METHODS))
def test_group_advantages_never_raise_on_extreme_scores(values, groups, pair):
    from rewardlab.compose.advantage_math import group_advantages

    convention, method = pair
    groups = groups[:len(values)]
    adv = group_advantages(values, groups, method=method, convention=convention,
                           lengths=[1 + i for i in range(len(values))])
    for i, value in enumerate(adv.values):
        assert value is None or math.isfinite(value)
        assert value is not None or i in adv.failures or \
            (convention != "rewardlab" or values[i] is None)
    # a group without extreme members is not disturbed by another group's overflow
    calm = [i for i, g in enumerate(groups) if all(abs(values[j]) < 1e6 for j, h in
                                                   enumerate(groups) if h == g)]
    alone = group_advantages([values[i] for i in calm], [groups[i] for i in calm],
                             method=method, convention=convention,
                             lengths=[1 + i for i in calm]) if calm else None
    if alone is not None:
        assert [adv.values[i] for i in calm] == alone.values


def test_one_overflowing_reward_fails_only_its_sample_in_group_advantage():
    reward = build_reward({"name": "group_advantage", "method": "grpo",
                           "rewards": {"a": MetadataScore("a"), "b": MetadataScore("b")}})
    batch = [Sample(response="r", group=0, metadata={"a": a, "b": b})
             for a, b in [(1.7e308, 1.7e308), (1.0, 0.0), (0.0, 0.0), (2.0, 1.0)]]
    out = reward.score(batch)
    assert out[0].status is Status.ERROR and "overflow" in out[0].reason
    assert all(o.is_ok for o in out[1:])
    from rewardlab.compose.advantage_math import group_advantages

    assert [o.score for o in out[1:]] == group_advantages([1.0, 0.0, 3.0], [0, 0, 0]).values
