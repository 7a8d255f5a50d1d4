"""Judge-call throughput: rewardlab's async judge client at growing concurrency vs. a naive
sequential loop with the plain ``openai`` client, against local servers.

Two servers, in one run:

* ``llama.cpp`` (``python -m llama_cpp.server`` with Gemma-3-270M): a real model, but it serves
  one request at a time, so concurrency can only hide the client's own overhead;
* ``parallel``: a local HTTP server that answers every chat request after a fixed latency and
  serves requests in parallel, like vLLM or a hosted API. It shows how far the client scales
  when the server does.

Each judge call is a ``judge_rubric`` verdict (prompt built, reply parsed); caching is off so
every call reaches the server.

    python benchmarks/bench_judge_client.py --calls 16 --latency 0.2 --concurrency 1 2 4 8 16
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rewardlab import Sample
from rewardlab.backends.openai_backend import OpenAIBackend
from rewardlab.judges.base import JudgeOptions
from rewardlab.judges.grammar import ScoreGrammar, strip_thinking
from rewardlab.judges.pointwise import RUBRIC_TEMPLATE, RubricJudge
from rewardlab.local.llama_server import LlamaServer, gemma_gguf_path

REPLY = "The response is correct and complete.\n[RESULT] 5"


def parallel_server(latency: float) -> ThreadingHTTPServer:
    """A local chat-completions server that answers after ``latency`` seconds, in parallel."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(latency)
            body = json.dumps({
                "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": REPLY}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
            }).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def samples(n: int) -> list[Sample]:
    return [Sample(prompt=f"What is {i} + {i}?", response=f"{i} + {i} = {2 * i}.")
            for i in range(n)]


def naive_sequential(base_url: str, model: str, batch: list[Sample], max_tokens: int) -> float:
    """What a simple harness does: one blocking ``openai`` call per sample, then parse."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-no-key")
    judge = RubricJudge({"type": "openai", "model": model, "base_url": base_url})
    grammar = ScoreGrammar(1, 5)
    started = time.perf_counter()
    for s in batch:
        # exactly the prompt judge_rubric sends, so both sides cost the server the same
        user = RUBRIC_TEMPLATE.format(instruction=s.prompt, response=s.response,
                                      reference_block="", rubric=judge.rubric)
        user = f"{user}\n\n{grammar.instruction}"
        reply = client.chat.completions.create(
            model=model, messages=judge.messages(user), max_tokens=max_tokens, temperature=0)
        with contextlib.suppress(ValueError):  # an unparseable verdict still cost a call
            grammar.parse(strip_thinking(reply.choices[0].message.content or ""))
    client.close()
    return time.perf_counter() - started


def rewardlab_judge(base_url: str, model: str, batch: list[Sample], max_tokens: int,
                    concurrency: int) -> tuple[float, dict]:
    backend = OpenAIBackend(model, base_url, max_concurrency=concurrency, cache=False)
    judge = RubricJudge(
        backend, options=JudgeOptions(max_tokens=max_tokens, max_parse_retries=0))
    started = time.perf_counter()
    outcomes = judge.score(batch)
    elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[o.status.value] = statuses.get(o.status.value, 0) + 1
    return elapsed, statuses


def run(name: str, base_url: str, model: str, n: int, max_tokens: int, levels: list[int],
        repeats: int) -> None:
    """Naive loop and every concurrency level, interleaved ``repeats`` times; medians."""
    batch = samples(n)
    naive_sequential(base_url, model, batch, max_tokens)  # warm-up: connection, page cache
    naive_times: list[float] = []
    times: dict[int, list[float]] = {level: [] for level in levels}
    statuses: dict[int, dict] = {}
    runners: list[int | None] = [None, *levels]  # None: the naive loop
    for r in range(repeats):
        # rotate the order each round so slow drifts of the shared machine hit all alike
        for level in runners[r % len(runners):] + runners[: r % len(runners)]:
            if level is None:
                naive_times.append(naive_sequential(base_url, model, batch, max_tokens))
            else:
                elapsed, statuses[level] = rewardlab_judge(base_url, model, batch, max_tokens,
                                                           level)
                times[level].append(elapsed)
    base = statistics.median(naive_times)
    print(f"\n### {name}: {n} judge calls, max_tokens={max_tokens}, median of {repeats}\n")
    print("| client | concurrency | calls/s | speed-up vs naive sequential | statuses |")
    print("|---|---:|---:|---:|---|")
    print(f"| naive `openai` loop | 1 | {n / base:.2f} | 1.00x | |")
    for level in levels:
        elapsed = statistics.median(times[level])
        print(f"| rewardlab `judge_rubric` | {level} | {n / elapsed:.2f} | "
              f"{base / elapsed:.2f}x | {statuses[level]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--llama-calls", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2, help="parallel server latency (s)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--skip-llama", action="store_true")
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # SIGTERM -> SystemExit, so the llama.cpp server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if not args.skip_parallel:
        server = parallel_server(args.latency)
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        run(f"parallel server ({args.latency * 1000:.0f} ms per call)", url, "m", args.calls,
            args.max_tokens, args.concurrency, args.repeats)
        server.shutdown()
    if not args.skip_llama:
        # Judging needs no prompt log-probabilities: without --logits_all the server skips the
        # vocabulary projection for every prompt token (the tests' server keeps it on).
        with LlamaServer(gemma_gguf_path(), logits_all=False) as llama:
            run("llama.cpp server (Gemma-3-270M, one request at a time)", llama.base_url,
                llama.model, args.llama_calls, args.max_tokens,
                [c for c in args.concurrency if c <= 4], args.repeats)


if __name__ == "__main__":
    main()
