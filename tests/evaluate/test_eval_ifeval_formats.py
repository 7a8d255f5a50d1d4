"""``rewardlab eval`` on IFEval/IFBench data: loaders and the official metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rewardlab.evaluate import DataError, available_formats, evaluate, load_items

IFEVAL = Path("ifeval") / "gpt4_official.jsonl"


def _official_numbers(path: Path) -> dict[str, float]:
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    n_inst = sum(len(r["strict"]) for r in recs)
    return {"prompt_level_strict_acc": sum(all(r["strict"]) for r in recs) / len(recs),
            "prompt_level_loose_acc": sum(all(r["loose"]) for r in recs) / len(recs),
            "inst_level_strict_acc": sum(sum(r["strict"]) for r in recs) / n_inst,
            "inst_level_loose_acc": sum(sum(r["loose"]) for r in recs) / n_inst}


def test_formats_are_registered() -> None:
    assert {"ifeval", "ifbench"} <= set(available_formats())


def test_eval_reports_the_official_metrics(fixtures_dir: Path, tmp_path: Path) -> None:
    path = fixtures_dir / IFEVAL
    items = list(load_items(path, "ifeval"))
    assert len(items) == 100 and items[0].kind == "instructions"
    run = evaluate({"name": "ifeval", "isolation": "inline"}, items, tmp_path / "run",
                   progress=False, data_format="ifeval")
    metrics = run.summary["instruction_following"]
    for name, value in _official_numbers(path).items():
        assert metrics[name] == pytest.approx(value), name
    assert metrics["agreement_with_official"] == {"instructions": 156, "strict": 1.0,
                                                  "loose": 1.0}
    assert metrics["unscored"] == 0
    assert (tmp_path / "run" / "report.html").is_file()


def test_unscorable_responses_count_as_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"],
             "kwargs": [{}], "response": "no commas"},
            {"key": 2, "prompt": "p", "instruction_id_list": ["no:such"], "kwargs": [{}],
             "response": "x"},
            {"key": 3, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"],
             "kwargs": [{}], "responses": ["a, b", "a b"]}]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    run = evaluate({"name": "ifeval", "isolation": "inline"}, load_items(data, "ifbench"),
                   tmp_path / "run", progress=False, report=False)
    m = run.summary["instruction_following"]
    assert m["responses"] == 4 and m["unscored"] == 1
    assert m["prompt_level_strict_acc"] == 0.5
    assert "agreement_with_official" not in m


@pytest.mark.parametrize("row", [
    {"prompt": "p", "instruction_id_list": "punctuation:no_comma", "response": "x"},
    {"prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "response": 3},
    {"prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "response": "x",
     "strict": [True, False]},
    {"prompt": "p", "instruction_id_list": ["punctuation:no_comma"]},
])
def test_malformed_records_are_data_errors(row: dict, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(row))
    with pytest.raises(DataError, match="record"):
        list(load_items(data, "ifeval"))


def test_cli_eval_on_ifeval(fixtures_dir: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rewardlab", "eval", "--reward", "ifeval", "--format", "ifeval",
         "--data", str(fixtures_dir / IFEVAL), "-o", str(tmp_path / "run"), "--limit", "20"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["instruction_following"]["responses"] == 20
