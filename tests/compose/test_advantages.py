"""Group advantages: invariants (hypothesis) and each trainer's normalization, reproduced from
their documented formulas with torch on the same inputs."""

from __future__ import annotations

import asyncio
import math

import pytest
import torch
from compose_helpers import MetadataScore
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rewardlab import Outcome, Reward, Sample, Status, build_reward
from rewardlab.compose.advantage_math import (
    gdpo_advantages,
    group_advantages,
    pairwise_win_rates,
    tournament_scores,
)

score = st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 3))
grouped_scores = st.lists(st.tuples(st.integers(0, 3), score), min_size=2, max_size=24)

SCORES = [1.0, 0.0, 0.5, 1.0, 0.2, 0.2, 0.9, 0.1, 0.4, 0.7, 0.3, 0.8]
GROUPS = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]


def _per_group(values, groups):
    out = {}
    for v, g in zip(values, groups, strict=True):
        if v is not None:
            out.setdefault(g, []).append(v)
    return out


LONE = {  # what a group of one gets, per convention and method (see advantages.py)
    "rewardlab": {"grpo": 0.0, "dr_grpo": 0.0, "rloo": 0.0},
    "trl": {"grpo": 0.0, "dr_grpo": 0.0},
    "verl": {"grpo": lambda r: float(torch.tensor(r) / (1 + 1e-6)),
             "dr_grpo": lambda r: float(torch.tensor(r)), "rloo": lambda r: float(torch.tensor(r))},
    "openrlhf": {"grpo": None, "dr_grpo": 0.0, "rloo": None},
}


@settings(max_examples=150, deadline=None)
@given(data=grouped_scores, convention=st.sampled_from(["rewardlab", "verl", "trl", "openrlhf"]),
       method=st.sampled_from(["grpo", "dr_grpo", "rloo"]))
def test_grpo_advantages_have_zero_mean_per_group(data, convention, method):
    assume(method in LONE[convention])
    groups, scores = zip(*data, strict=True)
    adv = group_advantages(scores, groups, method=method, convention=convention)
    for g in set(groups):
        members = [i for i, h in enumerate(groups) if h == g]
        values = [adv.values[i] for i in members]
        if len(values) > 1:
            scale = max(1.0, *(abs(v) for v in values))
            raw = [scores[i] for i in members]
            spread = max(raw) - min(raw)
            if not spread and convention != "rewardlab":
                # A constant group: the trainers' float32 mean differs from the scores by a
                # rounding error that (r - mean) / (std + eps) turns into signal; those exact
                # values are checked against the trainers' own code in test_trainer_parity.
                continue
            # float32 conventions: the group mean carries float32 rounding (~1e-7 of the
            # largest score), which (r - mean) / std magnifies by largest / spread
            tolerance = 1e-9 * scale if convention == "rewardlab" else \
                1e-5 * scale + (2e-7 * max(map(abs, raw)) / spread if spread else 0.0)
            assert abs(math.fsum(values) / len(values)) < tolerance, g
        else:
            lone = LONE[convention][method]
            expected = lone(scores[members[0]]) if callable(lone) else lone
            assert values == [expected]
            if expected is None:
                assert members[0] in adv.failures


@settings(max_examples=150, deadline=None)
@given(data=grouped_scores, failed=st.lists(st.booleans(), min_size=24, max_size=24),
       method=st.sampled_from(["grpo", "dr_grpo", "rloo", "opo"]))
def test_failed_outcomes_never_change_other_samples_advantages(data, failed, method):
    groups, scores = zip(*data, strict=True)
    lengths = [1 + (i % 5) for i in range(len(scores))]
    mixed = [Outcome.fail(Status.TIMEOUT, "t") if failed[i] else Outcome.ok(s)
             for i, s in enumerate(scores)]
    with_failures = group_advantages(mixed, groups, method=method, lengths=lengths)
    kept = [i for i in range(len(scores)) if not failed[i]]
    only_ok = group_advantages([scores[i] for i in kept], [groups[i] for i in kept],
                               method=method, lengths=[lengths[i] for i in kept])
    assert [with_failures.values[i] for i in kept] == only_ok.values
    assert all(with_failures.values[i] is None for i in range(len(scores)) if failed[i])
    assert with_failures.excluded == len(scores) - len(kept)


@settings(max_examples=100, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 3), score, score), min_size=2, max_size=20),
       failed=st.lists(st.sampled_from([None, "a", "b"]), min_size=20, max_size=20))
def test_gdpo_failures_never_change_other_samples_before_batch_norm(data, failed):
    groups, a, b = (list(x) for x in zip(*data, strict=True))
    fail_a = [Outcome.fail(Status.ERROR, "x") if failed[i] == "a" else Outcome.ok(v)
              for i, v in enumerate(a)]
    fail_b = [None if failed[i] == "b" else v for i, v in enumerate(b)]
    mixed = gdpo_advantages({"a": fail_a, "b": fail_b}, groups, batch_norm=False)
    kept = [i for i in range(len(groups)) if failed[i] is None]
    clean = gdpo_advantages({"a": [a[i] for i in kept], "b": [b[i] for i in kept]},
                            [groups[i] for i in kept], batch_norm=False)
    assert [mixed.values[i] for i in kept] == clean.values
    assert all(mixed.values[i] is None for i in range(len(groups)) if failed[i])


@settings(max_examples=100, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 2), score, score), min_size=4, max_size=18),
       factor=st.floats(0.1, 10), which=st.sampled_from(["a", "b"]))
@example(data=[(0, 0.0, 0.0), (1, 0.0, 35.0), (1, 0.0, 35.0), (1, 0.0, 35.0)],
         factor=2.4971986061531757, which="b")  # rounding noise in a flat group
def test_gdpo_is_invariant_to_rescaling_one_reward(data, factor, which):
    groups, a, b = (list(x) for x in zip(*data, strict=True))
    # the epsilon is the only scale-dependent term: keep the spread well above it
    for comp in (a, b):
        for g in set(groups):
            members = [comp[i] for i in range(len(groups)) if groups[i] == g]
            assume(len(set(members)) == 1 or (max(members) - min(members)) > 0.5)
    base = gdpo_advantages({"a": a, "b": b}, groups, weights={"a": 1.0, "b": 0.5})
    scaled = {"a": a, "b": b}
    scaled[which] = [v * factor for v in scaled[which]]
    rescaled = gdpo_advantages(scaled, groups, weights={"a": 1.0, "b": 0.5})
    assert rescaled.values == pytest.approx(base.values, rel=1e-3, abs=1e-3)


def test_counts_singletons_zero_variance_and_exclusions():
    adv = group_advantages([1.0, 1.0, 0.3, None, 0.0, 1.0], ["a", "a", "b", "b", "c", "c"])
    assert adv.counts() == {"groups": 3, "singleton_groups": 1, "zero_variance_groups": 1,
                            "excluded": 1, "failed": 0}
    assert adv.values[:4] == [0.0, 0.0, 0.0, None]


def test_verl_grpo_matches_its_formula():
    # verl core_algos.compute_grpo_outcome_advantage: torch.std (unbiased), eps 1e-6,
    # a group of one gets mean 0 and std 1; float32 (exact parity: test_trainer_parity.py)
    scores = [*SCORES, 0.6]
    groups = [*GROUPS, 3]
    t = torch.tensor(scores, dtype=torch.float64)
    expected = []
    for s, g in zip(scores, groups, strict=True):
        members = t[[i for i, h in enumerate(groups) if h == g]]
        mean, std = (members.mean(), members.std()) if len(members) > 1 else (0.0, 1.0)
        expected.append(float((s - mean) / (std + 1e-6)))
    got = group_advantages(scores, groups, convention="verl").values
    assert got == pytest.approx(expected, rel=1e-6)
    dr = group_advantages(scores, groups, method="dr_grpo").values  # norm_adv_by_std_in_grpo=False
    assert dr[:4] == pytest.approx([float(v) for v in t[:4] - t[:4].mean()])


def test_trl_group_and_batch_scaling_match_trl_code():
    from trl.trainer.utils import nanstd

    G = 4
    rewards = torch.tensor(SCORES, dtype=torch.float32)
    mean = rewards.view(-1, G).mean(dim=1).repeat_interleave(G)
    std_group = nanstd(rewards.view(-1, G), dim=1).repeat_interleave(G)
    expected_group = ((rewards - mean) / (std_group + 1e-4)).tolist()
    assert group_advantages(SCORES, GROUPS, convention="trl").values == \
        pytest.approx(expected_group, abs=1e-5)
    expected_batch = ((rewards - mean) / (nanstd(rewards) + 1e-4)).tolist()
    assert group_advantages(SCORES, GROUPS, convention="trl", scale="batch").values == \
        pytest.approx(expected_batch, abs=1e-5)
    assert group_advantages(SCORES, GROUPS, convention="trl", scale="none").values == \
        pytest.approx((rewards - mean).tolist(), abs=1e-6)


def test_trl_normalize_then_sum_is_gdpo():
    from trl.trainer.utils import nanstd

    G = 4
    second = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0]
    weights = torch.tensor([1.0, 0.3])
    per_func = torch.tensor([SCORES, second], dtype=torch.float32).T
    grouped = per_func.view(-1, G, 2)
    reward_k = (grouped - grouped.mean(dim=1, keepdim=True)) / (
        nanstd(grouped, dim=1, keepdim=True) + 1e-4)
    rewards = (reward_k.view(-1, 2) * weights).sum(dim=1)
    expected = ((rewards - rewards.mean()) / (nanstd(rewards) + 1e-4)).tolist()
    got = gdpo_advantages({"a": SCORES, "b": second}, GROUPS, {"a": 1.0, "b": 0.3},
                          convention="trl")
    assert got.values == pytest.approx(expected, abs=1e-4)


def test_openrlhf_group_norm_rloo_and_dr_grpo():
    # openrlhf ppo_utils experience maker: rewards reshaped (-1, n_samples_per_prompt)
    r = torch.tensor(SCORES, dtype=torch.float64).reshape(-1, 4)
    group_norm = ((r - r.mean(-1, keepdim=True)) / (r.std(-1, keepdim=True) + 1e-9)).flatten()
    rloo = (r - (r.sum(-1, keepdim=True) - r) / 3).flatten()
    dr = (r - r.mean(-1, keepdim=True)).flatten()
    assert group_advantages(SCORES, GROUPS, convention="openrlhf").values == \
        pytest.approx(group_norm.tolist(), rel=1e-6)
    assert group_advantages(SCORES, GROUPS, method="rloo").values == \
        pytest.approx(rloo.tolist(), rel=1e-9)
    assert group_advantages(SCORES, GROUPS, method="dr_grpo").values == \
        pytest.approx(dr.tolist(), rel=1e-9)


def test_opo_uses_length_weighted_baseline():
    adv = group_advantages([1.0, 0.0], [0, 0], method="opo", lengths=[3, 1]).values
    assert adv == pytest.approx([0.25, -0.75])
    with pytest.raises(ValueError, match="opo"):
        group_advantages([1.0, 0.0], [0, 0], method="opo")


def test_bad_arguments():
    with pytest.raises(ValueError, match="group ids"):
        group_advantages([1.0], [0, 1])
    with pytest.raises(ValueError, match="convention"):
        group_advantages([1.0], [0], convention="ppo")
    with pytest.raises(ValueError, match="unknown components"):
        gdpo_advantages({"a": [1.0]}, [0], weights={"b": 1.0})


def test_pairwise_win_rates_and_tournament():
    quality = [0.1, 0.9, 0.5, 0.7, 0.3]
    calls = []

    async def compare(i, j):
        calls.append((i, j))
        return 1.0 if quality[i] > quality[j] else 0.0

    groups = [0, 0, 0, 0, 1]
    rates = asyncio.run(pairwise_win_rates(groups, compare))
    assert rates.values == pytest.approx([0.0, 1.0, 1 / 3, 2 / 3, 0.5])
    assert rates.extra["comparisons"] == 6 and rates.singleton_groups == 1
    calls.clear()
    eight = [0.1 * k for k in range(8)]

    async def compare8(i, j):
        calls.append((i, j))
        return 1.0 if eight[i] > eight[j] else 0.0

    bracket = asyncio.run(tournament_scores([0] * 8, compare8, seed=3))
    assert len(calls) == 7 and bracket.extra["comparisons"] == 7  # n - 1 matches
    assert bracket.values[7] == 1.0 and bracket.values[0] == 0.0
    again = asyncio.run(tournament_scores([0] * 8, compare8, seed=3))
    assert again.values == bracket.values


def test_group_advantage_reward_from_spec():
    reward = build_reward({"name": "group_advantage", "rewards": ["exact_match"],
                           "method": "grpo", "convention": "verl"})
    batch = [Sample(response=r, reference="a", group=g)
             for g, r in [(1, "a"), (1, "b"), (2, "a"), (2, "a")]]
    out = reward.score([*batch, Sample(response="a", reference=None, group=1)])
    # verl trains on the failed sample as failure_score 0, so it is part of group 1
    expected = group_advantages([1.0, 0.0, 1.0, 1.0, 0.0], [1, 1, 2, 2, 1],
                                convention="verl").values
    assert [o.score for o in out[:4]] == expected[:4] and expected[2:4] == [0.0, 0.0]
    assert out[4].status is Status.BAD_REFERENCE
    assert out[4].details["trainer_advantage"] == expected[4]
    assert reward.last_counts == {"groups": 2, "singleton_groups": 0, "zero_variance_groups": 1,
                                  "excluded": 1, "failed": 0}
    rewardlab = build_reward({"name": "group_advantage", "rewards": ["exact_match"]}).score(
        [*batch, Sample(response="a", reference=None, group=1)])
    assert [o.score for o in rewardlab[:4]] == pytest.approx(
        [0.5 / (math.sqrt(0.5) + 1e-6), -0.5 / (math.sqrt(0.5) + 1e-6), 0.0, 0.0])


def test_group_advantage_gdpo_and_pairwise_rewards():
    a, b = MetadataScore("a"), MetadataScore("b")
    gdpo = build_reward({"name": "group_advantage", "rewards": {"a": a, "b": b},
                         "method": "gdpo"})
    batch = [Sample(response="x", group=0, metadata={"a": x, "b": y})
             for x, y in [(1, 0), (0, 1), (1, 1), (0, 0)]]
    out = gdpo.score(batch)
    assert out[2].score > out[0].score > out[3].score and out[0].score == \
        pytest.approx(out[1].score)
    pair = build_reward({"name": "group_advantage", "rewards": [a], "method": "pairwise"})
    ranks = [o.score for o in pair.score(batch)]
    assert ranks[0] == pytest.approx(ranks[2]) and ranks[0] > ranks[1]
    tour = build_reward({"name": "group_advantage", "rewards": [a], "method": "tournament"})
    assert sum(o.score for o in tour.score(batch)) == pytest.approx(0.0)


class LongerWins(Reward):
    """A pairwise comparator reward: P(A beats B) = 1 if A is longer, 0.5 on ties."""

    async def score_batch(self, samples):
        out = []
        for s in samples:
            other = s.metadata["baseline"]
            a, b = len(s.response), len(other)
            out.append(Outcome.ok(1.0 if a > b else 0.0 if a < b else 0.5))
        return out


def test_pairwise_and_tournament_with_a_comparator_reward():
    batch = [Sample(response="x" * n, reference="unused", group=g)
             for g, n in [(0, 1), (0, 3), (0, 2), (1, 5), (1, 5)]]
    spec = {"name": "group_advantage", "rewards": ["exact_match"], "comparator": LongerWins()}
    pair = build_reward({**spec, "method": "pairwise"}).score(batch)
    assert [o.score for o in pair] == pytest.approx([-0.5, 0.5, 0.0, 0.0, 0.0])
    bracket = build_reward({**spec, "method": "tournament", "seed": 1}).score(batch)
    assert bracket[1].score == max(o.score for o in bracket[:3])  # the longest wins group 0


def test_tournament_with_the_pairwise_judge_as_comparator():
    from rewardlab.backends.scripted_backend import ScriptedBackend

    def longer_wins(messages):
        text = messages[-1]["content"]
        first = text.split("### Response A\n")[1].split("\n\n### Response B")[0]
        second = text.split("### Response B\n")[1].split("\n")[0]
        return "[RESULT] A" if len(first) > len(second) else "[RESULT] B"

    judge = build_reward({"name": "judge_pairwise", "backend": ScriptedBackend(longer_wins),
                          "screen_master_keys": False})
    batch = [Sample(response=r, prompt="Say something.", group=0)
             for r in ["hi", "hello there", "a much longer answer", "hey"]]
    out = build_reward({"name": "group_advantage", "rewards": [TextLength()],
                        "method": "tournament", "comparator": judge}).score(batch)
    assert max(range(4), key=lambda i: out[i].score) == 2
    assert sum(o.score for o in out) == pytest.approx(0.0)


class TextLength(Reward):
    async def score_batch(self, samples):
        return [Outcome.ok(float(len(s.response))) for s in samples]
