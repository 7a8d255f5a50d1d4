"""The one JSONL reader: bad lines come back typed with their line number, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewardlab.evaluate.best_of_n import qwen_math_bon_groups
from rewardlab.evaluate.loaders import DataError, load_items
from rewardlab.jsonl import BadLine, iter_jsonl, parse_json_line, read_jsonl


def test_blank_lines_are_skipped_and_numbers_are_the_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n   \n[2]\n', encoding="utf-8")
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (4, [2])]


def test_bad_lines_are_typed_not_raised() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    out = list(iter_jsonl(['{"ok": true}', "{not json", deep, "1" * 5000]))
    assert out[0] == (1, {"ok": True})
    assert isinstance(out[1][1], BadLine) and out[1][1].kind == "invalid_json"
    assert out[1][1].describe().startswith("invalid JSON: ")
    assert out[2][1] == BadLine(3, "too_deep")
    assert out[2][1].describe() == "JSON nested too deeply to read"
    # An integer longer than Python converts is a ValueError, not a JSONDecodeError.
    assert isinstance(out[3][1], BadLine) and out[3][1].line == 4


def test_parse_json_line_never_raises() -> None:
    assert parse_json_line('"s"') == "s"
    assert isinstance(parse_json_line("", 7), BadLine)


def test_evaluate_reports_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{oops\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.jsonl:2: invalid JSON"):
        list(load_items(path, "preference"))


def test_qwen_groups_read_through_evaluate_name_the_bad_line(tmp_path: Path) -> None:
    good = '{"idx": 0, "question": "q", "gt": "1", "code": ["a", "b"], "pred": ["1", null],' \
        ' "score": [true, false]}'
    path = tmp_path / "math_cot.jsonl"
    path.write_text(good + "\n{broken\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"math_cot.jsonl:2: invalid JSON"):
        qwen_math_bon_groups(path)
    path.write_text(good + "\n", encoding="utf-8")
    (group,) = qwen_math_bon_groups(path)
    assert group.answers == ["1", None] and group.correct == [True, False]
    assert group.scores is None


def test_qwen_missing_file_is_not_a_hub_lookup(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        qwen_math_bon_groups(tmp_path / "absent.jsonl")
