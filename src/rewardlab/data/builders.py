"""What each data command does to one prompt's group of scored rows.

Every builder takes the rows of one group (already sorted best first, failed outcomes already
removed) and returns the records to write plus a count of what it dropped and why. Nothing here
reads files; :mod:`rewardlab.data.run` streams groups through these functions.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from rewardlab.data.rows import ScoredRow

PairStrategy = Literal["best_worst", "all", "best_random"]
PairFormat = Literal["trl", "openrlhf"]


def _normalized(text: str) -> str:
    return " ".join(text.split())


def dedupe(rows: list[ScoredRow], drops: Counter[str]) -> list[ScoredRow]:
    """Keep the first (best-ranked) of responses that are equal up to whitespace."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        norm = _normalized(row.response)
        if norm in seen:
            drops["duplicate_response"] += 1
            continue
        seen.add(norm)
        kept.append(row)
    return kept


def _group_label(key: str) -> str:
    return key[2:] if key.startswith("g:") else hashlib.sha1(
        key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


# --- select (RAFT / rejection sampling) -------------------------------------------------------

@dataclass(frozen=True)
class SelectOptions:
    """Which responses of a prompt to keep for fine-tuning.

    Args:
        top_k: Keep the k best responses of each prompt (``None``: no rank cut).
        min_score: Keep only responses scoring at least this (``None``: no threshold).
        max_per_prompt: A cap applied after both (``None``: no cap).
        dedupe: Drop responses equal (up to whitespace) to a better-ranked one.
    """

    top_k: int | None = 1
    min_score: float | None = None
    max_per_prompt: int | None = None
    dedupe: bool = True

    def __post_init__(self) -> None:
        if self.top_k is None and self.min_score is None:
            raise ValueError("select needs top_k, min_score or both")
        for name in ("top_k", "max_per_prompt"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.min_score is not None and not math.isfinite(self.min_score):
            raise ValueError("min_score must be a finite number")


def select_group(key: str, rows: list[ScoredRow], options: SelectOptions
                 ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """RAFT-style selection: the best responses of one prompt as prompt/completion records."""
    drops: Counter[str] = Counter()
    if options.dedupe:
        rows = dedupe(rows, drops)
    kept = rows
    if options.min_score is not None:
        kept = [r for r in kept if r.score >= options.min_score]
        drops["below_min_score"] += len(rows) - len(kept)
    limit = min(x for x in (options.top_k, options.max_per_prompt, len(kept)) if x is not None)
    drops["below_top_k"] += len(kept) - limit
    out = [{"prompt": r.prompt, "completion": r.response, "score": r.score,
            "rank": rank, "group": _group_label(key), **({"id": r.id} if r.id is not None else {})}
           for rank, r in enumerate(kept[:limit], start=1)]
    return out, drops


# --- pairs (DPO / reward-model preference data) -----------------------------------------------

@dataclass(frozen=True)
class PairOptions:
    """How preference pairs are drawn from one prompt's scored responses.

    Args:
        strategy: ``best_worst`` (one pair: best vs worst), ``all`` (every pair whose margin
            is large enough, largest margins first), ``best_random`` (best vs a seeded random
            response far enough below it).
        min_margin: Smallest score difference a pair may have. Pairs whose difference is at or
            below ``tie_epsilon`` are ties and are always dropped.
        tie_epsilon: Differences up to this are ties.
        max_pairs_per_prompt: Cap per prompt (``None``: no cap).
        chosen_min_score: The chosen response must score at least this (a verifier gate on
            the score itself, e.g. 1.0 for "verified correct").
        rejected_max_score: The rejected response must score at most this.
        gate_min: When rows carry a ``gate`` field, the chosen response's gate value must be
            true, or a number at least ``gate_min``. ``None``: the gate field is not used.
        seed: Seed of ``best_random`` (mixed with the group key, so the result does not depend
            on the order of groups or rows in the input).
        dedupe: Drop responses equal (up to whitespace) to a better-ranked one first, so
            chosen and rejected always differ.
        format: ``trl`` (``prompt``/``chosen``/``rejected``; conversational when the prompt is a
            message list, as TRL's DPOTrainer and RewardTrainer read it) or ``openrlhf``
            (``chosen``/``rejected`` as whole conversations, as OpenRLHF's reward and DPO
            datasets read them with ``--apply_chat_template``; text prompts are kept in
            ``prompt``).
    """

    strategy: PairStrategy = "best_worst"
    min_margin: float = 0.0
    tie_epsilon: float = 1e-9
    max_pairs_per_prompt: int | None = None
    chosen_min_score: float | None = None
    rejected_max_score: float | None = None
    gate_min: float | None = None
    seed: int = 0
    dedupe: bool = True
    format: PairFormat = "trl"

    def __post_init__(self) -> None:
        if self.strategy not in ("best_worst", "all", "best_random"):
            raise ValueError(f"unknown pair strategy {self.strategy!r}; "
                             "choose best_worst, all or best_random")
        if self.format not in ("trl", "openrlhf"):
            raise ValueError(f"unknown pair format {self.format!r}; choose trl or openrlhf")
        for name in ("min_margin", "tie_epsilon"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.max_pairs_per_prompt is not None and self.max_pairs_per_prompt < 1:
            raise ValueError("max_pairs_per_prompt must be at least 1")


def _gate_passes(row: ScoredRow, options: PairOptions) -> bool:
    if options.chosen_min_score is not None and row.score < options.chosen_min_score:
        return False
    if options.gate_min is not None:
        gate = row.gate
        if isinstance(gate, bool):
            return gate
        if not isinstance(gate, int | float) or not math.isfinite(gate):
            return False
        return gate >= options.gate_min
    return True


def _can_reject(row: ScoredRow, options: PairOptions) -> bool:
    return options.rejected_max_score is None or row.score <= options.rejected_max_score


def _far_enough(chosen: ScoredRow, rejected: ScoredRow, options: PairOptions) -> bool:
    margin = chosen.score - rejected.score
    return margin > options.tie_epsilon and margin >= options.min_margin


def pair_record(prompt: Any, chosen: ScoredRow, rejected: ScoredRow, key: str,
                fmt: PairFormat = "trl") -> dict[str, Any]:
    """One preference record in the shape the named trainer's dataset code reads."""
    record: dict[str, Any]
    if fmt == "openrlhf" and not isinstance(prompt, str):
        record = {"chosen": [*prompt, {"role": "assistant", "content": chosen.response}],
                  "rejected": [*prompt, {"role": "assistant", "content": rejected.response}]}
    elif isinstance(prompt, str):
        record = {"prompt": prompt, "chosen": chosen.response, "rejected": rejected.response}
    else:
        record = {"prompt": list(prompt),
                  "chosen": [{"role": "assistant", "content": chosen.response}],
                  "rejected": [{"role": "assistant", "content": rejected.response}]}
    record.update({
        "margin": chosen.score - rejected.score,
        "score_chosen": chosen.score,
        "score_rejected": rejected.score,
        "group": _group_label(key),
    })
    if chosen.id is not None or rejected.id is not None:
        record["id_chosen"], record["id_rejected"] = chosen.id, rejected.id
    return record


def _seeded_rng(seed: int, key: str) -> random.Random:
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def pairs_group(key: str, rows: list[ScoredRow], options: PairOptions
                ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Preference pairs from one prompt's rows (sorted best first)."""
    drops: Counter[str] = Counter()
    if options.dedupe:
        rows = dedupe(rows, drops)
    if len(rows) < 2:
        drops["group_too_small"] += 1
        return [], drops
    chosen_pool = [r for r in rows if _gate_passes(r, options)]
    if not chosen_pool:
        drops["no_chosen_passes_gate"] += 1
        return [], drops
    candidates: list[tuple[ScoredRow, ScoredRow]] = []
    if options.strategy == "best_worst":
        chosen = chosen_pool[0]
        rejected = next((r for r in reversed(rows) if _can_reject(r, options)), None)
        if rejected is not None and _far_enough(chosen, rejected, options):
            candidates.append((chosen, rejected))
    elif options.strategy == "best_random":
        chosen = chosen_pool[0]
        pool = [r for r in rows if _can_reject(r, options) and _far_enough(chosen, r, options)]
        if pool:
            candidates.append((chosen, _seeded_rng(options.seed, key).choice(pool)))
    else:
        allowed = [r for r in rows if _can_reject(r, options)]
        for c in chosen_pool:
            candidates.extend((c, r) for r in allowed if _far_enough(c, r, options))
        candidates.sort(key=lambda p: (-(p[0].score - p[1].score), p[0].response, p[1].response))
    if not candidates:
        drops["no_pair_with_margin"] += 1
        return [], drops
    if options.max_pairs_per_prompt is not None and len(candidates) > options.max_pairs_per_prompt:
        drops["pairs_over_cap"] += len(candidates) - options.max_pairs_per_prompt
        candidates = candidates[: options.max_pairs_per_prompt]
    prompt = rows[0].prompt
    return [pair_record(prompt, c, r, key, options.format) for c, r in candidates], drops


# --- filter (prompt curation) -----------------------------------------------------------------

@dataclass(frozen=True)
class FilterOptions:
    """Which prompts to keep, judged by their group of rewards.

    Args:
        drop_constant: Drop prompts whose rewards do not vary (DAPO's dynamic sampling: such a
            group has zero advantage everywhere and gives no gradient).
        tie_epsilon: Rewards within this of each other count as equal.
        pass_threshold: A response "passes" when it scores at least this.
        min_pass_rate: Keep prompts whose pass rate is at least this (too hard below).
        max_pass_rate: Keep prompts whose pass rate is at most this (too easy above).
        min_gap: Keep prompts whose best-worst reward gap is at least this.
        max_gap: Keep prompts whose gap is at most this (R.I.P. keeps small gaps: a large one
            marks a low-quality prompt).
        min_worst_score: Keep prompts whose worst response scores at least this (R.I.P.'s
            rejected-response reward filter).
        min_group_size: Prompts with fewer scored responses than this are dropped.
        rows: Write the kept prompts' rows instead of one summary record per prompt.
    """

    drop_constant: bool = True
    tie_epsilon: float = 1e-9
    pass_threshold: float = 1.0
    min_pass_rate: float | None = None
    max_pass_rate: float | None = None
    min_gap: float | None = None
    max_gap: float | None = None
    min_worst_score: float | None = None
    min_group_size: int = 1
    rows: bool = False

    def __post_init__(self) -> None:
        for name in ("min_pass_rate", "max_pass_rate"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        for name in ("tie_epsilon", "pass_threshold", "min_gap", "max_gap", "min_worst_score"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")


def group_stats(rows: list[ScoredRow], pass_threshold: float) -> dict[str, Any]:
    """Size, mean, best, worst, gap, standard deviation and pass rate of one group."""
    scores = [r.score for r in rows]
    n = len(scores)
    mean = math.fsum(scores) / n
    var = math.fsum((s - mean) ** 2 for s in scores) / n
    best, worst = max(scores), min(scores)
    return {"n": n, "mean": mean, "std": math.sqrt(var), "best": best, "worst": worst,
            "gap": best - worst, "pass_rate": sum(s >= pass_threshold for s in scores) / n}


def filter_group(key: str, rows: list[ScoredRow], options: FilterOptions
                 ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Keep or drop one prompt; the records are its summary (or its rows) when kept."""
    drops: Counter[str] = Counter()
    if len(rows) < options.min_group_size:
        drops["group_too_small"] += 1
        return [], drops
    stats = group_stats(rows, options.pass_threshold)
    checks = (
        ("zero_variance", options.drop_constant and stats["gap"] <= options.tie_epsilon),
        ("pass_rate_below_band",
         options.min_pass_rate is not None and stats["pass_rate"] < options.min_pass_rate),
        ("pass_rate_above_band",
         options.max_pass_rate is not None and stats["pass_rate"] > options.max_pass_rate),
        ("gap_below_min", options.min_gap is not None and stats["gap"] < options.min_gap),
        ("gap_above_max", options.max_gap is not None and stats["gap"] > options.max_gap),
        ("worst_below_min",
         options.min_worst_score is not None and stats["worst"] < options.min_worst_score),
    )
    for reason, failed in checks:
        if failed:
            drops[reason] += 1
            return [], drops
    label = _group_label(key)
    if options.rows:
        return [{"prompt": r.prompt, "response": r.response, "score": r.score, "group": label,
                 **({"id": r.id} if r.id is not None else {})} for r in rows], drops
    return [{"prompt": rows[0].prompt, "group": label, **stats}], drops


# --- relabel (reward-augmented / reward-conditioned data) -------------------------------------

DEFAULT_RELABEL_TEMPLATE = "Write a response that earns a reward of {score:.2f}.\n\n{prompt}"


@dataclass(frozen=True)
class RelabelOptions:
    """Reward-conditioned relabelling: the prompt states the reward its response earned.

    Args:
        template: Python format string for text prompts, with ``{prompt}``, ``{score}`` and
            ``{level}``. For chat prompts the same text without ``{prompt}`` becomes a system
            message placed first.
        levels: Ascending score cut points; ``{level}`` is the number of cut points a score
            reaches (0 .. len(levels)), so quality can be stated as a level, not a float.
        level_names: Optional names for the levels (one more than ``levels``).
    """

    template: str = DEFAULT_RELABEL_TEMPLATE
    levels: tuple[float, ...] = ()
    level_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if list(self.levels) != sorted(self.levels):
            raise ValueError("levels must be ascending")
        if self.level_names and len(self.level_names) != len(self.levels) + 1:
            raise ValueError(f"level_names needs {len(self.levels) + 1} names "
                             f"(one more than levels), got {len(self.level_names)}")
        try:
            self.template.format(prompt="", score=0.0, level="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"bad relabel template {self.template!r}: {exc!r}; "
                             "it may use {prompt}, {score} and {level}") from None

    def level_of(self, score: float) -> int | str:
        index = sum(score >= cut for cut in self.levels)
        return self.level_names[index] if self.level_names else index


def relabel_group(key: str, rows: list[ScoredRow], options: RelabelOptions
                  ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Every scored response becomes prompt (stating its reward) + completion."""
    out = []
    for row in rows:
        level = options.level_of(row.score)
        if isinstance(row.prompt, str):
            prompt: Any = options.template.format(prompt=row.prompt, score=row.score, level=level)
        else:
            instruction = options.template.replace("{prompt}", "").strip().format(
                score=row.score, level=level)
            prompt = [{"role": "system", "content": instruction}, *row.prompt]
        out.append({"prompt": prompt, "completion": row.response, "target_reward": row.score,
                    "level": level, "group": _group_label(key),
                    **({"id": row.id} if row.id is not None else {})})
    return out, Counter()
