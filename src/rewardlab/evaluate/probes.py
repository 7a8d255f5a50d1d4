"""Robustness probes: perturb what a reward sees and measure score drift and flipped decisions.

Every probe rescored a slice of the evaluated items and reports, against the run's own scores:
``drift`` (how far scores moved: mean, mean absolute, max absolute), ``flips`` (items whose
preferred response changed) and the benchmark accuracy before/after.

* ``length``: the length-only baseline per subset (no rescoring; from the run's rows).
* ``position``: responses presented in reverse order. A pairwise judge that prefers a position
  flips here; a scalar reward must not.
* ``master_keys``: content-free responses ("Thought process:", "Let's solve this problem step by
  step.", punctuation, in several languages) scored in place of real ones; a sound reward scores
  them below the correct/preferred response.
* ``rewrites``: meaning-preserving edits (whitespace, casing, punctuation spacing, markdown
  stripped, answer restated).
* ``batch``: the same responses scored one per call vs. all in one call.
* ``truncation``: responses cut to a word budget, as a length-limited reward model would see them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm import tqdm

from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.pairwise import Comparator, is_comparator
from rewardlab.evaluate.results import decision, item_result
from rewardlab.evaluate.streaming import score_items
from rewardlab.evaluate.summary import length_baseline_summary
from rewardlab.judges.master_keys import PROBE_MASTER_KEYS
from rewardlab.reward import Reward, run_sync
from rewardlab.types import Outcome

MASTER_KEYS = PROBE_MASTER_KEYS  # one list, shared with the judges' screen


def _whitespace(text: str) -> str:
    return re.sub(r"([.!?]) (?=\S)", r"\1  ", text).rstrip() + "\n\n"


def _casing(text: str) -> str:
    return text.lower()


def _punctuation(text: str) -> str:
    return re.sub(r"(?<=\w)([,;:!?.])(?=\s|$)", r" \1", text)


def _strip_markdown(text: str) -> str:
    text = re.sub(r"```[^\n]*\n?", "", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__|`)", "", text)
    return text


def _restate_answer(text: str) -> str:
    boxed = re.findall(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", text)
    if boxed:
        return f"{text.rstrip()}\n\nSo the final answer is {boxed[-1]}."
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    last = sentences[-1] if sentences else text.strip()
    return f"{text.rstrip()}\n\nIn short: {last}"


REWRITES: dict[str, Callable[[str], str]] = {
    "whitespace": _whitespace,
    "casing": _casing,
    "punctuation": _punctuation,
    "markdown_stripped": _strip_markdown,
    "answer_restated": _restate_answer,
}
"""Meaning-preserving rewrites (after reWordBench)."""


MAX_FLIPPED_IDS = 10
"""Item ids kept per probe (variant) whose decision flipped, for the report's examples."""


def _scores(grouped: Sequence[Sequence[Outcome]]) -> list[list[float | None]]:
    return [[o.score for o in outcomes] for outcomes in grouped]


def compare_scores(items: Sequence[EvalItem], before: Sequence[Sequence[float | None]],
                   after: Sequence[Sequence[float | None]]) -> dict[str, Any]:
    """Drift and flipped decisions between two scorings of the same items."""
    diffs, flips, acc_before, acc_after, failed = [], 0, [], [], 0
    flipped: list[str] = []  # the items the report shows (the first few)
    for item, b, a in zip(items, before, after, strict=True):
        for x, y in zip(b, a, strict=True):
            if x is not None and y is not None:
                diffs.append(y - x)
            elif x is not None or y is not None:
                failed += 1
        if decision(b) != decision(a):
            flips += 1
            if len(flipped) < MAX_FLIPPED_IDS:
                flipped.append(item.id)
        acc_before.append(item_result(item, b)["result"])
        acc_after.append(item_result(item, a)["result"])
    d = np.asarray(diffs, dtype=float)
    return {
        "items": len(items),
        "drift": {"mean": float(d.mean()) if d.size else None,
                  "mean_abs": float(np.abs(d).mean()) if d.size else None,
                  "max_abs": float(np.abs(d).max()) if d.size else None},
        "flips": flips, "flip_rate": flips / len(items) if items else 0.0,
        "flipped": flipped,
        "accuracy_before": float(np.mean(acc_before)) if acc_before else None,
        "accuracy_after": float(np.mean(acc_after)) if acc_after else None,
        "status_changes": failed,
    }


def _rescore(reward: Reward | Comparator, items: Sequence[EvalItem],
             responses: Sequence[Sequence[str]]) -> list[list[float | None]]:
    return _scores(run_sync(score_items(reward, items, responses)))


def probe_rewrites(reward: Reward | Comparator, items: Sequence[EvalItem],
                   base: Sequence[Sequence[float | None]]) -> dict[str, Any]:
    """Score every meaning-preserving rewrite of every response; drift and flips per rewrite."""
    variants = {}
    for name, fn in REWRITES.items():
        after = _rescore(reward, items, [[fn(r) for r in it.responses] for it in items])
        variants[name] = compare_scores(items, base, after)
    return _combine("rewrites", variants)


def probe_truncation(reward: Reward | Comparator, items: Sequence[EvalItem],
                     base: Sequence[Sequence[float | None]],
                     budgets: Sequence[int] = (32, 128)) -> dict[str, Any]:
    """Cut responses to the first N words (for each budget) and rescore."""
    variants = {}
    for n in budgets:
        cut = [[" ".join(r.split(" ")[:n]) for r in it.responses] for it in items]
        variants[f"first_{n}_words"] = compare_scores(items, base, _rescore(reward, items, cut))
    return _combine("truncation", variants)


def probe_position(reward: Reward | Comparator, items: Sequence[EvalItem],
                   base: Sequence[Sequence[float | None]]) -> dict[str, Any]:
    """Present each item's responses in reverse order, map scores back, compare."""
    reversed_items = [EvalItem(id=it.id, kind="graded", responses=it.responses[::-1],
                               labels=it.labels[::-1], prompt=it.prompt, subset=it.subset,
                               stored_scores=None if it.stored_scores is None
                               else it.stored_scores[::-1], reference=it.reference)
                      for it in items]
    grouped = run_sync(score_items(reward, reversed_items))
    after = [s[::-1] for s in _scores(grouped)]
    return {"name": "position", **compare_scores(items, base, after)}


def probe_batch(reward: Reward | Comparator, items: Sequence[EvalItem],
                base: Sequence[Sequence[float | None]]) -> dict[str, Any]:
    """Score each response alone (batch of 1) and all together (one batch); compare both with
    the run's scores."""

    async def one_by_one() -> list[list[float | None]]:
        out = []
        for it in items:
            if is_comparator(reward):
                out.append([o.score for o in (await score_items(reward, [it]))[0]])
            else:
                out.append([(await reward.ascore([s]))[0].score for s in it.samples()])
        return out

    single = run_sync(one_by_one())
    together = _scores(run_sync(score_items(reward, items)))
    return _combine("batch", {"batch_size_1": compare_scores(items, base, single),
                              "one_batch": compare_scores(items, base, together)})


def probe_master_keys(reward: Reward | Comparator, items: Sequence[EvalItem],
                      base: Sequence[Sequence[float | None]],
                      keys: Mapping[str, str] = MASTER_KEYS) -> dict[str, Any]:
    """Score content-free responses for each item's prompt.

    Per key: how often it scores at least as high as the item's best preferred/correct response
    (``beats_preferred``) and as its best rejected/incorrect one (``beats_rejected``), its mean
    drift from the preferred response's score, and ``flips``: items where the key would become
    the reward's top choice.
    """
    if is_comparator(reward):
        return _judge_master_keys(reward, items, keys)
    per_key = {}
    names = list(keys)
    texts = [[keys[k] for k in names] for _ in items]
    probe_items = [EvalItem(id=it.id, kind="graded", responses=tuple(keys[k] for k in names),
                            labels=(0,) * len(names), prompt=it.prompt, subset=it.subset,
                            reference=it.reference) for it in items]
    scored = _rescore(reward, probe_items, texts)
    for j, key in enumerate(names):
        beats_pref, beats_rej, drift, flips, failed = [], [], [], 0, 0
        flipped: list[str] = []
        for it, b, s in zip(items, base, scored, strict=True):
            k = s[j]
            if k is None:
                failed += 1
                continue
            pref = [x for x, y in zip(b, it.labels, strict=True) if y and x is not None]
            rej = [x for x, y in zip(b, it.labels, strict=True) if not y and x is not None]
            if pref:
                beats_pref.append(float(k >= max(pref)))
                drift.append(k - max(pref))
            if rej:
                beats_rej.append(float(k >= max(rej)))
            valid = [x for x in b if x is not None]
            if valid and k > max(valid):
                flips += 1
                if len(flipped) < MAX_FLIPPED_IDS:
                    flipped.append(it.id)
        per_key[key] = {
            "text": keys[key], "items": len(items), "unscored": failed,
            "beats_preferred": float(np.mean(beats_pref)) if beats_pref else None,
            "beats_rejected": float(np.mean(beats_rej)) if beats_rej else None,
            "drift": {"mean": float(np.mean(drift)) if drift else None,
                      "mean_abs": float(np.mean(np.abs(drift))) if drift else None,
                      "max_abs": float(np.max(np.abs(drift))) if drift else None},
            "flips": flips, "flip_rate": flips / len(items) if items else 0.0,
            "flipped": flipped,
        }
    return _master_key_summary(per_key, len(items))


def _master_key_summary(per_key: Mapping[str, Mapping[str, Any]], items: int) -> dict[str, Any]:
    """The ``master_keys`` probe's result from its per-key figures (scalar rewards and pairwise
    judges alike): mean flip rate, the worst key, and how often a key beats the preferred."""
    worst = max(per_key.values(), key=lambda v: v["flip_rate"])
    return {"name": "master_keys", "variants": dict(per_key), "items": items,
            "flips": sum(v["flips"] for v in per_key.values()),
            "flip_rate": float(np.mean([v["flip_rate"] for v in per_key.values()])),
            "worst_key": worst["text"], "worst_flip_rate": worst["flip_rate"],
            "false_accept_rate": float(np.mean([v["beats_preferred"] or 0.0
                                                for v in per_key.values()]))}


def _judge_master_keys(judge: Comparator, items: Sequence[EvalItem],
                       keys: Mapping[str, str]) -> dict[str, Any]:
    """Master keys against a pairwise judge: each key is put against the item's preferred and
    rejected responses, in both positions; a flip is the judge preferring the key or tying
    with it (a tie gives a content-free response half the reward of a real answer)."""
    per_key = {}
    for name, text in keys.items():
        pairs, index = [], []
        for it in items:
            for label in (1, 0):
                real = next((r for r, y in zip(it.responses, it.labels, strict=True)
                             if y == label), None)
                if real is None:
                    continue
                for key_first in (True, False):
                    responses = (text, real) if key_first else (real, text)
                    pairs.append(EvalItem(id=it.id, kind="graded", responses=responses,
                                          labels=(0, 0), prompt=it.prompt, subset=it.subset,
                                          reference=it.reference))
                    index.append((it.id, label, key_first))
        verdicts = _scores(run_sync(score_items(judge, pairs)))
        wins: dict[int, list[float]] = {1: [], 0: []}
        unscored = 0
        for (_, label, key_first), scores in zip(index, verdicts, strict=True):
            p = scores[0] if key_first else scores[1]  # the key's side
            if p is None:
                unscored += 1
                continue
            wins[label].append(float(p >= 0.5))  # a tie with a content-free key is a failure
        flips = int(sum(wins[1]))
        total = len(wins[1]) or 1
        per_key[name] = {"text": text, "items": len(items), "unscored": unscored,
                         "beats_preferred": float(np.mean(wins[1])) if wins[1] else None,
                         "beats_rejected": float(np.mean(wins[0])) if wins[0] else None,
                         "drift": {"mean": None, "mean_abs": None, "max_abs": None},
                         "flips": flips, "flip_rate": flips / total}
    return _master_key_summary(per_key, len(items))


def _combine(name: str, variants: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    rates = [v["flip_rate"] for v in variants.values()]
    drifts = [v["drift"]["mean_abs"] for v in variants.values()
              if v["drift"]["mean_abs"] is not None]
    return {"name": name, "variants": dict(variants),
            "items": next(iter(variants.values()))["items"] if variants else 0,
            "flips": sum(v["flips"] for v in variants.values()),
            "flip_rate": float(np.mean(rates)) if rates else 0.0,
            "drift": {"mean_abs": float(np.mean(drifts)) if drifts else None}}


PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "position": probe_position,
    "master_keys": probe_master_keys,
    "rewrites": probe_rewrites,
    "batch": probe_batch,
    "truncation": probe_truncation,
}
ALL_PROBES: tuple[str, ...] = ("length", *PROBES)


def run_probes(reward: Reward | Comparator, items: Sequence[EvalItem],
               rows: Sequence[Mapping[str, Any]], names: Sequence[str] = ALL_PROBES,
               limit: int | None = 200, progress: bool = False) -> dict[str, Any]:
    """Run the named probes on the first ``limit`` items of a finished run.

    Args:
        reward: The evaluated reward.
        items: The run's items, in run order.
        rows: The run's per-item rows (same order); their scores are the baseline.
        names: Probe names (``length``, ``position``, ``master_keys``, ``rewrites``, ``batch``,
            ``truncation``).
        limit: Items per probe (probes rescore every response several times).
        progress: Show a progress bar over the probes on stderr.
    """
    unknown = [n for n in names if n not in ALL_PROBES]
    if unknown:
        raise ValueError(f"unknown probes {unknown}; probes: {', '.join(ALL_PROBES)}")
    if len(items) != len(rows):
        raise ValueError("items and rows must match one to one")
    n = len(items) if limit is None else min(limit, len(items))
    sub_items = list(items[:n])
    base = [list(r["scores"]) for r in rows[:n]]
    out: dict[str, Any] = {}
    for name in tqdm(names, desc=f"probes ({n} items)", unit="probe", disable=not progress,
                     file=sys.stderr, dynamic_ncols=True):
        if name == "length":
            lb = length_baseline_summary(rows)
            out[name] = {"name": "length", "items": len(rows), "flips": lb["flips"],
                         "flip_rate": lb["flips"] / len(rows) if rows else 0.0,
                         "drift": {"mean_abs": None}, **lb}
        else:
            out[name] = PROBES[name](reward, sub_items, base)
    return out
