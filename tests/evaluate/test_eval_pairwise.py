"""Pairwise judges go through the same evaluation: verdicts, position bias, master keys."""

from __future__ import annotations

import pytest

from rewardlab import Outcome, build_reward
from rewardlab.evaluate import evaluate, load_items
from rewardlab.evaluate.pairwise import RewardComparator, is_comparator, judge_pairs
from rewardlab.evaluate.probes import probe_master_keys, probe_position
from rewardlab.evaluate.streaming import score_items
from rewardlab.reward import run_sync


class ScriptedJudge:
    """Scripted pairwise judge: prefers the longer response, or always the first one shown,
    and optionally falls for responses that open with a reasoning phrase."""

    def __init__(self, always_first: bool = False, gullible: bool = False) -> None:
        self.always_first = always_first
        self.gullible = gullible
        self.calls = 0

    async def compare_batch(self, pairs):
        self.calls += 1
        out = []
        for a, b in pairs:
            if self.gullible and a.response.startswith("Thought process"):
                out.append(Outcome.ok(1.0))
            elif self.gullible and b.response.startswith("Thought process"):
                out.append(Outcome.ok(0.0))
            elif self.always_first:
                out.append(Outcome.ok(1.0))
            else:
                la, lb = len(a.response), len(b.response)
                out.append(Outcome.ok(1.0 if la > lb else 0.0 if la < lb else 0.5))
        return out


class BrokenJudge:
    async def compare_batch(self, pairs):
        return [Outcome.ok(2.0) for _ in pairs]


@pytest.fixture(scope="module")
def llmbar(fixtures_dir):
    return list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))


def test_judge_is_evaluated_like_a_reward(llmbar, tmp_path):
    judge = ScriptedJudge()
    assert is_comparator(judge)
    run = evaluate(judge, llmbar, tmp_path / "judge", progress=False, report=False)
    length = evaluate("length_baseline", llmbar, tmp_path / "len", progress=False, report=False)
    assert run.summary["accuracy"]["mean"] == length.summary["accuracy"]["mean"]
    assert run.rows[0]["scores"] in ([1.0, 0.0], [0.0, 1.0], [0.5, 0.5])
    assert run.summary["run"]["reward"] == "ScriptedJudge"
    comparator = evaluate(RewardComparator(build_reward("length_baseline")), llmbar,
                          tmp_path / "cmp", progress=False, report=False)
    assert [r["decision"] for r in comparator.rows] == [r["decision"] for r in run.rows]


def test_position_bias_of_a_judge_is_measured(llmbar):
    biased = ScriptedJudge(always_first=True)
    base = [[o.score for o in g] for g in run_sync(score_items(biased, llmbar))]
    accuracy = sum(it.preferred == 0 for it in llmbar) / len(llmbar)
    result = probe_position(biased, llmbar, base)
    assert result["flips"] == len(llmbar) and result["accuracy_before"] == pytest.approx(accuracy)
    fair = ScriptedJudge()
    base = [[o.score for o in g] for g in run_sync(score_items(fair, llmbar))]
    assert probe_position(fair, llmbar, base)["flips"] == 0


def test_master_keys_against_a_judge(llmbar):
    items = llmbar[:15]
    gullible = ScriptedJudge(gullible=True)
    base = [[o.score for o in g] for g in run_sync(score_items(gullible, items))]
    result = probe_master_keys(gullible, items, base)
    assert result["variants"]["thought_process"]["beats_preferred"] == 1.0
    assert result["variants"]["period"]["beats_preferred"] == 0.0
    assert result["worst_key"] == "Thought process:"


def test_bad_judge_output_becomes_error_outcomes(llmbar):
    grouped = run_sync(score_items(BrokenJudge(), llmbar[:3]))
    assert all(o.status.value == "error" and "probability" in o.reason
               for g in grouped for o in g)
    assert run_sync(judge_pairs(BrokenJudge(), [])) == []


def test_judge_refuses_items_with_more_than_two_responses(fixtures_dir):
    items = list(load_items(fixtures_dir / "qwen_math_bon/math_cot.jsonl", "qwen_math"))[:2]
    with pytest.raises(ValueError, match="two responses"):
        run_sync(score_items(ScriptedJudge(), items))


def _longer_wins(messages):
    """Scripted judge model: reads the two responses in the prompt, picks the longer one."""
    text = messages[-1]["content"]
    a = text.split("### Response A\n", 1)[1].split("\n\n### Response B\n", 1)[0]
    b = text.split("### Response B\n", 1)[1].split("\nDo not let", 1)[0]
    return "Compared.\n[RESULT] " + ("A" if len(a) > len(b) else "B")


def test_llm_pairwise_judge_is_adapted_and_probed(llmbar, tmp_path):
    from rewardlab.backends.scripted_backend import ScriptedBackend
    from rewardlab.evaluate.pairwise import BaselineJudge, as_comparator

    backend = ScriptedBackend(_longer_wins)
    judge = build_reward({"name": "judge_pairwise", "backend": backend})
    assert isinstance(as_comparator(judge), BaselineJudge)
    items = llmbar[:12]
    run = evaluate(judge, items, tmp_path / "llm-judge", probes=["position", "master_keys"],
                   probe_limit=4, progress=False, report=False)
    length = evaluate("length_baseline", items, tmp_path / "len", progress=False, report=False)
    # both orders agree for a length-following model, so the verdicts are the length decisions
    assert [r["decision"] for r in run.rows] == [r["decision"] for r in length.rows]
    assert run.summary["statuses"] == {"ok": 24}
    assert run.summary["probes"]["position"]["flips"] == 0
    keys = run.summary["probes"]["master_keys"]["variants"]
    # a content-free answer shown as the judged response is screened out before the model
    assert keys["colon"]["beats_preferred"] == 0.0 and keys["colon"]["unscored"] == 0

