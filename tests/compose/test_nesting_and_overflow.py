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
