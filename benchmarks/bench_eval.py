"""Evaluation throughput: rewardlab's streaming runner vs. a naive per-response loop.

Both score the same benchmark with the same reward: the runner batches responses (``--batch-size``
per reward call, several calls in flight, rows written and flushed as they finish); the naive
loop does what a simple harness does, one ``score_one`` call per response, item by item.
Runs are interleaved and repeated; the median is reported with the ratio.

    python benchmarks/bench_eval.py --data ../shared/fixtures/qwen_math_bon/math_cot.jsonl \
        --format qwen_math --reward '{"name": "math", "cache": false}' --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rewardlab import build_reward, load_spec
from rewardlab.evaluate import load_items
from rewardlab.evaluate.streaming import run_items


def naive(reward, items) -> float:
    started = time.perf_counter()
    for item in items:
        for sample in item.samples():
            reward.score_one(sample)
    return time.perf_counter() - started


def runner(reward, items, batch_size: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run_items(reward, items, Path(tmp) / "rows.jsonl", batch_size=batch_size, progress=False)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--format", default="auto")
    parser.add_argument("--reward", default='{"name": "math", "cache": false}')
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()

    items = list(load_items(args.data, args.format, limit=args.limit))
    reward = build_reward(load_spec(args.reward))
    responses = sum(len(it.responses) for it in items)
    runner(reward, items[:4], args.batch_size)  # warm-up: worker start, imports
    naive(reward, items[:4])
    times: dict[str, list[float]] = {"runner": [], "naive": []}
    for _ in range(args.repeats):
        times["runner"].append(runner(reward, items, args.batch_size))
        times["naive"].append(naive(reward, items))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "items": len(items), "responses": responses, "reward": args.reward,
        "runner_responses_per_s": responses / med["runner"],
        "naive_responses_per_s": responses / med["naive"],
        "speedup": med["naive"] / med["runner"], "seconds": med, "repeats": args.repeats,
    }
    print(json.dumps(result, indent=2))
    reward.close()


if __name__ == "__main__":
    main()
