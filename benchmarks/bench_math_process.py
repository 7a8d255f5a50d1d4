"""Whole process, as a user runs it: ``rewardlab score --spec math`` vs a plain math-verify
script, on a mixed set of at least 5,000 labelled samples, in one run.

Data (built from the repository's and the shared fixtures' labelled pairs, written to a
temporary JSONL with fields ``response``, ``reference``, ``label``):

* ``gsm8k/model_solutions.jsonl`` (400 solutions) and ``qwen_math_bon/math_cot.jsonl`` (160
  responses), each repeated ``--copies`` times with a distinct first line ("Attempt k.") so
  every sample is unique (no cache hit can help either side);
* with ``--mix all`` (the default), also the peer suites' cases (``tests/data/peer_cases``:
  Math-Verify, lighteval, inspect_ai) and the adversarial corpus without its resource attacks
  (``tests/data/math_adversarial``), labels as written there.

Each round runs, one after the other (rounds interleave the two, so load changes on the shared
machine hit both alike):

* ``rewardlab``: ``python -m rewardlab score DATA --spec math -o OUT --no-progress`` (interpreter
  start-up, imports, engine workers, scoring, writing);
* ``math-verify``: ``python _plain_math_verify.py DATA OUT``: the same data through
  ``verify(parse(reference), parse(response))`` in one process (its README's usage).

It then reports the median wall time and the ratio, agreement with the labels, and steady state
in this process: samples/s and per-sample p50/p99 for ``math`` inline (warm) and for plain
math-verify.

    python benchmarks/bench_math_process.py [--rounds 3] [--copies 8] [--mix all|fixtures]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
FIXTURES = Path(os.environ.get("REWARDLAB_FIXTURES", ROOT.parent / "shared" / "fixtures"))
GSM8K_KEYS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
PLAIN = ROOT / "benchmarks" / "_plain_math_verify.py"


def build(copies: int, mix: str = "all") -> list[dict]:
    """The mixed labelled set (see the module docstring); ``mix="fixtures"`` keeps only the
    repeated GSM8K and Qwen model solutions (what RL rollouts look like)."""
    base: list[dict] = []
    with (FIXTURES / "gsm8k" / "model_solutions.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            for key in GSM8K_KEYS:
                base.append({"response": row[key]["solution"], "reference": row["ground_truth"],
                             "label": bool(row[key]["is_correct"]), "set": "gsm8k"})
    with (FIXTURES / "qwen_math_bon" / "math_cot.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            for response, label in zip(row["code"], row["score"], strict=True):
                base.append({"response": response, "reference": row["gt"],
                             "label": bool(label), "set": "qwen_math_bon"})
    rows = [{**r, "response": f"Attempt {k}.\n{r['response']}"}
            for k in range(copies) for r in base]
    if mix == "fixtures":
        return rows
    for suite in ("math_verify", "lighteval", "inspect_ai"):
        for line in (ROOT / "tests" / "data" / "peer_cases" / f"{suite}.jsonl").open():
            case = json.loads(line)
            if case["options"].get("pred_prefix_repeat") or case["options"].get("match_types") \
                    in (["string"], ["NativeLetters"]):
                continue
            rows.append({"response": case["pred"], "reference": case["gold"],
                         "label": bool(case["expected"]), "set": f"peer:{suite}"})
    for line in (ROOT / "tests" / "data" / "math_adversarial" / "corpus.jsonl").open():
        row = json.loads(line)
        if row["class"] != "resource":
            rows.append({"response": row["response"], "reference": row["reference"],
                         "label": bool(row["expected"]), "set": "adversarial"})
    return rows


def agreement(rows: list[dict], out: Path) -> dict[str, float]:
    scored = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert len(scored) == len(rows), (len(scored), len(rows))
    by_set: dict[str, list[bool]] = {}
    for row, result in zip(rows, scored, strict=True):
        by_set.setdefault(row["set"], []).append((result.get("score") == 1.0) == row["label"])
    by_set["all"] = [v for vs in by_set.values() for v in vs]
    return {k: sum(v) / len(v) for k, v in by_set.items()}


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def steady_state(rows: list[dict], limit: int) -> dict[str, dict[str, float]]:
    """Warm, in this process, one sample after another: samples/s, p50 and p99 latency."""
    from math_verify import parse, verify

    from rewardlab import Sample
    from rewardlab.verifiers.math_verifier import MathVerifier

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _plain_math_verify import grade

    reward = MathVerifier(isolation="inline", cache=False)
    graders = {
        "rewardlab math (inline)": lambda r: reward.compute_safe(
            Sample(response=r["response"], reference=r["reference"])).score == 1.0,
        "math-verify parse+verify": lambda r: grade(parse, verify, r["reference"],
                                                    r["response"]),
    }
    subset = rows[:limit]
    for g in graders.values():  # imports and caches warm
        for r in subset[:20]:
            g(r)
    results = {}
    for name, g in graders.items():
        latencies = []
        started = time.perf_counter()
        for r in subset:
            t0 = time.perf_counter()
            g(r)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        results[name] = {"per_s": len(subset) / elapsed,
                         "p50_ms": 1000 * percentile(latencies, 0.5),
                         "p99_ms": 1000 * percentile(latencies, 0.99)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--mix", choices=("all", "fixtures"), default="all",
                        help="all: fixtures + peer suites + adversarial corpus; fixtures: "
                             "the repeated model solutions only")
    parser.add_argument("--steady", type=int, default=2000,
                        help="samples in the steady-state measurement")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    logging.getLogger("math_verify").setLevel(logging.ERROR)

    rows = build(args.copies, args.mix)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "mixed.jsonl"
        data.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference")})
                                + "\n" for r in rows))
        ours_out, plain_out = Path(tmp) / "ours.jsonl", Path(tmp) / "plain.jsonl"
        commands = {
            "rewardlab score --spec math": [sys.executable, "-m", "rewardlab", "score",
                                            str(data), "--spec", "math", "-o", str(ours_out),
                                            "--no-progress"],
            "math-verify parse+verify script": [sys.executable, str(PLAIN), str(data),
                                                str(plain_out)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, env))
        agree = {"rewardlab score --spec math": agreement(rows, ours_out),
                 "math-verify parse+verify script": agreement(rows, plain_out)}
    steady = steady_state(rows, args.steady)

    ours, plain = times["rewardlab score --spec math"], times["math-verify parse+verify script"]
    ratios = [p / o for o, p in zip(ours, plain, strict=True)]
    print(f"\n{len(rows)} labelled samples ({args.mix}), {args.rounds} interleaved rounds\n")
    print("| whole process | median s | samples/s | agreement (all) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = statistics.median(plain) / med
        print(f"| `{name}` | {med:.1f} | {len(rows) / med:.0f} | "
              f"{100 * agree[name]['all']:.2f}% | {ratio:.1f}x |")
    print(f"\nper-round ratios (math-verify time / rewardlab time): "
          f"{', '.join(f'{r:.2f}' for r in ratios)}")
    print("\nagreement by set:")
    for name, by_set in agree.items():
        print(f"  {name}: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(by_set.items())))
    print(f"\n| steady state, warm, 1 process ({min(args.steady, len(rows))} samples) | "
          "samples/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for name, r in steady.items():
        print(f"| {name} | {r['per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"samples": len(rows), "times": times,
                                         "ratios": ratios, "agreement": agree,
                                         "steady": steady}, indent=2) + "\n")


if __name__ == "__main__":
    main()
