"""Logic of the server's parts, in process: batching, OpenRLHF mapping, settings, the client."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import rewardlab
from rewardlab.reward import Reward
from rewardlab.serve.batcher import MicroBatcher, Overloaded
from rewardlab.serve.client import RewardServiceError
from rewardlab.serve.prometheus import ServeMetrics
from rewardlab.serve.protocol import PromptMismatch, openrlhf_response, recover_response
from rewardlab.serve.settings import DEFAULT_STRIP_TOKENS, RewardLimits, ServeSettings, is_loopback
from rewardlab.types import Outcome, Sample, Status


class Recorder(Reward):
    """Scores len(response) and records the size of every batch it is given."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[int] = []
        self.delay = delay

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        self.batches.append(len(samples))
        await asyncio.sleep(self.delay)
        return [Outcome.ok(float(len(s.response))) for s in samples]


def limits(**kw) -> RewardLimits:
    base = {"max_batch_size": 64, "batch_window_ms": 5.0, "max_concurrent_batches": 2,
            "max_queue": 1000}
    base.update(kw)
    return RewardLimits(**base)


def test_concurrent_requests_are_coalesced_in_order():
    async def run() -> tuple[Recorder, list[list[Outcome]]]:
        reward = Recorder()
        batcher = MicroBatcher("r", reward, limits(), ServeMetrics())
        batcher.start()
        requests = [[Sample("x" * i)] for i in range(1, 41)]
        futures = [batcher.submit(r) for r in requests]
        results = [[await f for f in fs] for fs in futures]
        await batcher.stop()
        return reward, results

    reward, results = asyncio.run(run())
    assert [r[0].score for r in results] == [float(i) for i in range(1, 41)]
    assert sum(reward.batches) == 40
    assert len(reward.batches) <= 2  # 40 one-sample requests in at most two calls


def test_batches_respect_max_batch_size_and_concurrency():
    async def run() -> Recorder:
        reward = Recorder(delay=0.01)
        batcher = MicroBatcher("r", reward, limits(max_batch_size=8, max_concurrent_batches=1),
                               ServeMetrics())
        batcher.start()
        futures = batcher.submit([Sample("a")] * 50)
        await asyncio.gather(*futures)
        await batcher.stop()
        return reward

    reward = asyncio.run(run())
    assert max(reward.batches) == 8
    assert sum(reward.batches) == 50


def test_admission_is_all_or_nothing_and_cancelled_items_free_the_queue():
    async def run() -> None:
        metrics = ServeMetrics()
        batcher = MicroBatcher("r", Recorder(delay=0.05), limits(max_queue=5), metrics)
        batcher.start()
        first = batcher.submit([Sample("a")] * 4)
        with pytest.raises(Overloaded):
            batcher.submit([Sample("b")] * 2)  # would exceed 5: nothing is queued
        assert batcher.unfinished == 4
        extra = batcher.submit([Sample("c")])
        for f in extra:
            f.cancel()  # a request deadline cancels its late samples
        await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
        assert batcher.unfinished == 4
        assert [o.score for o in await asyncio.gather(*first)] == [1.0] * 4
        assert batcher.unfinished == 0
        await batcher.stop()

    asyncio.run(run())


def test_a_raising_reward_gives_error_outcomes_not_a_dead_batcher():
    class Broken(Reward):
        async def score_batch(self, samples):
            raise RuntimeError("boom")

    async def run() -> list[Outcome]:
        batcher = MicroBatcher("b", Broken(), limits(), ServeMetrics())
        batcher.start()
        out = await asyncio.gather(*batcher.submit([Sample("a"), Sample("b")]))
        out += await asyncio.gather(*batcher.submit([Sample("c")]))
        await batcher.stop()
        return out

    outcomes = asyncio.run(run())
    assert [o.status for o in outcomes] == [Status.ERROR] * 3
    assert "boom" in outcomes[0].reason


@pytest.mark.parametrize(("query", "prompt", "expected"), [
    ("P: hi A: 42<|im_end|>", "P: hi A:", " 42"),
    ("<bos>P: hi A: 42</s></s>", "P: hi A:", " 42"),
    ("just a response<|eot_id|>", None, "just a response"),
    ("P: 42", "", "P: 42"),
])
def test_recover_response(query, prompt, expected):
    assert recover_response(query, prompt, DEFAULT_STRIP_TOKENS) == expected


def test_recover_response_without_prompt_in_query_is_an_error():
    with pytest.raises(PromptMismatch):
        recover_response("something else", "P: hi")


def test_openrlhf_response_keeps_failures_visible():
    out = openrlhf_response([Outcome.ok(0.5), Outcome.fail("timeout", "slow")], -2.0)
    assert out["rewards"] == [0.5, -2.0]
    assert out["statuses"] == ["ok", "timeout"]
    assert out["extra_logs"]["status_timeout"] == [0.0, 1.0]


def test_settings_validation_names_fields():
    with pytest.raises(ValueError, match="at least 16"):
        ServeSettings(token="short")
    with pytest.raises(ValueError, match="max_batch_size"):
        ServeSettings(max_batch_size=0)
    settings = ServeSettings(max_batch_size=16, per_reward={"m": RewardLimits(max_queue=3)})
    assert settings.limits_for("m").max_queue == 3
    assert settings.limits_for("m").max_batch_size == 16
    assert settings.limits_for("other").max_queue == settings.max_queue
    assert "short" not in repr(ServeSettings(token="x" * 20))


def test_spec_serve_section_errors_name_the_field():
    with pytest.raises(ValueError, match="serve: field 'max_queue'"):
        rewardlab.serve.app_from_spec({"reward": "exact_match", "serve": {"max_queue": 0}})
    with pytest.raises(ValueError, match="not served"):
        rewardlab.serve.app_from_spec({"reward": "exact_match",
                                       "serve": {"per_reward": {"nope": {"max_queue": 1}}}})


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_client_is_exported_from_the_package_root():
    assert rewardlab.Client is rewardlab.serve.Client
    assert "Client" in rewardlab.__all__


def test_client_spreads_over_urls_and_skips_a_dead_one(server):
    from serve_helpers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    client = rewardlab.Client([dead, server.url], backoff=0.01, max_retries=3)
    samples = [Sample("Paris", reference="paris"), Sample("Rome", reference="paris")]
    for _ in range(3):  # every start position, including the dead URL first
        assert [o.score for o in client.score(samples)] == [1.0, 0.0]
    assert client.ready() is False  # the dead server is not ready
    client.close()


def test_client_async_and_openrlhf(server):
    async def run() -> tuple[list[Outcome], dict]:
        async with rewardlab.Client(server.url, chunk_size=2) as client:
            outcomes = await client.ascore([Sample(str(i), reference="3") for i in range(5)])
            reply = await client.aget_reward(["Q: 3"], ["Q: "], ["3"])
            return outcomes, reply

    outcomes, reply = asyncio.run(run())
    assert [o.score for o in outcomes] == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert reply["rewards"] == [1.0]


def test_client_raises_on_4xx_without_retrying_and_gives_up_on_dead_servers(server):
    from serve_helpers import free_port

    with rewardlab.Client(server.url, reward="missing") as client:
        with pytest.raises(RewardServiceError) as err:
            client.score([Sample("a")])
        assert err.value.status_code == 404 and err.value.field == "reward"
    with rewardlab.Client(f"http://127.0.0.1:{free_port()}", backoff=0.01,
                          max_retries=2) as client, pytest.raises(RewardServiceError,
                                                                  match="3 attempts"):
        client.score([Sample("a")])


def test_remote_reward_turns_service_failures_into_error_outcomes(server):
    from serve_helpers import free_port

    ok = rewardlab.Client(server.url).as_reward("exact")
    assert ok.score([Sample("a", reference="a")])[0].score == 1.0
    dead = rewardlab.Client(f"http://127.0.0.1:{free_port()}", max_retries=0).as_reward()
    outcome = dead.score([Sample("a")])[0]
    assert outcome.status is Status.ERROR and "no answer" in outcome.reason


def test_retry_after_header_is_honoured():
    from rewardlab.serve.client import _retry_after

    request = httpx.Request("POST", "http://x")
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "3"}, request=request)) == 3
    assert _retry_after(httpx.Response(429, request=request)) is None
    client = rewardlab.Client("http://x", backoff=0.01, max_backoff=5)
    delay = client._delay(0, httpx.Response(429, headers={"Retry-After": "2"}, request=request))
    assert delay == 2.0
    assert client._delay(0, httpx.Response(429, headers={"Retry-After": "60"},
                                           request=request)) == 5.0


def test_framework_routes_and_guard_fast_path_give_the_same_replies():
    from rewardlab.serve import create_app

    app = create_app({"exact": rewardlab.build_reward("exact_match")})
    bodies = {
        "/v1/score": [{"samples": [{"response": "a", "reference": "a"}, {"response": "b"}]},
                      {"samples": [{"reference": "x"}]}, {"samples": [], "reward": "nope"}],
        "/get_reward": [{"query": ["Q a"], "prompts": ["Q "], "labels": ["a"]},
                        {"prompts": ["a"]}],
    }

    async def run() -> None:
        await app.service.start()
        try:
            guarded = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://t")
            plain = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.fastapi_app),
                                      base_url="http://t")
            for path, cases in bodies.items():
                for body in cases:
                    a = await guarded.post(path, json=body)
                    b = await plain.post(path, json=body)
                    assert (a.status_code, a.json()) == (b.status_code, b.json()), body
        finally:
            await app.service.stop()

    asyncio.run(run())
