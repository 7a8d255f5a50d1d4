"""HH-RLHF transcripts from the fixtures as prompt/response samples, for model-reward tests."""

from __future__ import annotations

import json

from rewardlab import Sample


def hh_samples(fixtures_dir, n: int) -> list[Sample]:
    """Prompt/response samples from HH-RLHF transcripts (the last assistant turn is the
    response; long prompts, so truncation applies)."""
    out = []
    with open(fixtures_dir / "hh_rlhf" / "harmless-base-test.jsonl", encoding="utf-8") as f:
        for line in f:
            for side in ("chosen", "rejected"):
                text = json.loads(line)[side]
                cut = text.rfind("\n\nAssistant:")
                out.append(Sample(prompt=text[:cut].strip(), response=text[cut + 12 :].strip()))
            if len(out) >= n:
                break
    return out[:n]
