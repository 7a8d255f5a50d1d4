"""The OpenRLHF reward_func file: generated, loaded the way OpenRLHF loads it, called one sample
per call in a thread."""

from __future__ import annotations

import asyncio
import importlib.util
import math

import pytest
import torch

from rewardlab.integrations.openrlhf import score_queries, write_reward_func_file
from rewardlab.serve.protocol import recover_response
from rewardlab.spec import SpecError

SPEC = """
reward:
  name: weighted_sum
  rewards:
    strict: exact_match
    loose: {name: exact_match, ignore_case: true}
"""


def _load(path):
    # openrlhf.utils.agent: spec_from_file_location + exec_module, then module.reward_func
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


def test_response_is_recovered_like_the_http_form():
    prompt = "<|im_start|>user\nCapital?<|im_end|>\n<|im_start|>assistant\n"
    assert recover_response(prompt + "Paris<|im_end|>\n<|endoftext|>", prompt) == "Paris"
    # A query that does not contain its prompt is an error for that sample, not the whole
    # query scored as the response.
    out = score_queries(["no prompt here</s>", "Q: hi A: x"], ["other", "Q: hi A:"], ["x", "x"],
                        spec={"reward": {"name": "exact_match"}})
    assert [float(v) for v in out["extra_logs"]["status/error"]] == [1.0, 0.0]
    assert [float(v) for v in out["rewards"]] == [0.0, 1.0]


def test_generated_file_scores_like_openrlhf_calls_it(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)
    out = write_reward_func_file(spec_path, tmp_path / "reward_func.py")
    text = out.read_text()
    assert "--reward.remote_url" in text and "--algo.advantage.estimator group_norm" in text
    reward_func = _load(out)

    async def per_sample_in_threads():
        rows = [("Q: capital?\nA: ", "Paris</s>", "Paris"),
                ("Q: capital?\nA: ", "paris", "Paris"),
                ("Q: capital?\nA: ", "Rome", ["Paris"]),
                ("Q: capital?\nA: ", "Rome", {"bad": "label"})]
        return await asyncio.gather(*(asyncio.to_thread(reward_func, [p + r], [p], [label])
                                      for p, r, label in rows))

    results = asyncio.run(per_sample_in_threads())
    assert [float(r["rewards"][0]) for r in results] == [2.0, 1.0, 0.0, 0.0]
    assert all(isinstance(r["rewards"], torch.Tensor) for r in results)
    keys = {frozenset(r["extra_logs"]) for r in results}
    assert len(keys) == 1  # the same log keys on every call
    assert float(results[1]["extra_logs"]["strict"][0]) == 0.0
    assert math.isnan(float(results[3]["extra_logs"]["loose"][0]))
    assert float(results[3]["extra_logs"]["status/bad_reference"][0]) == 1.0
    # scores: OpenRLHF's 0-1 meaning (clipped), NaN for the failure
    assert [float(r["scores"][0]) for r in results[:3]] == [1.0, 1.0, 0.0]
    assert math.isnan(float(results[3]["scores"][0]))


def test_scores_follow_the_given_reward_range(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)
    out = write_reward_func_file(spec_path, tmp_path / "rf.py", score_range=(0.0, 2.0))
    reward_func = _load(out)
    result = reward_func(["Q: paris"], ["Q: "], ["Paris"])
    assert float(result["rewards"][0]) == 1.0 and float(result["scores"][0]) == 0.5
    with pytest.raises(ValueError, match="score_range"):
        write_reward_func_file(spec_path, tmp_path / "rf2.py", score_range=(1.0, 1.0))


def test_generation_validates_the_spec(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("reward: {name: weighted_sum, rewards: [no_such_reward]}")
    with pytest.raises(SpecError, match="no_such_reward"):
        write_reward_func_file(bad, tmp_path / "f.py")
    with pytest.raises(SpecError, match=r"\.py"):
        write_reward_func_file(SPEC, tmp_path / "f.txt")
