#!/usr/bin/env bash
# Install rewardlab into .venv and run the main job: score example math rollouts with a
# composite reward (answer correctness + reasoning format) and print the summary.
# Extra arguments go to `rewardlab score`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[math]'
mkdir -p out
.venv/bin/rewardlab score examples/math_rollouts.jsonl --spec examples/math_rollouts.yaml \
  -o out/math_rollouts.scored.jsonl --overwrite "$@"
# One line per rollout: what each sample got, and why.
.venv/bin/python - out/math_rollouts.scored.jsonl <<'PY'
import json, sys

print(f"\n{'id':<24} {'status':<14} {'score':>6}  reason")
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        row = json.loads(line)
        score = "" if row["score"] is None else f"{row['score']:.2f}"
        parts = row["details"].get("components") or {}
        why = row["reason"] or "  ".join(f"{k}={v}" for k, v in parts.items())
        print(f"{row.get('id', ''):<24} {row['status']:<14} {score:>6}  {why[:70]}")
PY
