"""Plain math-verify over a JSONL file (the baseline of ``bench_math_process.py``).

``python _plain_math_verify.py IN.jsonl OUT.jsonl``: for each line ``{response, reference}``,
``verify(parse(reference), parse(response))`` with math-verify's defaults (a bare reference is
wrapped in ``$...$`` so that it is read whole), one JSON line ``{"score": 1.0 | 0.0 | null}``
out. Only math-verify is imported: this is what a user without rewardlab runs.
"""

from __future__ import annotations

import json
import logging
import sys


def grade(parse, verify, reference: str, response: str) -> bool:
    """math-verify's verdict for one pair (False when either side does not parse)."""
    gold_text = str(reference)
    if not any(mark in gold_text for mark in ("$", "\\(", "\\[", "\\boxed")):
        gold_text = f"${gold_text}$"
    try:
        gold = parse(gold_text)
        pred = parse(response)
        return bool(gold and pred and verify(gold, pred))
    except Exception:  # math-verify's own contract: an error is "not equal"
        return False


def main(src: str, dst: str) -> None:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            row = json.loads(line)
            same = grade(parse, verify, row["reference"], row["response"])
            fout.write(json.dumps({"score": 1.0 if same else 0.0}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
