"""Malformed benchmark records are reported and skipped (or repaired), never fatal; an empty
step is a step. The synthesized records mirror the public PRMBench file's bad ones:
``prm_test_p1_24`` (error steps 23, 24 of 16 steps), ``prm_test_p1_47`` (error step 15 of 10)
and ``prm_test_p1_87`` (deception: an empty step 16)."""

from __future__ import annotations

import json

import pytest

from rewardlab import Sample, build_reward
from rewardlab.evaluate.prm import (
    MalformedRecord,
    PRMEvaluation,
    degeneracy,
    load_solutions,
    prmbench_solutions,
    processbench_solutions,
)


def record(idx: str, steps: int, error_steps: list[int], empty: int | None = None) -> dict:
    process = [f"Step {i + 1}: we compute {i} + 1 = {i + 1}." for i in range(steps)]
    if empty is not None:
        process[empty] = ""
    return {"idx": idx, "question": "Count up.", "modified_question": "Count up.",
            "original_process": process, "modified_process": process,
            "error_steps": error_steps, "classification": "missing_condition"}


BAD = [
    record("prm_test_p1_24", 16, [23, 24]),
    record("prm_test_p1_47", 10, [15]),
]
REPAIRED = [record("prm_test_p1_80", 23, [12, 17, 27])]
EMPTY_STEP = [record("prm_test_p1_87", 17, [11, 13], empty=15)]


@pytest.fixture()
def mixed_file(tmp_path, fixtures_dir):
    """The PRMBench fixture plus the malformed records, a bad JSON line and a missing field."""
    lines = (fixtures_dir / "prmbench" / "prmbench-p1-test.jsonl").read_text().splitlines()[:6]
    lines += [json.dumps(r) for r in BAD + REPAIRED + EMPTY_STEP]
    lines += ["{not json", json.dumps({"idx": "no_process", "question": "q", "error_steps": [1]})]
    path = tmp_path / "prmbench-mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_loader_reports_and_goes_on(mixed_file):
    malformed: list[MalformedRecord] = []
    sols = load_solutions(mixed_file, "prmbench", malformed=malformed)
    assert [s.id for s in sols][-2:] == ["prm_test_p1_80", "prm_test_p1_87"]
    assert len(sols) == 6 + 2
    skipped = {m.id: m for m in malformed if not m.kept}
    assert set(skipped) == {"prm_test_p1_24", "prm_test_p1_47", "line 11", "no_process"}
    assert "[23, 24] for 16 steps" in skipped["prm_test_p1_24"].reason
    assert skipped["line 11"].line == 11 and "invalid JSON" in skipped["line 11"].reason
    repaired = [m for m in malformed if m.kept]
    assert [m.id for m in repaired] == ["prm_test_p1_80"] and "[27]" in repaired[0].reason
    fixed = sols[-2]
    assert fixed.labels.count(False) == 2 and fixed.metadata["dropped_error_steps"] == [27]
    # an empty step is kept as a step, labelled like any other
    empty = sols[-1]
    assert empty.steps[15] == "" and len(empty.steps) == 17 and empty.labels[15] is True


def test_strict_loading_still_raises(mixed_file):
    with pytest.raises(ValueError, match=r"invalid JSON|no error step"):
        load_solutions(mixed_file, "prmbench")
    with pytest.raises(ValueError, match="prm_test_p1_24"):
        prmbench_solutions(BAD)


def test_processbench_malformed_records_are_reported():
    malformed: list[MalformedRecord] = []
    sols = processbench_solutions(
        [{"id": "ok", "problem": "p", "steps": ["a", ""], "label": 1},
         {"id": "past_end", "problem": "p", "steps": ["a"], "label": 3},
         {"id": "no_steps", "problem": "p", "steps": [], "label": -1}],
        malformed=malformed,
    )
    assert [s.id for s in sols] == ["ok"] and sols[0].steps == ["a", ""]
    assert [m.id for m in malformed] == ["past_end", "no_steps"]


def test_empty_step_is_scored_like_any_step(minilm_token_classifier):
    reward = build_reward({"name": "prm", "model": str(minilm_token_classifier)})
    steps = ["We add 2 and 3.", "", "   ", "So the answer is 5."]
    out = reward.score_one(Sample(response="x", prompt="What is 2 + 3?",
                                  metadata={"steps": steps}))
    assert out.is_ok, out.reason
    assert len(out.details["step_scores"]) == 4
    reward.close()


def test_prm_eval_cli_reports_malformed_records(mixed_file, minilm_token_classifier, tmp_path,
                                                capsys):
    from rewardlab.cli import main

    out = tmp_path / "report.json"
    spec = json.dumps({"name": "prm", "model": str(minilm_token_classifier)})
    code = main(["prm", "eval", "--reward", spec, "--data", str(mixed_file), "-o", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["n_solutions"] == 8 and report["n_failed"] == 0  # the empty step is scored
    mal = report["malformed_records"]
    assert mal["skipped"] == 4 and mal["repaired"] == 1
    assert {m["id"] for m in mal["records"]} >= {"prm_test_p1_24", "prm_test_p1_47"}
    assert "4 skipped" in capsys.readouterr().err
    assert isinstance(report["degenerate"], bool)


def test_degenerate_prm_is_flagged():
    assert degeneracy([[0.9, 0.8], [0.7]], 0.5) == {
        "predicted_error_share": 0.0, "degenerate": True, "degenerate_class": "correct"}
    assert degeneracy([[0.1], [0.2]], 0.5)["degenerate_class"] == "error"
    assert degeneracy([[0.9, 0.1]], 0.5)["degenerate"] is False
    from rewardlab.evaluate.prm import LabelledSolution

    sol = LabelledSolution("q", ["a", "b"], [True, False])
    metrics = PRMEvaluation([sol], [[0.9, 0.9]], []).metrics(0.5)
    assert metrics["degenerate"] is True and metrics["f1_error"] == 0.0
