"""The verl adapter, called exactly as verl's reward managers call it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import multiprocessing

import numpy as np
import pytest

from rewardlab.integrations import verl
from rewardlab.integrations.common import SPEC_ENV

SPEC = """
reward:
  name: weighted_sum
  rewards:
    strict: exact_match
    loose: {name: exact_match, ignore_case: true, ignore_punctuation: true}
  weights: {strict: 0.5, loose: 0.5}
"""
KEYS = {"score", "acc", "status", "strict", "loose"}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return str(path)


def test_keyword_form_with_numpy_ground_truth(spec_file):
    # naive manager: compute_score(data_source=..., solution_str=..., ground_truth=...,
    # extra_info=...) with reward_kwargs merged in
    out = verl.compute_score(data_source="openai/gsm8k", solution_str="Paris.",
                             ground_truth=np.array(["paris", "Paris, France"]),
                             extra_info={"split": "test", "index": np.int64(3)}, spec=spec_file)
    assert set(out) == KEYS
    assert out == {"score": 0.5, "acc": False, "status": "ok", "strict": 0.0, "loose": 1.0}
    # keys verl injects (reward loop, GenRM) are accepted and ignored
    exact = verl.compute_score(data_source="x", solution_str="Paris", ground_truth="Paris",
                               extra_info={"num_turns": 2, "rollout_reward_scores": {}},
                               reward_router_address="127.0.0.1:1", reward_model_tokenizer=None,
                               spec=spec_file, acc_component="strict")
    assert exact["score"] == 1.0 and exact["acc"] is True


def test_same_keys_for_failures(spec_file):
    bad = verl.compute_score("x", "Paris", {"not": "a string"}, None, spec=spec_file)
    assert set(bad) == KEYS
    assert bad["status"] == "bad_reference" and bad["score"] == 0.0 and bad["acc"] is False
    assert bad["strict"] == 0.0  # never NaN: verl's gdpo estimator would spread it
    custom = verl.compute_score("x", "Paris", None, spec=spec_file, failure_score=-1.0)
    assert custom["score"] == -1.0


def test_spec_from_environment(spec_file, monkeypatch):
    monkeypatch.setenv(SPEC_ENV, spec_file)
    assert verl.compute_score("x", "a", "a")["score"] == 1.0


def test_batch_form(spec_file):
    # batch manager: compute_score(data_sources=..., solution_strs=..., ground_truths=...,
    # extra_infos=...) -> list
    out = verl.compute_score_batch(data_sources=["a", "b", "c"],
                                   solution_strs=["x", "Y", "z"],
                                   ground_truths=np.array(["x", "y", "q"], dtype=object),
                                   extra_infos=[{}, {}, {}], spec=spec_file)
    assert [r["score"] for r in out] == [1.0, 0.5, 0.0]
    assert all(set(r) == KEYS for r in out)
    with pytest.raises(ValueError, match="same length"):
        verl.compute_score_batch(["a"], ["x", "y"], ["x"], None, spec=spec_file)


def test_batch_form_applies_group_advantages_by_prompt_index(tmp_path):
    path = tmp_path / "gdpo.yaml"
    path.write_text("""
reward:
  name: group_advantage
  method: gdpo
  rewards:
    strict: exact_match
    loose: {name: exact_match, ignore_case: true}
""")
    out = verl.compute_score_batch(["d"] * 4, ["a", "A", "b", "a"], ["a"] * 4,
                                   [{"index": 0}, {"index": 0}, {"index": 1}, {"index": 1}],
                                   spec=str(path))
    assert out[0]["score"] > out[1]["score"] and out[3]["score"] > out[2]["score"]
    assert out[1]["loose"] == 1.0 and out[1]["strict"] == 0.0
    assert sum(r["score"] for r in out) == pytest.approx(0.0, abs=1e-9)


async def _prime_style(executor, fn, rows, timeout=300.0):
    # verl PrimeRewardManager: loop.run_in_executor(executor, partial(fn, *row)) per sample,
    # each under asyncio.wait_for; timeouts and exceptions become 0.0
    loop = asyncio.get_running_loop()

    async def one(row):
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(executor, functools.partial(fn, *row)), timeout)
        except Exception:
            return 0.0

    return await asyncio.gather(*(one(r) for r in rows))


def test_positional_form_in_a_spawned_process_pool(spec_file):
    fn = functools.partial(verl.compute_score, spec=spec_file)  # what verl's reward_kwargs build
    rows = [("gsm8k", "Paris", np.array(["Paris"]), {"index": 0}),
            ("gsm8k", "paris", "Paris", None),
            ("gsm8k", "Rome", "Paris", {"index": 1})]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        results = asyncio.run(_prime_style(pool, fn, rows))
    assert [r["score"] for r in results] == [1.0, 0.5, 0.0]
    assert all(set(r) == KEYS for r in results)


def test_async_form(spec_file):
    async def main():
        return await asyncio.gather(*(
            verl.compute_score_async(data_source="d", solution_str=s, ground_truth="a",
                                     extra_info=None, spec=spec_file) for s in ["a", "A", "b"]))

    assert [r["score"] for r in asyncio.run(main())] == [1.0, 0.5, 0.0]


ROUTED = """
rewards:
  openai/gsm8k: {name: math}
  trivia:
    name: weighted_sum
    rewards: {strict: exact_match, loose: {name: exact_match, ignore_case: true}}
"""


def test_routes_mixed_data_sources_with_the_same_keys(tmp_path):
    path = tmp_path / "routed.yaml"
    path.write_text(ROUTED)
    keys = {"score", "acc", "status", "strict", "loose"}
    math_row = verl.compute_score("openai/gsm8k", "So the answer is 72.", "#### 72", None,
                                  spec=str(path))
    trivia = verl.compute_score("trivia", "paris", "Paris", None, spec=str(path))
    unknown = verl.compute_score("code", "print(1)", "1", None, spec=str(path))
    assert {frozenset(d) for d in (math_row, trivia, unknown)} == {frozenset(keys)}
    assert math_row["score"] == 1.0 and math_row["acc"] is True and math_row["loose"] == 0.0
    assert trivia["score"] == 1.0 and trivia["strict"] == 0.0
    assert unknown["status"] == "skipped" and unknown["score"] == 0.0
    batch = verl.compute_score_batch(["trivia", "openai/gsm8k", "code"],
                                     ["Paris", "72", "x"], ["Paris", "72", "x"],
                                     None, spec=str(path))
    assert [r["score"] for r in batch] == [2.0, 1.0, 0.0]
    assert [r["status"] for r in batch] == ["ok", "ok", "skipped"]
    assert all(set(r) == keys for r in batch)
    with_default = tmp_path / "with_default.yaml"  # (a spec file is read once per process)
    with_default.write_text(ROUTED + "  default: exact_match\n")
    fallback = verl.compute_score("code", "x", "x", None, spec=str(with_default))
    assert fallback["status"] == "ok" and fallback["score"] == 1.0


def test_multi_turn_fields_are_sample_fields_and_stay_optional():
    from rewardlab.types import Sample

    plain = Sample("r", "p", "ref", {}, 1, "id")  # positional construction is unchanged
    assert plain.num_turns is None and plain.rollout_reward_scores == {}
    sample = verl.sample_from_verl("d", "x", "x", {"num_turns": np.int32(2),
                                                   "rollout_reward_scores": {"t": 1.0},
                                                   "tool_extra_fields": {"calls": 1},
                                                   "index": 4})
    assert (sample.num_turns, sample.rollout_reward_scores, sample.tool_extra_fields) == (
        2, {"t": 1.0}, {"calls": 1})
    assert sample.group == 4 and "num_turns" not in sample.metadata
    odd = verl.sample_from_verl("d", "x", "x", {"num_turns": None, "rollout_reward_scores": 3})
    assert odd.num_turns is None and odd.rollout_reward_scores == {}
    with pytest.raises(TypeError, match="num_turns"):
        Sample("r", num_turns=-1)
    with pytest.raises(TypeError, match="tool_extra_fields"):
        Sample("r", tool_extra_fields=[1])


def test_router_placeholder_is_replaced_by_verls_address(tmp_path, monkeypatch):
    spec = {"reward": {"name": "exact_match"},
            "notes": {"url": "http://${reward_router_address}/v1"}}
    routed = verl.with_router(spec, "10.0.0.1:8000")
    assert routed["notes"]["url"] == "http://10.0.0.1:8000/v1" and routed is not spec
    assert verl.with_router(spec, None) is spec
    plain = {"reward": {"name": "exact_match"}}
    assert verl.with_router(plain, "h:1") is plain
    path = tmp_path / "spec.yaml"
    path.write_text("reward: exact_match\nnotes: 'http://${reward_router_address}/v1'\n")
    monkeypatch.setenv(SPEC_ENV, str(path))
    assert verl.with_router(None, "h:2")["notes"] == "http://h:2/v1"
