"""Preference pairs from a large scored file: rewardlab's streaming builder vs a naive loader.

Both sides read the same JSONL of scored rows (shuffled, so groups are not contiguous) and write
best-vs-worst pairs per prompt. Each runs in its own process; the script reports wall time and
peak resident memory of each, and their ratios.

* ``naive``: ``json.loads`` every line into a list, group in a dict, pick max/min, write.
* ``rewardlab``: ``rewardlab.data.build_file`` with ``PairOptions()`` (dedupe, typed drops,
  deterministic order), spilling to temp files past ``--spill-mb``.

    python benchmarks/bench_data_pairs.py --rows 1000000 --spill-mb 64
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAIVE = r"""
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
groups = {}
for r in rows:
    if r.get("status", "ok") == "ok" and r.get("score") is not None:
        groups.setdefault(r["prompt"], []).append(r)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for prompt, g in groups.items():
        best = max(g, key=lambda r: r["score"])
        worst = min(g, key=lambda r: r["score"])
        if best["score"] > worst["score"]:
            out.write(json.dumps({"prompt": prompt, "chosen": best["response"],
                                  "rejected": worst["response"],
                                  "margin": best["score"] - worst["score"]}) + "\n")
"""

OURS = r"""
import sys
from rewardlab.data import PairOptions, build_file
report = build_file(sys.argv[1], sys.argv[2], PairOptions(),
                    spill_bytes=int(float(sys.argv[3]) * (1 << 20)))
print(report.render(), file=sys.stderr)
"""


def make_input(path: Path, rows: int, per_prompt: int, seed: int) -> None:
    rng = random.Random(seed)
    order = list(range(rows))
    rng.shuffle(order)
    statuses = ["ok"] * 18 + ["error", "timeout"]
    with path.open("w", encoding="utf-8") as fh:
        for i in order:
            prompt = i // per_prompt
            status = rng.choice(statuses)
            fh.write(json.dumps({
                "id": i, "prompt": f"Problem {prompt}: compute {prompt} * 7 and explain.",
                "response": f"Step 1 ... step 2 ... so the answer is {rng.randint(0, 9)}. " * 3,
                "status": status,
                "score": None if status != "ok" else float(rng.random() < 0.4),
            }) + "\n")


def run(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a fresh child process running ``code``."""
    code += ("\nimport resource, sys\nprint('PEAK_RSS_MB=%.1f' % (resource.getrusage("
             "resource.RUSAGE_SELF).ru_maxrss / 1024), file=sys.stderr)\n")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return seconds, float(proc.stderr.rsplit("PEAK_RSS_MB=", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--per-prompt", type=int, default=8)
    parser.add_argument("--spill-mb", type=float, default=64.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "scored.jsonl"
        make_input(source, args.rows, args.per_prompt, args.seed)
        size_mb = source.stat().st_size / (1 << 20)
        print(f"input: {args.rows} rows, {size_mb:.0f} MiB, {args.per_prompt} per prompt, "
              "shuffled", flush=True)
        results: dict[str, list[tuple[float, float]]] = {"naive": [], "rewardlab": []}
        for _ in range(args.repeats):  # interleaved rounds
            results["naive"].append(run(NAIVE, str(source), str(Path(tmp) / "n.jsonl")))
            results["rewardlab"].append(run(OURS, str(source),
                                            str(Path(tmp) / "r.jsonl"), str(args.spill_mb)))
        med = {k: sorted(v)[len(v) // 2] for k, v in results.items()}
        base_t, base_m = med["naive"]
        print("\n| builder | seconds | peak RSS MiB | time vs naive | memory vs naive |")
        print("|---|---:|---:|---:|---:|")
        for name, (t, m) in med.items():
            print(f"| {name} | {t:.1f} | {m:.0f} | {t / base_t:.2f}x | {m / base_m:.2f}x |")


if __name__ == "__main__":
    main()
