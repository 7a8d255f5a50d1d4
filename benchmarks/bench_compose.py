"""Composition speed: group advantages and the verl adapter, each against its baseline.

1. Group advantages over a batch of ``--groups`` x ``--group-size`` rewards:
   ``rewardlab.compose.advantage_math.group_advantages`` (pure Python, failure-aware) against
   verl's own algorithm (a Python loop over groups building torch tensors, as in
   ``compute_grpo_outcome_advantage``) and TRL's vectorized torch code (``view(-1, G)``).
2. A composite math reward (``examples/gdpo_math.yaml``: gated math + format + length) on GSM8K
   model solutions: the verl ``batch`` form (one call, children scored concurrently on the
   whole batch) against verl's ``naive`` manager calling the keyword form once per sample.

Runs are interleaved and repeated; medians and ratios are printed.

    python benchmarks/bench_compose.py --fixtures ../shared/fixtures --repeats 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

import torch

from rewardlab.compose.advantage_math import group_advantages
from rewardlab.integrations import verl

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "gdpo_math.yaml")


def verl_grpo(scores: torch.Tensor, index: list[int], eps: float = 1e-6) -> torch.Tensor:
    """verl's compute_grpo_outcome_advantage loop, written out from its documented algorithm."""
    scores = scores.clone()
    id2score = defaultdict(list)
    for i in range(scores.shape[0]):
        id2score[index[i]].append(scores[i])
    id2mean, id2std = {}, {}
    for idx, values in id2score.items():
        if len(values) == 1:
            id2mean[idx], id2std[idx] = torch.tensor(0.0), torch.tensor(1.0)
        else:
            stacked = torch.stack(values)
            id2mean[idx], id2std[idx] = torch.mean(stacked), torch.std(stacked)
    for i in range(scores.shape[0]):
        scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + eps)
    return scores


def trl_grpo(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    grouped = rewards.view(-1, group_size)
    mean = grouped.mean(dim=1).repeat_interleave(group_size)
    std = grouped.std(dim=1).repeat_interleave(group_size)
    return (rewards - mean) / (std + 1e-4)


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def bench_advantages(groups: int, group_size: int, repeats: int) -> None:
    rng = random.Random(0)
    scores = [float(rng.random() < 0.4) + rng.random() * 0.1 for _ in range(groups * group_size)]
    index = [i // group_size for i in range(len(scores))]
    tensor = torch.tensor(scores)
    runs = defaultdict(list)
    for _ in range(repeats):
        runs["rewardlab group_advantages (verl convention)"].append(
            timed(group_advantages, scores, index, "grpo", "verl"))
        runs["verl compute_grpo_outcome_advantage loop"].append(timed(verl_grpo, tensor, index))
        runs["TRL vectorized torch (no failure handling)"].append(
            timed(trl_grpo, tensor, group_size))
    base = statistics.median(runs["verl compute_grpo_outcome_advantage loop"])
    print(f"\ngroup advantages, {groups} groups x {group_size} = {len(scores)} samples, "
          f"median of {repeats}")
    print("| implementation | ms per batch | time vs verl loop |\n|---|---:|---:|")
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.2f} | {median / base:.3f}x |")


def bench_verl(fixtures: Path, limit: int, repeats: int) -> None:
    models = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
    rows = []
    with open(fixtures / "gsm8k" / "model_solutions.jsonl") as f:
        for q, line in enumerate(f):
            if q >= limit:
                break
            record = json.loads(line)
            for k, model in enumerate(models):
                solution = record[model]["solution"]
                if k % 2 == 0:
                    body, _, final = solution.rpartition("\n")
                    solution = f"<think>{body}</think>\n{final}"
                rows.append(("openai/gsm8k", solution, record["ground_truth"], {"index": q}))
    verl.compute_score(*rows[0], spec=EXAMPLE)  # build the reward and start engine workers

    def naive() -> None:
        for row in rows:
            verl.compute_score(*row, spec=EXAMPLE)

    def batch() -> None:
        columns = list(zip(*rows, strict=True))
        verl.compute_score_batch(*columns, spec=EXAMPLE)

    runs = defaultdict(list)
    for _ in range(repeats):
        runs["naive manager: compute_score per sample"].append(timed(naive))
        runs["batch manager: compute_score_batch"].append(timed(batch))
    base = statistics.median(runs["naive manager: compute_score per sample"])
    print(f"\nverl adapter, examples/gdpo_math.yaml on {len(rows)} GSM8K solutions "
          f"(math in engine workers, cache on after the first repeat), median of {repeats}")
    print("| form | samples/s | time vs naive |\n|---|---:|---:|")
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"| {name} | {len(rows) / median:.0f} | {median / base:.3f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    parser.add_argument("--groups", type=int, default=512)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench_advantages(args.groups, args.group_size, args.repeats)
    bench_verl(args.fixtures, args.questions, args.repeats)


if __name__ == "__main__":
    main()
