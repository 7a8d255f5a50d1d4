"""LLM backends are looked up by name: built-ins register themselves, a third-party package adds
one through the `rewardlab.backends` entry-point group, and a judge spec then names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rewardlab import SpecError, build_reward
from rewardlab.backends.llm import (
    BACKENDS,
    ChatResult,
    ContinuationScore,
    LLMBackend,
    build_backend,
)
from rewardlab.backends.openai_backend import OpenAIBackend
from rewardlab.backends.scripted_backend import ScriptedBackend
from rewardlab.types import Sample

SRC = Path(__file__).resolve().parents[2] / "src"

# A third-party backend, as its own distribution would ship it: one module.
THIRD_PARTY_MODULE = textwrap.dedent('''
    from rewardlab.backends.llm import BACKENDS, ChatResult, ContinuationScore, LLMBackend

    @BACKENDS.register("constant_verdict")
    class ConstantVerdict(LLMBackend):
        """Answers every judge question with the same rubric score."""

        model = "constant"

        def __init__(self, score: int) -> None:
            super().__init__()
            self.score = score

        async def chat(self, messages, **params):
            self.stats.add_call(0, 0, 0.0)
            return ChatResult(text=f"Constant. [RESULT] {self.score}")

        async def continuation_logprobs(self, context, continuation):
            return ContinuationScore(tokens=())
''')


def test_builtin_backends_register_themselves():
    assert {"openai", "transformers", "scripted"} <= set(BACKENDS.names())
    assert BACKENDS.get("openai") is OpenAIBackend
    backend = build_backend({"type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"})
    assert isinstance(backend, OpenAIBackend)
    assert isinstance(build_backend({"type": "scripted", "replies": ["x"]}), ScriptedBackend)


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown backend type 'opnai'.*did you mean 'openai'"):
        build_backend({"type": "opnai", "model": "m"})
    with pytest.raises(SpecError, match="unknown backend type"):
        build_reward({"name": "judge_verify", "backend": {"type": "nope"}})


def test_a_backend_registered_in_process_serves_a_judge():
    @BACKENDS.register("test_fixed_verdict")
    class FixedVerdict(LLMBackend):
        model = "fixed"

        async def chat(self, messages, **params):
            return ChatResult(text="Looks right. [RESULT] A")

        async def continuation_logprobs(self, context, continuation):
            return ContinuationScore(tokens=())

    try:
        judge = build_reward({"name": "judge_verify", "backend": {"type": "test_fixed_verdict"}})
        assert isinstance(judge.backend, FixedVerdict)
        out = judge.score_one(Sample(prompt="2+2?", response="4", reference="4"))
        assert out.score == 1.0, out
    finally:
        BACKENDS._members.pop("test_fixed_verdict", None)  # keep the registry as built-ins left it


def test_a_third_party_backend_registers_through_an_entry_point(tmp_path):
    # An installed distribution is a module plus a dist-info folder naming its entry point.
    (tmp_path / "acme_backend.py").write_text(THIRD_PARTY_MODULE, encoding="utf-8")
    dist = tmp_path / "acme_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-backend\nVersion: 1.0\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[rewardlab.backends]\nconstant_verdict = acme_backend\n", encoding="utf-8")
    code = textwrap.dedent('''
        import json
        from rewardlab import Sample, build_reward
        from rewardlab.backends.llm import BACKENDS
        judge = build_reward({"name": "judge_rubric", "normalize": False,
                              "backend": {"type": "constant_verdict", "score": 4}})
        out = judge.score_one(Sample(prompt="q", response="a"))
        print(json.dumps({"names": BACKENDS.names(), "score": out.score,
                          "backend": type(judge.backend).__module__}))
    ''')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    result = json.loads(proc.stdout)
    assert "constant_verdict" in result["names"] and "openai" in result["names"]
    assert result["backend"] == "acme_backend" and result["score"] == 4.0
