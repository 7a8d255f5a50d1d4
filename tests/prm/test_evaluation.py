import math

import pytest

from rewardlab.evaluate.prm import (
    LabelledSolution,
    calibrate_threshold,
    prmbench_solutions,
    processbench_metrics,
    processbench_solutions,
    solution_metrics,
    step_metrics,
)


def test_processbench_f1_handmade():
    # 4 erroneous solutions (first error at 2, 0, 1, 3) and 3 correct ones (-1).
    labels = [2, 0, 1, 3, -1, -1, -1]
    preds = [2, 1, 1, -1, -1, 0, -1]
    m = processbench_metrics(labels, preds)
    # erroneous: right on 2 of 4 (too-late and missed errors count as wrong); correct: 2 of 3
    assert m["error_acc"] == pytest.approx(0.5)
    assert m["correct_acc"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))  # 4/7
    assert m["f1"] == pytest.approx(4 / 7)
    assert (m["n_error"], m["n_correct"]) == (4, 3)


def test_processbench_edge_cases():
    assert math.isnan(processbench_metrics([1, 2], [1, 2])["f1"])  # no correct solutions
    assert processbench_metrics([1, -1], [0, 0])["f1"] == 0.0
    with pytest.raises(ValueError, match="predictions"):
        processbench_metrics([1], [])


def test_step_metrics_hand_computed():
    labels = [[True, True, False], [True, False]]
    scores = [[0.9, 0.4, 0.2], [0.8, 0.7]]
    m = step_metrics(labels, scores, threshold=0.5)
    # correct class: tp=2 (0.9, 0.8), fn=1 (0.4); error class: tn=1 (0.2), fp=1 (0.7)
    assert m["f1_correct"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert m["f1_error"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert m["prm_score"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m["acc_correct"] == pytest.approx(2 / 3)
    assert m["acc_error"] == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="solution 0"):
        step_metrics([[True]], [[0.1, 0.2]])


def test_calibration_finds_separating_threshold():
    sols = [
        LabelledSolution("q", ["a", "b"], [True, False]),
        LabelledSolution("q", ["a", "b"], [True, True]),
    ]
    scores = [[0.3, 0.1], [0.35, 0.32]]  # separable only at a threshold in (0.1, 0.3)
    t, value = calibrate_threshold(sols, scores, "processbench_f1")
    assert 0.1 < t < 0.3
    assert value == 1.0
    assert solution_metrics(sols, scores, 0.5)["processbench_f1"] == 0.0


def test_prmbench_fixture_loads(fixtures_dir):
    path = fixtures_dir / "prmbench" / "prmbench-p1-test.jsonl"
    sols = prmbench_solutions(path)
    assert len(sols) == 160
    assert all(s.first_error >= 0 for s in sols)
    first = sols[0]
    assert first.id == "prm_test_p1_12"
    assert first.first_error == 8  # error_steps [9, ...] are 1-based
    # some upstream records point past the end of their process: kept in-range, rest reported
    quirky = [s for s in sols if s.metadata.get("dropped_error_steps")]
    assert len(quirky) == 5
    with_original = prmbench_solutions(path, include_original=True)
    assert len(with_original) == 320
    assert sum(s.first_error == -1 for s in with_original) == 160


def test_prmbench_bad_records():
    with pytest.raises(ValueError, match="missing or bad field"):
        prmbench_solutions([{"question": "q"}])
    with pytest.raises(ValueError, match="no error step"):
        prmbench_solutions([{"question": "q", "modified_process": ["a"], "error_steps": [3]}])


def test_processbench_loader():
    sols = processbench_solutions(
        [
            {"id": "a", "problem": "p", "steps": ["s1", "s2", "s3"], "label": 1},
            {"id": "b", "problem": "p", "steps": ["s1"], "label": -1},
        ]
    )
    assert [s.first_error for s in sols] == [1, -1]
    assert sols[0].labels == [True, False, False]
    with pytest.raises(ValueError, match="outside"):
        processbench_solutions([{"problem": "p", "steps": ["s1"], "label": 4}])
