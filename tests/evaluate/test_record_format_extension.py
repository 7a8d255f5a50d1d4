"""A new evaluation format is one module: a `record_format` function, read by eval and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.evaluate import loaders
from rewardlab.evaluate.loaders import available_formats, load_items

PLUGIN = '''
from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.loaders import record_format


@record_format("third_party_pairs", "q, good, bad")
def third_party_pairs(record, fallback_id, fields):
    return EvalItem(id=str(record.get("id", fallback_id)), kind="pairwise",
                    responses=(record["good"], record["bad"]), labels=(1, 0), prompt=record["q"])
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "third_party_fmt.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "third_party_fmt"
    # The format registry is process-wide: leave it as the other tests expect it.
    loaders._FORMATS.pop("third_party_pairs", None)
    loaders._FORMAT_DOCS.pop("third_party_pairs", None)
    sys.modules.pop("third_party_fmt", None)


def test_a_plugin_module_adds_a_format(plugin: str, tmp_path: Path, capsys) -> None:
    data = tmp_path / "pairs.jsonl"
    rows = [{"id": "a", "q": "2+2?", "good": "4", "bad": "5"}, {"q": "1+1?", "good": "2",
                                                                  "bad": "3"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["eval", "--plugin", plugin, "--list-formats"]) == 0
    assert "third_party_pairs" in capsys.readouterr().out
    items = list(load_items(data, "third_party_pairs"))
    assert [i.id for i in items] == ["a", "pairs-1"]
    assert items[0].responses == ("4", "5") and items[0].labels == (1, 0)
    assert "third_party_pairs" in available_formats()
