"""The master-key screen covers every response a judge sees (baselines, listwise candidates),
and the ``master_keys`` probe counts a tie with a key as a failure."""

from __future__ import annotations

import pytest

from rewardlab import Sample
from rewardlab.backends.scripted_backend import ScriptedBackend
from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.pairwise import as_comparator
from rewardlab.evaluate.probes import probe_master_keys
from rewardlab.judges.base import JudgeOptions
from rewardlab.judges.comparative import ListwiseJudge, PairwiseJudge


def shown(backend: ScriptedBackend) -> str:
    return "\n".join(m["content"] for c in backend.calls for m in c["messages"])


@pytest.mark.parametrize("key", [":", "Thought process:", "Let's solve this problem step by step.",
                                 "解", "Respuesta", "."])
def test_content_free_baseline_never_reaches_the_judge(key):
    backend = ScriptedBackend(["[RESULT] TIE"])  # a judge that would tie with the key
    judge = PairwiseJudge(backend)
    out = judge.score_one(Sample(prompt="Capital of France?", response="Paris.",
                                 metadata={"baseline": key}))
    assert out.score == 1.0 and backend.calls == []
    assert "baseline_master_key" in out.details and judge.screen_hits == 1
    # the baseline given as the reference is screened the same way
    out = judge.score_one(Sample(prompt="Capital of France?", response="Paris.", reference=key))
    assert out.score == 1.0 and backend.calls == []


def test_both_sides_content_free_the_response_loses():
    backend = ScriptedBackend(["[RESULT] A"])
    out = PairwiseJudge(backend).score_one(Sample(prompt="Q", response=".", reference=":"))
    assert out.score == 0.0 and backend.calls == []


def test_screen_off_sends_the_baseline():
    backend = ScriptedBackend(["[RESULT] TIE"])
    out = PairwiseJudge(backend, options=JudgeOptions(screen_master_keys=False)).score_one(
        Sample(prompt="Q", response="Paris.", reference=":"))
    assert out.score == 0.5 and len(backend.calls) == 2


def test_listwise_never_shows_a_key_candidate():
    backend = ScriptedBackend(["[RESULT] 1"])
    judge = ListwiseJudge(backend)
    samples = [Sample(prompt="Capital?", response=r, group="g")
               for r in ("Thought process:", "Lyon", "Paris", "解")]
    outcomes = judge.score(samples)
    assert outcomes[0].score == 0.0 and outcomes[3].score == 0.0
    text = shown(backend)
    assert "Thought process:" not in text and "解" not in text and "Paris" in text


ITEMS = [EvalItem(id=f"i{n}", kind="pairwise", responses=("Paris is the capital.", "Lyon."),
                  labels=(1, 0), prompt="Capital of France?") for n in range(3)]


def test_probe_counts_ties_with_a_key_as_failures():
    """A judge that always says TIE: unscreened, every key ties a real answer, which the probe
    must count as a false accept; screened, keys never reach it."""
    keys = {"colon": ":", "opener": "Thought process:"}
    tie_judge = PairwiseJudge(ScriptedBackend(["[RESULT] TIE"]),
                              options=JudgeOptions(screen_master_keys=False))
    report = probe_master_keys(as_comparator(tie_judge), ITEMS, [[1.0, 0.0]] * 3, keys)
    assert report["false_accept_rate"] == 1.0
    assert all(v["beats_preferred"] == 1.0 for v in report["variants"].values())
    screened = PairwiseJudge(ScriptedBackend(["[RESULT] TIE"]))
    report = probe_master_keys(as_comparator(screened), ITEMS, [[1.0, 0.0]] * 3, keys)
    assert report["false_accept_rate"] == 0.0 and report["flips"] == 0
