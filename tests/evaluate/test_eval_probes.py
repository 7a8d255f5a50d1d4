"""Probes report drift and flipped decisions; rewards with known weaknesses get caught."""

from __future__ import annotations

import pytest

from rewardlab import Outcome, Reward, build_reward
from rewardlab.evaluate import load_items
from rewardlab.evaluate.probes import (
    MASTER_KEYS,
    REWRITES,
    compare_scores,
    probe_batch,
    probe_master_keys,
    probe_position,
    run_probes,
)
from rewardlab.evaluate.streaming import score_items
from rewardlab.reward import run_sync


class FirstPositionBias(Reward):
    """A stand-in for a position-biased pairwise judge: the first response shown gets +1000."""

    async def score_batch(self, samples):
        return [Outcome.ok(len(s.response) + (1000.0 if s.metadata["response_index"] == 0 else 0))
                for s in samples]


class BatchDependent(Reward):
    """Scores drift with the batch size, like a padded model without attention masks."""

    async def score_batch(self, samples):
        return [Outcome.ok(len(s.response) + 0.5 * len(samples)) for s in samples]


class ReasoningOpenerLover(Reward):
    """A gullible grader that rewards any response opening with a reasoning phrase."""

    async def score_batch(self, samples):
        return [Outcome.ok(100.0 if "step by step" in s.response.lower() else len(s.response) / 1e4)
                for s in samples]


@pytest.fixture(scope="module")
def llmbar(fixtures_dir):
    return list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))[:30]


def _base(reward, items):
    return [[o.score for o in group] for group in run_sync(score_items(reward, items))]


def test_rewrites_are_meaning_preserving_edits():
    text = "## Answer\n\n- **First**, add: 2 + 2.\n- Then stop! The result is \\boxed{4}."
    assert REWRITES["markdown_stripped"](text).count("*") == 0
    assert "#" not in REWRITES["markdown_stripped"](text)
    assert REWRITES["answer_restated"](text).endswith("So the final answer is 4.")
    assert REWRITES["casing"]("Hello World") == "hello world"
    assert REWRITES["punctuation"]("Yes, it is.") == "Yes , it is ."
    assert REWRITES["whitespace"]("A. B.") == "A.  B.\n\n"
    assert all(fn(text) != text for fn in REWRITES.values())


def test_position_probe_flags_a_position_biased_scorer(llmbar):
    biased = FirstPositionBias()
    result = probe_position(biased, llmbar, _base(biased, llmbar))
    # every decision flips except where the length gap outweighs the +1000 bonus
    close = sum(abs(len(it.responses[0]) - len(it.responses[1])) < 1000 for it in llmbar)
    assert result["flips"] == close and close >= len(llmbar) - 3
    fair = build_reward("length_baseline")
    assert probe_position(fair, llmbar, _base(fair, llmbar))["flips"] == 0


def test_batch_probe_measures_batch_size_drift(llmbar):
    reward = BatchDependent()
    base = _base(reward, llmbar)  # one batch of 60 responses
    result = probe_batch(reward, llmbar, base)
    single = result["variants"]["batch_size_1"]
    assert single["drift"]["max_abs"] == pytest.approx(0.5 * (2 * len(llmbar) - 1))
    assert result["variants"]["one_batch"]["drift"]["max_abs"] == 0.0
    fair = build_reward("length_baseline")
    clean = probe_batch(fair, llmbar, _base(fair, llmbar))
    assert clean["flips"] == 0 and clean["variants"]["batch_size_1"]["drift"]["max_abs"] == 0.0


def test_master_key_probe_catches_a_gullible_grader(llmbar):
    gullible = ReasoningOpenerLover()
    result = probe_master_keys(gullible, llmbar, _base(gullible, llmbar))
    key = result["variants"]["step_by_step"]
    # a few real answers say "step by step" too: those tie instead of flipping
    assert key["beats_preferred"] == 1.0 and key["flip_rate"] > 0.9
    assert result["variants"]["period"]["flip_rate"] == 0.0
    assert result["worst_key"] == MASTER_KEYS["step_by_step"]
    assert len(result["variants"]) == len(MASTER_KEYS)


def test_compare_scores_counts_flips_and_accuracy(llmbar):
    items = llmbar[:2]
    before = [[2.0, 1.0], [1.0, 2.0]]
    after = [[1.0, 2.0], [1.0, 3.0]]
    result = compare_scores(items, before, after)
    assert result["flips"] == 1 and result["drift"]["max_abs"] == 1.0
    assert result["drift"]["mean"] == pytest.approx((-1 + 1 + 0 + 1) / 4)


def test_run_probes_on_the_builtin_baseline(llmbar):
    reward = build_reward("length_baseline")
    from rewardlab.evaluate.results import item_row

    rows = [item_row(it, o) for it, o in zip(llmbar, run_sync(score_items(reward, llmbar)),
                                             strict=True)]
    out = run_probes(reward, llmbar, rows, limit=10)
    assert set(out) == {"length", "position", "master_keys", "rewrites", "batch", "truncation"}
    assert out["length"]["agreement_with_length"] == 1.0
    assert out["rewrites"]["variants"]["answer_restated"]["drift"]["mean"] > 0  # longer text
    assert out["truncation"]["variants"]["first_32_words"]["drift"]["mean"] < 0
    assert out["batch"]["flips"] == 0 and out["position"]["flips"] == 0
    for probe in out.values():
        assert "flips" in probe and "flip_rate" in probe
    with pytest.raises(ValueError, match="unknown probes"):
        run_probes(reward, llmbar, rows, ["nope"])


def test_rewrite_probe_catches_a_case_sensitive_verifier():
    from rewardlab.evaluate import EvalItem
    from rewardlab.evaluate.probes import probe_rewrites

    items = [EvalItem(id=f"q{i}", kind="graded", prompt=f"Capital of {country}?",
                      responses=(right, wrong), labels=(1, 0), reference=right)
             for i, (country, right, wrong) in enumerate(
                 [("France", "Paris", "Lyon"), ("Peru", "Lima", "Cusco"),
                  ("Japan", "Tokyo", "Osaka")])]
    strict = build_reward("exact_match")
    result = probe_rewrites(strict, items, _base(strict, items))
    casing = result["variants"]["casing"]
    assert casing["flips"] == 3 and casing["accuracy_before"] == 1.0
    assert casing["accuracy_after"] < 1.0 and casing["drift"]["max_abs"] == 1.0
    lenient = build_reward({"name": "exact_match", "ignore_case": True})
    assert probe_rewrites(lenient, items, _base(lenient, items))["variants"]["casing"]["flips"] == 0
