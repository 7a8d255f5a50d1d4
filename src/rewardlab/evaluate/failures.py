"""What a report needs to show where a reward fails: the chance level, the worst items with their
texts, and the pairs each probe flipped.

Computed once at the end of a run from the items and their rows, and stored in the summary
(``chance``, ``examples``), so ``rewardlab report`` can show them from ``summary.json`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.evaluate.items import EvalItem

WORST_ITEMS = 5
"""Items shown under "where the reward fails"."""
FLIPPED_SHOWN = 3
"""Flipped items shown per probe variant."""
TEXT_CHARS = 400
"""Characters kept of each prompt/response shown (the report stays small)."""


def chance_of(row: Mapping[str, Any]) -> float:
    """The expected ``result`` of one item under a reward that scores at random.

    Pairwise and RM-Bench items are won half the time; an annotated (three-way: first, second,
    tie) item a third; a best-of-N item when the one correct response of N is picked (1/N); a
    graded item when the pick is one of the correct responses (their share).
    """
    kind, labels = row.get("kind"), row.get("labels") or []
    if kind in ("pairwise", "rmbench"):
        return 0.5
    if kind == "annotated":
        return 1 / 3
    if kind == "best_of_n":
        return 1 / len(labels) if labels else 0.0
    return sum(1 for y in labels if y) / len(labels) if labels else 0.0


def chance_level(rows: Sequence[Mapping[str, Any]]) -> float | None:
    """The accuracy a random scorer expects on these rows (mean per-item chance)."""
    return sum(chance_of(r) for r in rows) / len(rows) if rows else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, Sequence):  # chat messages: the last user turn says most
        turns = [m for m in value if isinstance(m, Mapping)]
        text = " / ".join(f"{m.get('role', '?')}: {m.get('content', '')}" for m in turns[-2:])
    else:
        text = str(value)
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + " […]"


def _example(item: EvalItem, row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item.id, "subset": item.subset, "kind": item.kind, "result": row.get("result"),
            "prompt": _text(item.prompt),
            "responses": [{"text": _text(r), "label": y, "score": s, "status": st}
                          for r, y, s, st in zip(item.responses, item.labels, row["scores"],
                                                 row["statuses"], strict=True)]}


def _badness(row: Mapping[str, Any]) -> tuple[float, float]:
    """Sort key: the lowest credit first, then the most confidently wrong (largest gap by which
    a non-preferred response outscored the best preferred one)."""
    scores, labels = row["scores"], row.get("labels") or []
    good = [s for s, y in zip(scores, labels, strict=False) if y and s is not None]
    bad = [s for s, y in zip(scores, labels, strict=False) if not y and s is not None]
    gap = (max(bad) - max(good)) if good and bad else 0.0
    return (float(row.get("result", 0.0)), -gap)


def failure_examples(items: Sequence[EvalItem], rows: Sequence[Mapping[str, Any]],
                     probes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The summary's ``chance`` and ``examples`` (worst items; flipped items per probe)."""
    by_id = {it.id: (it, row) for it, row in zip(items, rows, strict=True)}
    failed = sorted((r for r in rows if r.get("result", 1.0) < 1.0), key=_badness)
    worst = [_example(*by_id[r["id"]]) for r in failed[:WORST_ITEMS]]
    flipped: dict[str, list[dict[str, Any]]] = {}
    for name, probe in (probes or {}).items():
        variants = probe.get("variants") if isinstance(probe, Mapping) else None
        entries = variants.items() if isinstance(variants, Mapping) else [(None, probe)]
        for vname, v in entries:
            ids = [i for i in (v.get("flipped") or []) if i in by_id][:FLIPPED_SHOWN]
            if ids:
                label = name if vname is None else f"{name}: {vname}"
                flipped[label] = [_example(*by_id[i]) for i in ids]
    return {"chance": chance_level(rows), "examples": {"worst": worst, "flipped": flipped}}
