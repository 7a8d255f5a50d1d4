"""Hostile input lines and damaged outputs: every line becomes a sample or a typed error row
naming it, the output is always strict UTF-8 JSON, and ``--resume`` repairs or refuses with a
message (issue 16's breaks, plus the run record of issue 17)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardlab.reward import run_sync
from rewardlab.runlog import OutputCorrupted, dumps
from rewardlab.runrecord import RunMismatch
from rewardlab.scoring import OutputExists, score_jsonl_async
from rewardlab.spec import reward_from_spec

REPO = Path(__file__).resolve().parents[2]
SPEC = "exact_match"  # inline: these tests exercise the records, not the engine


def _strict_json(text: str) -> object:
    def no_constants(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=no_constants)


def score_file(src: Path, out: Path | None, **kwargs: object) -> object:
    reward = reward_from_spec(SPEC)
    try:
        return run_sync(score_jsonl_async(reward, src, out, spec=SPEC, progress=False,
                                          **kwargs))
    finally:
        reward.close()


def output_rows(out: Path) -> list[dict]:
    raw = out.read_bytes()
    raw.decode("utf-8")  # strict UTF-8, or this raises
    return [_strict_json(line) for line in raw.decode("utf-8").split("\n") if line]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "rewardlab", *args], capture_output=True,
                          text=True, env=env, timeout=120)


# -- the breaks, one regression test each ----------------------------------------------------

def test_deep_nesting_becomes_an_error_row_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    deep_list = "[" * 1000 + "]" * 1000
    deep_object = '{"a":' * 5000 + "1" + "}" * 5000
    deep_metadata = ('{"response": "x", "reference": "x", "metadata": '
                     + '{"a":' * 900 + "1" + "}" * 900 + "}")
    src.write_text("\n".join([json.dumps({"id": "ok1", "response": "a", "reference": "a"}),
                              deep_list, deep_object, deep_metadata,
                              json.dumps({"id": "ok2", "response": "b", "reference": "b"})])
                   + "\n")
    out = tmp_path / "out.jsonl"
    summary = score_file(src, out)
    rows = output_rows(out)
    assert len(rows) == 5 and summary.total == 5
    assert rows[0]["status"] == "ok" and rows[4]["status"] == "ok"
    assert rows[1]["status"] == "error" and rows[1]["reason"].startswith("line 2:")
    assert rows[2]["status"] == "error" and rows[2]["reason"].startswith("line 3:")
    assert rows[3]["status"] in ("ok", "error")  # depth 900 may be readable; never a crash
    # --resume after a partial output goes past the same lines again without crashing.
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2]))
    score_file(src, out, resume=True)
    assert output_rows(out) == rows


@pytest.mark.parametrize("to_stdout", [False, True])
def test_lone_surrogate_id_is_written_as_valid_utf8(tmp_path, capsysbinary, to_stdout):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "\\ud800x", "response": "a\\udfff", "reference": "a"}\n'
                   '{"id": "fine", "response": "a", "reference": "a"}\n')
    out = None if to_stdout else tmp_path / "out.jsonl"
    score_file(src, out)
    raw = capsysbinary.readouterr().out if to_stdout else out.read_bytes()
    text = raw.decode("utf-8")
    rows = [_strict_json(line) for line in text.splitlines()]
    assert [r["id"] for r in rows] == ["\ud800x", "fine"]
    assert "\\ud800" in text  # escaped, not raw


def test_bare_cr_between_tokens_is_one_record(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a",\r"response": "x", "reference": "x"}\n'
                    b'{"id": "b", "response": "y", "reference": "y"}\r\n')
    out = tmp_path / "out.jsonl"
    score_file(src, out)
    rows = output_rows(out)
    assert [(r["id"], r["status"]) for r in rows] == [("a", "ok"), ("b", "ok")]


def test_corrupted_complete_tail_row_is_cut_and_redone(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "response": "r", "reference": "r"}) + "\n"
                           for i in range(20)))
    out = tmp_path / "out.jsonl"
    score_file(src, out)
    full = out.read_bytes()
    lines = full.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:15]) + b'{"id": 15, "sco\x00\x00 garbage}\n' + b"\x00" * 7)
    capsys.readouterr()
    score_file(src, out, resume=True)
    assert out.read_bytes() == full
    err = capsys.readouterr().err
    assert "line 16" in err and "corrupted" in err


def test_corruption_followed_by_good_rows_is_refused(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "response": "r"}) + "\n" for i in range(10)))
    out = tmp_path / "out.jsonl"
    score_file(src, out)
    lines = out.read_bytes().splitlines(keepends=True)
    lines[3] = b"{not json\n"
    damaged = b"".join(lines)
    out.write_bytes(damaged)
    with pytest.raises(OutputCorrupted, match="line 4"):
        score_file(src, out, resume=True)
    assert out.read_bytes() == damaged  # refused: nothing touched
    proc = run_cli("score", str(src), "--spec", SPEC, "-o", str(out), "--resume",
                   "--no-progress")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "line 4" in proc.stderr


# -- the run record (issue 17's resume demands) ----------------------------------------------

def _input(path: Path, n: int, tag: str = "r") -> None:
    path.write_text("".join(json.dumps({"id": i, "response": tag, "reference": "r"}) + "\n"
                            for i in range(n)))


def test_resume_refuses_another_input_spec_or_a_missing_record(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _input(src, 12)
    score_file(src, out)
    assert json.loads((tmp_path / "out.jsonl.run.json").read_text())["rows"] == 12
    partial = b"".join(out.read_bytes().splitlines(keepends=True)[:5])
    out.write_bytes(partial)
    # same input, changed content within the rows already read
    _input(src, 12, tag="other")
    with pytest.raises(RunMismatch, match="changed"):
        score_file(src, out, resume=True)
    _input(src, 12)
    # another spec
    reward = reward_from_spec("token_f1")
    with pytest.raises(RunMismatch, match="spec"):
        run_sync(score_jsonl_async(reward, src, out, spec="token_f1", resume=True,
                                   progress=False))
    # another input path
    other = tmp_path / "copy.jsonl"
    other.write_bytes(src.read_bytes())
    with pytest.raises(RunMismatch, match="input"):
        score_file(other, out, resume=True)
    # no record at all
    (tmp_path / "out.jsonl.run.json").unlink()
    with pytest.raises(RunMismatch, match="no run record"):
        score_file(src, out, resume=True)
    assert out.read_bytes() == partial


def test_resume_accepts_an_input_that_grew_after_the_rows_read(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _input(src, 8)
    score_file(src, out)
    with src.open("a") as fh:
        fh.write(json.dumps({"id": 8, "response": "r", "reference": "r"}) + "\n")
    summary = score_file(src, out, resume=True)
    assert summary.resumed_from == 8 and [r["id"] for r in output_rows(out)] == list(range(9))


def test_fresh_run_refuses_to_overwrite_without_the_flag(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _input(src, 3)
    out.write_text('{"keep": "me"}\n')
    with pytest.raises(OutputExists, match="--overwrite"):
        score_file(src, out)
    assert out.read_text() == '{"keep": "me"}\n'
    proc = run_cli("score", str(src), "--spec", SPEC, "-o", str(out), "--no-progress")
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("score", str(src), "--spec", SPEC, "-o", str(out), "--no-progress",
                   "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in output_rows(out)] == [0, 1, 2]


# -- property: any line -> one typed row naming it ---------------------------------------------

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 60), max_value=10 ** 60)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=12)
            | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\r", "\u2028", "\x85"]))
_values = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=12)
_records = st.fixed_dictionaries({}, optional={
    "id": _values, "response": _values, "reference": _values, "prompt": _values,
    "metadata": _values, "group": _values})


def _deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "0" + "}" * depth)


_lines = st.one_of(
    _records.map(lambda r: json.dumps(r, ensure_ascii=True, allow_nan=True)),
    _records.map(lambda r: json.dumps(r, ensure_ascii=False, allow_nan=True)),
    st.text(alphabet=st.characters(exclude_characters="\n"), max_size=40),
    st.builds(_deep, st.sampled_from([10, 999, 1000, 5000]), st.sampled_from(["list", "dict"])),
    st.sampled_from(['{"response": "x", "id": 1e999}', '{"response": NaN}',
                     '{"response": "x", "id": ' + "9" * 5000 + "}",
                     '{"response":"x",\r"id":"cr"}', '{"response": "\\ud800"}', "\x0c", "\x00"]),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(_lines, min_size=1, max_size=8))
def test_any_lines_give_one_strict_row_each_naming_bad_lines(tmp_path, lines):
    src = tmp_path / "in.jsonl"
    src.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    out = tmp_path / "out.jsonl"
    summary = score_file(src, out, overwrite=True)
    kept = [line for line in "\n".join(lines).split("\n") if line.strip(" \t\r")]
    rows = output_rows(out)
    assert len(rows) == len(kept) == summary.total  # nothing lost, nothing invented
    for n, row in enumerate(rows, start=1):
        assert row["status"] in ("ok", "error", "unparseable", "bad_reference", "skipped")
        if row["status"] == "error" and row["reason"].startswith("line "):
            assert row["details"]["line"] >= n


@given(row=st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=20))
@settings(max_examples=200, deadline=None)
def test_dumps_always_gives_strict_utf8_json(row):
    text = dumps({"id": row, "details": {"x": row}})
    text.encode("utf-8")
    parsed = _strict_json(text)
    assert isinstance(parsed, dict)


def test_dumps_never_raises_on_unwritable_rows():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    row = json.loads(dumps({"id": "d", "details": {"x": deep}}))
    assert row["id"] == "d" and row["status"] == "error" and "deep" in row["reason"]
    assert json.loads(dumps({"score": math.nan}))["score"] == "NaN"
    assert json.loads(dumps({(1, 2): 3}))["status"] == "error"
