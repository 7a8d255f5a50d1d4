"""OpenAIBackend against a scripted HTTP server (retries, Retry-After, errors) and against a
real llama.cpp server (chat, logprobs, structured-output fallbacks, cache, prompt scoring,
surviving a server restart)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rewardlab.backends.llm import LLMError, StructuredOutputError, build_backend, parse_json_object
from rewardlab.backends.openai_backend import OpenAIBackend, ResponseCache, retry_after_seconds
from rewardlab.local.llama_server import LlamaServer, gemma_gguf_path

USER = [{"role": "user", "content": "Say hello."}]


def chat_body(text: str, prompt_tokens: int = 5, completion_tokens: int = 3) -> dict:
    return {
        "id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 replaying (status, headers, body) replies in order."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[tuple[float, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                outer.requests.append((time.monotonic(), json.loads(self.rfile.read(length))))
                status, headers, body = outer.replies.pop(0) if outer.replies else (
                    200, {}, chat_body("default"))
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"content-type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


ERROR = {"error": {"message": "slow down", "type": "rate_limit"}}


def test_retries_honour_retry_after_and_count_usage_and_cost():
    replies = [(429, {"retry-after-ms": "400"}, ERROR), (503, {"retry-after": "0"}, ERROR),
               (200, {}, chat_body("hello", 1000, 2000))]
    with ScriptedServer(replies) as server:
        backend = OpenAIBackend("scripted", server.base_url, backoff_base=0.01,
                                price_per_million={"input": 1.0, "output": 2.0})
        result = asyncio.run(backend.chat(USER, max_tokens=5))
    assert result.text == "hello"
    assert len(server.requests) == 3
    # the client waited at least what the server asked for before retrying
    assert server.requests[1][0] - server.requests[0][0] >= 0.4
    stats = backend.stats.to_dict()
    assert stats["retries"] == 2 and stats["requests"] == 1 and stats["failures"] == 0
    assert stats["prompt_tokens"] == 1000 and stats["completion_tokens"] == 2000
    assert stats["cost_usd"] == pytest.approx(0.005)


def test_non_retryable_status_fails_at_once_with_a_clear_error():
    with ScriptedServer([(401, {}, {"error": {"message": "bad key"}})]) as server:
        backend = OpenAIBackend("scripted", server.base_url, backoff_base=0.01)
        with pytest.raises(LLMError, match="HTTP 401"):
            asyncio.run(backend.chat(USER))
    assert len(server.requests) == 1
    assert backend.stats.failures == 1


def test_retries_are_bounded():
    replies = [(500, {}, ERROR)] * 5
    with ScriptedServer(replies) as server:
        backend = OpenAIBackend("scripted", server.base_url, max_retries=2, backoff_base=0.01)
        with pytest.raises(LLMError, match="3 attempt"):
            asyncio.run(backend.chat(USER))
    assert len(server.requests) == 3


def test_structured_falls_back_and_remembers_unsupported_modes():
    good = chat_body('Sure: {"score": 4, "feedback": "fine"}')
    replies = [(500, {}, ERROR), (200, {}, good), (200, {}, good)]
    schema = {"type": "object", "properties": {"score": {"type": "integer"},
                                               "feedback": {"type": "string"}},
              "required": ["score", "feedback"]}
    with ScriptedServer(replies) as server:
        backend = OpenAIBackend("scripted", server.base_url, cache=False, backoff_base=0.01)
        first = asyncio.run(backend.structured(USER, schema))
        second = asyncio.run(backend.structured([{"role": "user", "content": "again"}], schema))
    assert first.data == {"score": 4, "feedback": "fine"}
    assert first.mode == second.mode == "json_object"
    formats = [body.get("response_format", {}).get("type") for _, body in server.requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert backend.unsupported_modes == {"json_schema"}
    assert backend.stats.to_dict()["structured_modes"] == {"json_object": 2}


def test_structured_raises_typed_error_when_no_mode_yields_valid_json():
    replies = [(200, {}, chat_body('{"score": "high"}'))] * 3
    schema = {"type": "object", "properties": {"score": {"type": "integer"}},
              "required": ["score"]}
    with ScriptedServer(replies) as server:
        backend = OpenAIBackend("scripted", server.base_url, cache=False)
        with pytest.raises(StructuredOutputError, match="schema"):
            asyncio.run(backend.structured(USER, schema))
    assert len(server.requests) == 3  # json_schema, json_object, text


def test_concurrency_limit_caps_requests_in_flight():
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            nonlocal in_flight, peak
            self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1
            data = json.dumps(chat_body("ok")).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        backend = OpenAIBackend("m", f"http://127.0.0.1:{httpd.server_address[1]}/v1",
                                max_concurrency=3, cache=False)

        async def run():
            return await asyncio.gather(*(backend.chat(USER, sample_index=i) for i in range(12)))

        results = asyncio.run(run())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(results) == 12
    assert peak == 3


def test_retry_after_parsing():
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_cache_persists_to_sqlite(tmp_path):
    path = tmp_path / "cache.sqlite"
    key = ResponseCache.key("chat", {"model": "m", "messages": USER})
    assert key != ResponseCache.key("chat", {"model": "m", "messages": USER}, salt=1)
    cache = ResponseCache(path=path)
    cache.put(key, {"answer": 1})
    cache.close()
    assert ResponseCache(path=path).get(key) == {"answer": 1}


def test_parse_json_object_finds_embedded_and_fenced_objects():
    schema = {"type": "object", "required": ["a"]}
    assert parse_json_object('noise {"b": 1} then ```json\n{"a": 2}\n```', schema) == {"a": 2}
    assert parse_json_object('x {"a": {"nested": true}} y', schema) == {"a": {"nested": True}}
    with pytest.raises(StructuredOutputError):
        parse_json_object("no json here", schema)


def test_build_backend_validates_specs():
    backend = build_backend({"type": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"})
    assert isinstance(backend, OpenAIBackend)
    with pytest.raises(ValueError, match="unknown backend type"):
        build_backend({"type": "nope"})
    with pytest.raises(ValueError, match="max_concurrency"):
        build_backend({"type": "openai", "model": "m", "max_concurrency": 0})


# --- against a real llama.cpp server ---------------------------------------------------------


def test_chat_with_logprobs_and_cache(llama_server):
    backend = OpenAIBackend(llama_server.model, llama_server.base_url)

    async def run():
        first = await backend.chat(USER, max_tokens=3, temperature=0, logprobs=True,
                                   top_logprobs=2)
        second = await backend.chat(USER, max_tokens=3, temperature=0, logprobs=True,
                                    top_logprobs=2)
        return first, second

    first, second = asyncio.run(run())
    assert first.text and not first.cached
    assert second.cached and second.text == first.text
    assert first.completion_tokens >= 1 and first.prompt_tokens >= 1
    assert first.logprobs and all(t.logprob <= 0 for t in first.logprobs)
    assert all(1 <= len(t.top) <= 2 for t in first.logprobs)
    assert "".join(t.token for t in first.logprobs) == first.text
    stats = backend.stats.to_dict()
    assert stats["requests"] == 1 and stats["cache_hits"] == 1


def test_structured_output_falls_back_on_llama_cpp(llama_server):
    backend = OpenAIBackend(llama_server.model, llama_server.base_url, cache=False)
    schema = {"type": "object", "properties": {"better": {"enum": ["A", "B"]}},
              "required": ["better"]}
    result = asyncio.run(backend.structured(
        [{"role": "user", "content": "Which is better, A or B?"}], schema, max_tokens=20,
        temperature=0))
    assert "json_schema" in backend.unsupported_modes  # llama.cpp answers HTTP 500
    assert result.mode == "json_object"
    assert result.data["better"] in ("A", "B")


def test_prompt_scoring_with_echo(llama_server):
    backend = OpenAIBackend(llama_server.model, llama_server.base_url)

    async def run():
        paris = await backend.continuation_logprobs("The capital of France is", " Paris.")
        banana = await backend.continuation_logprobs("The capital of France is", " a banana.")
        return paris, banana

    paris, banana = asyncio.run(run())
    assert "".join(t.token for t in paris.tokens) == " Paris."
    assert all(t.logprob is not None and t.logprob <= 0 for t in paris.tokens)
    assert paris.mean_logprob > banana.mean_logprob
    assert 0 < paris.mean_prob <= 1


def test_survives_server_stop_and_restart_mid_run():
    server = LlamaServer(gemma_gguf_path())
    with server:
        backend = OpenAIBackend(server.model, server.base_url, backoff_base=0.2, max_retries=8)

        async def run():
            results = []
            for i in range(3):
                if i == 1:
                    await asyncio.to_thread(server.stop)
                    threading.Timer(1.0, server.start).start()
                results.append(await backend.chat(
                    [{"role": "user", "content": f"Count to {i + 2}."}], max_tokens=2,
                    temperature=0))
            return results

        results = asyncio.run(run())
    assert len(results) == 3 and all(r.text for r in results)
    assert backend.stats.retries >= 1
    assert backend.stats.failures == 0
