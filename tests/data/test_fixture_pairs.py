"""Pairs, selections and filters built from real model solutions scored by the real `math` reward.

The fixtures carry their own correctness labels (Qwen2.5-Math's evaluator for qwen_math_bon,
OpenAI's labels for the GSM8K solutions), so every chosen response can be checked against an
independent verdict, not only against our own scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardlab import Sample, build_reward
from rewardlab.data import (
    DataReport,
    FilterOptions,
    PairOptions,
    SelectOptions,
    build_file,
)

GSM8K_MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def qwen_rollouts(fixtures: Path) -> list[dict]:
    rows = []
    with (fixtures / "qwen_math_bon" / "math_cot.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            for i, (response, label) in enumerate(zip(rec["code"], rec["score"], strict=True)):
                rows.append({"id": f"{rec['idx']}-{i}", "group": rec["idx"],
                             "prompt": rec["question"], "response": response,
                             "reference": rec["gt"], "label": bool(label)})
    return rows


def gsm8k_rollouts(fixtures: Path) -> list[dict]:
    rows = []
    with (fixtures / "gsm8k" / "model_solutions.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            rec = json.loads(line)
            for model in GSM8K_MODELS:
                rows.append({"id": f"{n}-{model}", "prompt": rec["question"],
                             "response": rec[model]["solution"],
                             "reference": rec["ground_truth"],
                             "label": bool(rec[model]["is_correct"])})
    return rows


def scored_file(rows: list[dict], path: Path) -> Path:
    """Score with the real `math` reward and write rows with their outcome."""
    reward = build_reward({"name": "math"})
    try:
        outcomes = reward.score([Sample(prompt=r["prompt"], response=r["response"],
                                        reference=r["reference"]) for r in rows])
    finally:
        reward.close()
    with path.open("w", encoding="utf-8") as fh:
        for row, outcome in zip(rows, outcomes, strict=True):
            fh.write(json.dumps({**row, "status": outcome.status.value,
                                 "score": outcome.score}) + "\n")
    return path


@pytest.fixture(scope="module", params=["qwen_math_bon", "gsm8k"])
def scored(request, tmp_path_factory, fixtures_dir):
    make = qwen_rollouts if request.param == "qwen_math_bon" else gsm8k_rollouts
    rows = make(fixtures_dir)
    path = scored_file(rows, tmp_path_factory.mktemp("data") / "scored.jsonl")
    with path.open(encoding="utf-8") as fh:
        return path, [json.loads(line) for line in fh]


def hand_counts(rows: list[dict]) -> dict[str, int]:
    """What a careful person would count: groups with a verified-right and a wrong answer."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        key = str(r["group"]) if "group" in r else r["prompt"]
        groups.setdefault(key, []).append(r)
    ok = {k: [r for r in g if r["status"] == "ok"] for k, g in groups.items()}
    return {
        "groups": len(groups),
        "pairable": sum(any(r["score"] == 1.0 for r in g) and any(r["score"] == 0.0 for r in g)
                        for g in ok.values()),
        "constant": sum(len({r["score"] for r in g}) == 1 for g in ok.values() if g),
        "failed": sum(r["status"] != "ok" for r in rows),
    }


def test_verified_pairs_match_hand_counts_and_independent_labels(scored, tmp_path):
    path, rows = scored
    out = tmp_path / "pairs.jsonl"
    report = build_file(path, out, PairOptions(chosen_min_score=1.0, rejected_max_score=0.0))
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    expected = hand_counts(rows)
    assert len(pairs) == expected["pairable"] > 0
    assert report.written == len(pairs)
    assert sum(report.dropped_rows.values()) == expected["failed"]
    label_of = {(r["prompt"], r["response"]): r for r in rows}
    for pair in pairs:
        chosen = label_of[(pair["prompt"], pair["chosen"])]
        rejected = label_of[(pair["prompt"], pair["rejected"])]
        assert chosen["status"] == rejected["status"] == "ok"
        assert chosen["score"] == 1.0 and rejected["score"] == 0.0
        # the fixture's own labels agree: chosen right, rejected wrong
        assert chosen["label"] is True and rejected["label"] is False
        assert pair["margin"] == 1.0


def test_filter_drops_zero_variance_groups(scored, tmp_path):
    path, rows = scored
    out = tmp_path / "prompts.jsonl"
    report = build_file(path, out, FilterOptions())
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    expected = hand_counts(rows)
    assert report.dropped_in_groups["zero_variance"] == expected["constant"]
    assert len(kept) == report.groups - expected["constant"]
    assert all(k["gap"] > 0 for k in kept)


def test_select_keeps_only_verified_best_answers(scored, tmp_path):
    path, rows = scored
    out = tmp_path / "sft.jsonl"
    build_file(path, out, SelectOptions(top_k=1, min_score=1.0))
    selected = [json.loads(line) for line in out.read_text().splitlines()]
    label_of = {(r["prompt"], r["response"]): r["label"] for r in rows}
    assert selected and all(label_of[(s["prompt"], s["completion"])] for s in selected)
    solvable = {r.get("group", r["prompt"]) for r in rows if r["score"] == 1.0}
    assert len(selected) == len(solvable)


def test_spilling_to_disk_gives_the_same_bytes(scored, tmp_path):
    path, _ = scored
    in_memory, spilled = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    build_file(path, in_memory, PairOptions(strategy="all"))
    report = build_file(path, spilled, PairOptions(strategy="all"), spill_bytes=20_000)
    assert isinstance(report, DataReport)
    assert in_memory.read_bytes() == spilled.read_bytes()
