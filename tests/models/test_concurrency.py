"""Every model-backed reward under concurrent callers, on real models.

``rewardlab eval`` and the server call a reward from several batches at once. For each
model-backed reward, N threads (each with its own event loop, as the server's workers) and N
tasks on one event loop score the same items, with inputs long enough to be truncated; every
caller must get exactly (bit for bit) the scores of a sequential call on the same batch.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hh_data import hh_samples

from rewardlab import Sample, Status, build_reward
from rewardlab.types import Outcome

pytest.importorskip("transformers")

CALLERS = 4




def concurrent_runs(calls: list) -> list[list[Outcome]]:
    """Run zero-argument callables in threads that start together."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def on_one_loop(reward, batches: list[list[Sample]]) -> list[list[Outcome]]:
    async def main():
        return await asyncio.gather(*(reward.ascore(b) for b in batches))

    return asyncio.run(main())


def values(outcomes: list[Outcome]) -> list[tuple]:
    assert all(o.status is Status.OK for o in outcomes), [o.reason for o in outcomes][:3]
    return [(o.score, o.details.get("truncated"), o.details.get("step_scores"))
            for o in outcomes]


def same(got: list[tuple], want: list[tuple], tol: float) -> bool:
    if tol == 0:
        return got == want
    return all(g[1:] == w[1:] and abs(g[0] - w[0]) <= tol
               for g, w in zip(got, want, strict=True))


def assert_concurrency_exact(reward, samples: list[Sample], batch: int,
                             tol: float = 0.0) -> list[Outcome]:
    """Sequential scores per batch, then the same batches from threads and from one event
    loop at once: identical, bit for bit (``tol`` only for a server that batches concurrent
    requests together, which changes float rounding)."""
    batches = [samples[i : i + batch] for i in range(0, len(samples), batch)]
    sequential = [reward.score(b) for b in batches]
    want = [values(o) for o in sequential]
    # every thread scores every batch (its own order of batches), all at once
    calls = [
        (lambda k=k: [reward.score(batches[(j + k) % len(batches)])
                      for j in range(len(batches))])
        for k in range(CALLERS)
    ]
    for k, got in enumerate(concurrent_runs(calls)):
        for j, outcomes in enumerate(got):
            assert same(values(outcomes), want[(j + k) % len(batches)], tol), (k, j)
    for got, expected in zip(on_one_loop(reward, batches * 2), want * 2, strict=True):
        assert same(values(got), expected, tol)
    return [o for b in sequential for o in b]


@pytest.fixture(scope="module")
def minilm_rm(tmp_path_factory, minilm_path):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path_factory.mktemp("minilm-rm-conc")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(minilm_path, num_labels=1)
    torch.nn.init.normal_(model.classifier.weight, std=0.5)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(folder)
    return folder


def test_scalar_rm_concurrent_callers_get_sequential_scores(minilm_rm, fixtures_dir):
    samples = hh_samples(fixtures_dir, 16)
    rm = build_reward({"name": "scalar_rm", "model": str(minilm_rm), "max_length": 64})
    outcomes = assert_concurrency_exact(rm, samples, batch=4)
    # truncation really applied, and the kept window respects the limit
    assert sum(o.details["truncated"] for o in outcomes) >= len(samples) // 2
    assert all(o.details.get("tokens_kept", 0) <= 64 for o in outcomes)


def test_two_scalar_rms_with_different_limits_share_one_tokenizer(minilm_rm, fixtures_dir):
    """The reported race: two RMs on one cached model/tokenizer, one truncating to 64 tokens,
    one to 512, called at once. Each must get its own sequential scores and no shape errors."""
    samples = hh_samples(fixtures_dir, 16)
    short = build_reward({"name": "scalar_rm", "model": str(minilm_rm), "max_length": 64})
    full = build_reward({"name": "scalar_rm", "model": str(minilm_rm)})
    assert short.classifier is full.classifier  # one cached tokenizer for both
    want_short, want_full = values(short.score(samples)), values(full.score(samples))
    assert want_short != want_full
    calls = [(lambda rm=rm: rm.score(samples)) for rm in (short, full) * (CALLERS // 2)]
    for k, got in enumerate(concurrent_runs(calls)):
        assert values(got) == (want_short if k % 2 == 0 else want_full)
    # the pair-format encoder never reconfigures the shared tokenizer
    assert short.classifier.tokenizer.truncation_side == "right"


def test_scalar_rm_scores_do_not_depend_on_batch_or_order(minilm_rm, fixtures_dir):
    samples = hh_samples(fixtures_dir, 16)
    rm = build_reward({"name": "scalar_rm", "model": str(minilm_rm), "max_length": 64})
    one = [o.score for o in rm.score(samples)]
    singles = [rm.score_one(s).score for s in samples]
    backwards = [o.score for o in rm.score(samples[::-1])][::-1]
    assert singles == pytest.approx(one, abs=1e-5)
    assert backwards == pytest.approx(one, abs=1e-5)


@pytest.mark.slow
def test_prm_concurrent_callers_get_sequential_scores(minilm_token_classifier, fixtures_dir):
    from rewardlab.evaluate.prm import prmbench_solutions

    sols = prmbench_solutions(fixtures_dir / "prmbench" / "prmbench-p1-test.jsonl")[:6]
    prm = build_reward({"name": "prm", "model": str(minilm_token_classifier),
                        "max_length": 192})  # long solutions are scored in windows
    outcomes = assert_concurrency_exact(prm, [s.to_sample() for s in sols], batch=3)
    assert all(len(o.details["step_scores"]) == len(s.steps)
               for o, s in zip(outcomes, sols, strict=True))


@pytest.mark.slow
def test_implicit_dpo_concurrent_callers_get_sequential_scores(gemma_hf_path, fixtures_dir):
    # short responses, long prompts: the contexts lose their start
    samples = [Sample(prompt=s.prompt, response=s.response[:100])
               for s in hh_samples(fixtures_dir, 8)]
    reward = build_reward({"name": "implicit_dpo", "policy": str(gemma_hf_path),
                           "max_length": 64, "format": "plain"})
    outcomes = assert_concurrency_exact(reward, samples, batch=2)
    assert all(o.details["tokens"] > 0 for o in outcomes)


@pytest.mark.slow
def test_likelihood_concurrent_callers_get_sequential_scores(gemma_hf_path, fixtures_dir):
    samples = [Sample(prompt=s.prompt, response=s.response + "\nThe answer is 4.",
                      reference="4") for s in hh_samples(fixtures_dir, 8)]
    reward = build_reward({"name": "rlpr", "backend": {
        "type": "transformers", "model": str(gemma_hf_path), "max_length": 48}})
    assert_concurrency_exact(reward, samples, batch=2)


@pytest.mark.slow
def test_remote_rm_concurrent_callers_get_sequential_scores(minilm_rm, fixtures_dir, tmp_path):
    """``rewardlab_rm`` against a real local ``rewardlab serve`` hosting a truncating
    ``scalar_rm``: concurrent callers get the scores of sequential calls and of the local
    model."""
    pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"rewards": {"rm": {
        "name": "scalar_rm", "model": str(minilm_rm), "max_length": 64}}}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rewardlab", "serve", "--spec", str(spec), "--host", "127.0.0.1",
         "--port", str(port), "--engine-workers", "1"], env=env, stdout=log, stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        samples = hh_samples(fixtures_dir, 12)
        remote = build_reward({"name": "rewardlab_rm", "url": url, "reward": "rm"})
        local = build_reward({"name": "scalar_rm", "model": str(minilm_rm), "max_length": 64})
        # the server merges concurrent requests into one forward pass: a different batch, so
        # scores agree to float rounding (seen: 6e-8), truncation flags exactly
        outcomes = assert_concurrency_exact(remote, samples, batch=3, tol=1e-6)
        want = [o.score for o in local.score(samples)]
        assert [o.score for o in outcomes] == pytest.approx(want, abs=1e-5)
        remote.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
