"""Every handled CLI failure is one stderr line `rewardlab <command>: error: ...`, stdout empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.cli._errors import error_line


def _cases(tmp: Path) -> list[tuple[str, list[str]]]:
    bad = tmp / "bad.jsonl"
    bad.write_text('{"prompt": "p", "response": "r", "score": 1}\n', encoding="utf-8")
    run = tmp / "run"
    run.mkdir()
    (run / "summary.json").write_text('{"items": 1}', encoding="utf-8")
    (run / "samples.jsonl").write_text("{not json\n", encoding="utf-8")
    return [
        ("score", ["score", "--spec", "exact_match", str(tmp / "absent.jsonl")]),
        ("score", ["score", "--spec", "no_such_reward_xyz", str(bad)]),
        ("eval", ["eval", "--data", str(bad)]),
        ("eval", ["eval", "--reward", "exact_match", "--data", str(bad), "--probes", "nope"]),
        ("rewards", ["rewards", "no_such_reward_xyz"]),
        ("report", ["report", str(tmp / "absent-run"), "-o", str(tmp / "r.html")]),
        ("report", ["report", str(run), "-o", str(tmp / "r2.html")]),
        ("data pairs", ["data", "pairs", str(tmp / "absent.jsonl"), "-o", str(tmp / "p.jsonl")]),
        ("prm eval", ["prm", "eval", "--reward", "prm", "--data", str(tmp / "absent.jsonl")]),
        ("prm eval", ["prm", "eval", "--reward", '{"name": "nope"}', "--data", str(bad)]),
        ("prm eval", ["prm", "eval", "--reward", '{"name": "prm", "backend": "remote", '
                      '"url": "http://127.0.0.1:9"}', "--data", str(bad)]),
    ]


@pytest.mark.parametrize("case", range(11))
def test_one_prefix_on_stderr(case: int, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    command, argv = _cases(tmp_path)[case]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no message"
    assert lines[-1].startswith(f"rewardlab {command}: error: "), err
    assert "Traceback" not in err


def test_report_names_the_corrupted_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(_cases(tmp_path)[6][1])
    assert "samples.jsonl:1: invalid JSON" in capsys.readouterr().err


def test_error_line_format() -> None:
    assert error_line("data pairs", ValueError("x")) == "rewardlab data pairs: error: x"
