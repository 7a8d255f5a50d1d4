"""Huge and hostile inputs get typed outcomes within the engine's deadline."""

from __future__ import annotations

import time

import pytest
from test_ifeval_reward import INSTRUCTIONS

from rewardlab import Sample, Status
from rewardlab.spec import build_reward

MB = 1 << 20


@pytest.mark.slow
def test_one_megabyte_responses_get_typed_outcomes_within_the_deadline() -> None:
    reward = build_reward({"name": "ifeval", "timeout": 30.0})
    ref = {"instruction_id_list": [i for i, _ in INSTRUCTIONS],
           "kwargs": [k for _, k in INSTRUCTIONS]}
    texts = [("Mr. Smith said hello, world. " * (MB // 29 + 1))[:MB],
             "x" * MB,
             ("\u00a0* item\n" * (MB // 8))[:MB]]
    started = time.monotonic()
    outcomes = reward.score([Sample(response=t, reference=ref) for t in texts])
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] and all(
        o.status in (Status.OK, Status.TIMEOUT) for o in outcomes), outcomes
    assert all(o.details["total"] == len(INSTRUCTIONS) for o in outcomes if o.is_ok)
    # three items on at least one worker, each bounded by the 30 s deadline, plus start-up
    assert elapsed < 3 * 30 + 60


def test_catastrophic_keyword_pattern_times_out_instead_of_hanging() -> None:
    # Keywords are regular expressions, as in the official checker; a backtracking bomb in the
    # data must cost one sample its deadline, not the trainer its run.
    reward = build_reward({"name": "ifeval", "timeout": 2.0})
    ref = {"instruction_id_list": ["keywords:existence"], "kwargs": [{"keywords": ["(a+)+$"]}]}
    started = time.monotonic()
    out = reward.score_one(Sample(response="a" * 40 + "!", reference=ref))
    assert out.status is Status.TIMEOUT, out
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_one_megabyte_responses_on_every_ifbench_constraint() -> None:
    from test_ifbench_official import _kwargs_from_data

    from rewardlab.verifiers.instructions.constraints import Unavailable, bind

    examples = {}
    for iid, kw in _kwargs_from_data().items():
        try:
            bind(iid, kw)
        except Unavailable:
            continue
        examples[iid] = kw
    reward = build_reward({"name": "ifeval", "timeout": 60.0})
    texts = [("Mr. Smith said hello, world. " * (MB // 29 + 1))[:MB], "a\n\n" * (MB // 3),
             "(" * (MB // 2) + ")" * (MB // 2)]
    ref = {"instruction_id_list": list(examples), "kwargs": list(examples.values())}
    outcomes = reward.score([Sample(response=t, reference=ref) for t in texts])
    assert all(o.status in (Status.OK, Status.TIMEOUT) for o in outcomes), outcomes
