"""Loaders on the record shapes of the published benchmark files (issue 16).

The shapes are those measured on the public files: RM-Bench ships ``data/<domain>_filtered.json``
files without a ``domain`` field whose integer ids restart per domain (chat and code both have
id 8), plus ``total_dataset.json`` with ``domain``; RewardBench 2 comes as parquet (list columns
read back as numpy arrays, missing values as NaN). Set ``REWARDLAB_RMBENCH_DIR`` to a checkout's
``data`` folder to also run the full public RM-Bench files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rewardlab.evaluate import DataError, evaluate, load_items
from rewardlab.evaluate.loaders import detect_format


def _rmbench_record(i: int, subset: str, **extra: object) -> dict:
    return {"id": i, "subset": subset, "prompt": f"question {i}",
            "chosen": [f"good {i}", f"good detailed {i}", f"**good** {i}"],
            "rejected": [f"bad {i}", f"bad detailed {i}", f"**bad** {i}"], **extra}


def _write_array(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps(records, indent=4), encoding="utf-8")
    return path


def test_rmbench_domain_files_reuse_ids_and_evaluate_without_a_traceback(tmp_path):
    # Break: `rewardlab eval` on the public RM-Bench data crashed with "item ids must be
    # unique within a run" (and the domain files were taken for RewardBench 2).
    data = tmp_path / "data"
    data.mkdir()
    _write_array(data / "chat_filtered.json",
                 [_rmbench_record(8, "alpacaeval", error_key="k", error="e"),
                  _rmbench_record(12, "alpacaeval", error_key="k", error="e")])
    _write_array(data / "code_filtered.json",
                 [_rmbench_record(8, "bigcode/humanevalpack", language="cpp", task_id="CPP/1")])
    _write_array(data / "safety-refuse_filtered.json",
                 [_rmbench_record(2952, "xstest-should-refuse")])
    assert detect_format(_rmbench_record(1, "alpacaeval")) == "rmbench"
    items = list(load_items(data))
    assert [it.kind for it in items] == ["rmbench"] * 4
    assert [it.id for it in items] == ["chat/8", "chat/12", "code/8", "safety-refuse/2952"]
    assert [it.subset for it in items] == ["chat", "chat", "code", "safety-refuse"]
    assert items[2].metadata == {"subset": "bigcode/humanevalpack", "language": "cpp",
                                 "task_id": "CPP/1"}
    run = evaluate("length_baseline", items, tmp_path / "run", data_format="rmbench",
                   progress=False, report=False)
    assert run.summary["items"] == 4
    assert set(run.summary["rmbench"]["domains"]) == {"chat", "code", "safety-refuse"}


def test_rmbench_total_dataset_with_domain_field(tmp_path):
    records = [_rmbench_record(8, "alpacaeval", domain="chat"),
               _rmbench_record(8, "bigcode/humanevalpack", domain="code"),
               _rmbench_record(3, "math-prm", domain="math")]
    items = list(load_items(_write_array(tmp_path / "total_dataset.json", records)))
    assert [(it.id, it.subset) for it in items] == [("chat/8", "chat"), ("code/8", "code"),
                                                    ("math/3", "math")]


def test_repeated_ids_in_any_format_get_deterministic_suffixes(tmp_path):
    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps({"id": "x", "prompt": "p", "chosen": f"a{i}",
                                        "rejected": "b"}) + "\n" for i in range(3)))
    assert [it.id for it in load_items(path, "preference")] == ["x", "x#2", "x#3"]


def test_rewardbench2_parquet_list_columns_and_missing_fields(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame([
        {"id": "1", "prompt": "p", "chosen": ["c"], "rejected": ["r1", "r2", "r3"],
         "num_correct": 1, "num_rejected": 3, "total_completions": 4,
         "models": ["m1", "m2", "m3", "m4"], "subset": "Focus", "additional_metadata": None},
        {"id": "ties:1", "prompt": "p2", "chosen": ["c1", "c2"], "rejected": ["r1"],
         "num_correct": 2, "num_rejected": 1, "total_completions": 3,
         "models": ["m1", "m2", "m3"], "subset": "Ties", "additional_metadata": None},
    ])
    path = tmp_path / "test-00000-of-00001.parquet"
    frame.to_parquet(path)
    items = list(load_items(path))
    assert [it.kind for it in items] == ["best_of_n", "best_of_n"]
    assert items[0].responses == ("c", "r1", "r2", "r3") and items[0].labels == (1, 0, 0, 0)
    assert items[1].labels == (1, 1, 0) and items[1].subset == "Ties"


@pytest.mark.parametrize("line", [
    "[" * 5000 + "]" * 5000,
    '{"prompt": "p", "chosen": ' + "[" * 3000 + "]" * 3000 + ', "rejected": "b"}',
    '{"prompt": "p", "chosen": "a", "rejected": {"weird": 1}}',
    '{"prompt": 5, "chosen": "a", "rejected": "b", "id": ' + "9" * 5000 + "}",
])
def test_malformed_records_are_data_errors_naming_the_record(tmp_path, line):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n"
                    + line + "\n")
    with pytest.raises(DataError, match=r"bad|:2:"):
        list(load_items(path, "preference"))


def test_eval_cli_reports_bad_data_without_a_traceback(tmp_path):
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n' + "[" * 5000 + "\n")
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    proc = subprocess.run([sys.executable, "-m", "rewardlab", "eval", "--reward",
                           "length_baseline", "--data", str(path), "-o", str(tmp_path / "run"),
                           "--no-progress"], capture_output=True, text=True, env=env,
                          timeout=120)
    # A bad record is reported and the run goes on, as `score` does (issue 17); its error row
    # is in the run folder.
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "bad.jsonl:2" in proc.stderr
    assert "bad.jsonl:2" in (tmp_path / "run" / "errors.jsonl").read_text()


@pytest.mark.skipif(not os.environ.get("REWARDLAB_RMBENCH_DIR"),
                    reason="set REWARDLAB_RMBENCH_DIR to RM-Bench's data folder")
def test_full_public_rmbench_files(tmp_path):
    items = list(load_items(os.environ["REWARDLAB_RMBENCH_DIR"]))
    assert len({it.id for it in items}) == len(items)
    assert {it.kind for it in items} == {"rmbench"}
    run = evaluate("length_baseline", items, tmp_path / "run", data_format="rmbench",
                   progress=False, report=False)
    assert run.summary["items"] == len(items)


def test_eval_resume_repairs_a_corrupted_tail_and_refuses_mid_file_damage(tmp_path, capsys):
    from rewardlab.runlog import OutputCorrupted

    records = [_rmbench_record(i, "alpacaeval", domain="chat") for i in range(6)]
    items = list(load_items(_write_array(tmp_path / "total_dataset.json", records)))
    run_dir = tmp_path / "run"
    evaluate("length_baseline", items, run_dir, data_format="rmbench", progress=False,
             report=False)
    samples = run_dir / "samples.jsonl"
    full = samples.read_bytes()
    lines = full.splitlines(keepends=True)
    samples.write_bytes(b"".join(lines[:4]) + b'{"id": "chat/4", "resu\x00lt"\n')
    evaluate("length_baseline", items, run_dir, data_format="rmbench", progress=False,
             report=False, resume=True)
    assert samples.read_bytes() == full
    assert "line 5 was corrupted" in capsys.readouterr().err
    lines[1] = b"garbage\n"
    samples.write_bytes(b"".join(lines))
    with pytest.raises(OutputCorrupted, match="line 2"):
        evaluate("length_baseline", items, run_dir, data_format="rmbench", progress=False,
                 report=False, resume=True)
