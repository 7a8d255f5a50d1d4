"""Group-advantage arithmetic: per-sample rewards to per-sample advantages within groups.

The functions behind the ``group_advantage`` reward (:mod:`rewardlab.compose.group_advantage`)
and the trainer adapters; this module holds the math only, no reward.

All functions take aligned sequences of scores (``float``, ``None`` or an
:class:`~rewardlab.types.Outcome`) and group ids (``Sample.group``), and return an
:class:`Advantages` with one advantage per input.

``convention`` says whose arithmetic to use. ``rewardlab`` (the default) computes in float64 and
is exact by design; ``verl``, ``trl`` and ``openrlhf`` reproduce each trainer's own computation
(:mod:`rewardlab.compose.trainer_conventions`, float32 as the trainers hold rewards), checked
against the trainers' code in ``tests/compose/test_trainer_parity.py``:

===============  =========  ======  ==================================  =========================
convention       dtype      eps     a failed sample                     a group of one
===============  =========  ======  ==================================  =========================
``rewardlab``    float64    1e-6    excluded: ``None``, not in stats    0
``verl``         float32    1e-6    scores ``failure_score`` (0)         grpo ``r/(1+eps)``;
                                                                        dr_grpo, rloo, opo ``r``
``trl``          float32    1e-4    excluded from stats, advantage 0    0
``openrlhf``     float32    1e-9    scores ``failure_score`` (0)         grpo, rloo: no advantage
                                                                        (NaN there); dr_grpo 0
===============  =========  ======  ==================================  =========================

``failure_score`` is what rewardlab's verl and OpenRLHF adapters send for a failed outcome (their
``failure_score``, default 0), so those trainers see a number; TRL receives ``None`` and (1.16)
leaves such "unscorable" completions out of the baseline with advantage 0.

Constant groups: ``rewardlab`` gives exactly 0 (a computed mean can differ from the values by
rounding, and dividing that noise by ``std + eps`` would invent a signal). The trainers compute
in float32, where the mean of equal values can differ from them by an ulp and ``(r - mean) /
(0 + eps)`` is then a nonzero advantage; their conventions reproduce that.

Methods per convention: verl has grpo, dr_grpo (``norm_adv_by_std_in_grpo=False``), rloo, opo
and gdpo; TRL has grpo with ``scale`` group/batch/none, dr_grpo (``scale_rewards="none"``) and
gdpo (``multi_objective_aggregation="normalize_then_sum"``); OpenRLHF has grpo (``group_norm``),
dr_grpo and rloo. Asking a convention for a method its trainer lacks is a ``ValueError``.

Extreme scores never raise: a sample whose advantage is not finite (float64 overflow, float32
overflow inside the trainer's arithmetic, or NaN where the trainer's arithmetic gives NaN) gets
``None`` and a reason in :attr:`Advantages.failures`; the other groups are unaffected. Under a
trainer convention a score beyond float32's range (|r| > 3.4e38) counts as a failed sample: the
trainers cannot hold it (verl raises when it writes it into its reward tensor; TRL and OpenRLHF
turn it into inf, which makes its whole group NaN).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewardlab.compose import stats
from rewardlab.compose import trainer_conventions as tc
from rewardlab.types import Outcome

Method = Literal["grpo", "dr_grpo", "rloo", "opo"]
Convention = Literal["rewardlab", "verl", "trl", "openrlhf"]
Scale = Literal["group", "batch", "none"]

EPSILON: dict[str, float] = {"rewardlab": 1e-6, "verl": 1e-6, "trl": 1e-4, "openrlhf": 1e-9}
"""The epsilon each trainer adds to the std."""

METHODS: dict[str, tuple[str, ...]] = {
    "rewardlab": ("grpo", "dr_grpo", "rloo", "opo", "gdpo"),
    "verl": ("grpo", "dr_grpo", "rloo", "opo", "gdpo"),
    "trl": ("grpo", "dr_grpo", "gdpo"),
    "openrlhf": ("grpo", "dr_grpo", "rloo"),
}
"""The advantage methods each trainer implements."""


@dataclass
class Advantages:
    """Per-sample advantages plus counts of what was excluded or degenerate.

    Attributes:
        values: One advantage per input, ``None`` where none can be given (a failed score under
            the ``rewardlab`` convention, or an entry of ``failures``).
        groups: Number of groups with at least one usable score.
        singleton_groups: Groups with exactly one usable score.
        zero_variance_groups: Groups of two or more usable scores that are all equal.
        excluded: Inputs whose score was missing or failed.
        failures: ``{index: reason}`` for samples whose advantage is not a finite number
            (overflow, or NaN in the trainer's arithmetic).
    """

    values: list[float | None]
    groups: int = 0
    singleton_groups: int = 0
    zero_variance_groups: int = 0
    excluded: int = 0
    failures: dict[int, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """The counters as a dict (for logging)."""
        return {"groups": self.groups, "singleton_groups": self.singleton_groups,
                "zero_variance_groups": self.zero_variance_groups, "excluded": self.excluded,
                "failed": len(self.failures)}


def _score(value: float | Outcome | None) -> float | None:
    if isinstance(value, Outcome):
        return value.score if value.is_ok else None
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _mean(values: Sequence[float]) -> float:
    return stats.mean(values)


def _std(values: Sequence[float], unbiased: bool = True) -> float:
    return stats.std(values, ddof=int(unbiased))


def _by_group(scores: Sequence[float | None], groups: Sequence[Hashable]) -> dict[Hashable, list]:
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, (s, g) in enumerate(zip(scores, groups, strict=True)):
        if s is not None:
            members[g].append(i)
    return members


def _check(method: str, convention: str, scale: str) -> None:
    if convention not in EPSILON:
        raise ValueError(f"unknown convention {convention!r}; known: {sorted(EPSILON)}")
    if method not in ("grpo", "dr_grpo", "rloo", "opo", "gdpo"):
        raise ValueError(f"unknown advantage method {method!r}")
    if method not in METHODS[convention]:
        raise ValueError(f"{convention} has no {method!r} advantage; it has "
                         f"{', '.join(METHODS[convention])} (use convention: rewardlab)")
    if scale not in ("group", "batch", "none"):
        raise ValueError(f"scale must be group, batch or none, got {scale!r}")
    if scale == "batch" and (method != "grpo" or convention not in ("rewardlab", "trl")):
        raise ValueError("scale: batch is TRL's scale_rewards='batch' for grpo (conventions "
                         "rewardlab and trl)")


def _finish(result: Advantages, raw: Sequence[float | None], where: str) -> Advantages:
    """Copy ``raw`` into ``result.values``, turning non-finite advantages into failures."""
    for i, value in enumerate(raw):
        if value is None:
            continue
        if math.isfinite(value):
            result.values[i] = value
        else:
            result.failures[i] = (f"{where}: the advantage is {value} (a score overflowed, or "
                                  "the trainer's arithmetic gives NaN here)")
    return result


def _count(result: Advantages, members: dict[Hashable, list[int]],
           values: Sequence[float | None] | None = None) -> None:
    """Count groups, groups of one and (given ``values``) groups without spread."""
    for m in members.values():
        result.groups += 1
        if len(m) == 1:
            result.singleton_groups += 1
        elif values is not None and len({values[i] for i in m}) == 1:
            result.zero_variance_groups += 1


def group_advantages(
    scores: Sequence[float | Outcome | None],
    groups: Sequence[Hashable],
    method: Method = "grpo",
    convention: Convention = "rewardlab",
    scale: Scale = "group",
    eps: float | None = None,
    lengths: Sequence[float] | None = None,
    failure_score: float = 0.0,
) -> Advantages:
    """Advantages of each sample relative to its group.

    Args:
        scores: One score per sample (a number, an Outcome, or ``None`` for a failure).
        groups: One group id per sample (the prompt's rollout group).
        method: ``grpo`` (mean-centred, std-scaled), ``dr_grpo`` (mean-centred only),
            ``rloo`` (minus the mean of the *other* members) or ``opo`` (minus the
            length-weighted mean ``sum(l*r)/sum(l)``, the optimal baseline; needs ``lengths``).
        convention: Whose arithmetic to reproduce: ``rewardlab``, ``verl``, ``trl`` or
            ``openrlhf`` (see the module docstring).
        scale: For ``grpo``: divide by the group std (``group``), by the std of all usable
            scores (``batch``, TRL's ``scale_rewards="batch"``) or not at all (``none``, the same
            as ``dr_grpo``).
        eps: Override the convention's epsilon.
        lengths: Response lengths (tokens), required by ``opo``.
        failure_score: The score a failed sample counts as under ``verl`` and ``openrlhf``
            (what rewardlab's adapters send those trainers for a failed outcome).

    Returns:
        :class:`Advantages` aligned with ``scores``.

    Raises:
        ValueError: mismatched lengths, an unknown method or convention, a method the
            convention's trainer lacks, or ``opo`` without ``lengths``.
    """
    if len(scores) != len(groups):
        raise ValueError(f"got {len(scores)} scores for {len(groups)} group ids")
    _check(method, convention, scale)
    if method == "gdpo":
        raise ValueError("gdpo combines several rewards: use gdpo_advantages")
    if method == "opo":
        if lengths is None or len(lengths) != len(scores):
            raise ValueError("method 'opo' needs one length per score")
        if any(not (length > 0) for length in lengths):
            raise ValueError("opo lengths must be positive")
    if scale == "none" and method == "grpo":
        method = "dr_grpo"
    eps = EPSILON[convention] if eps is None else float(eps)
    values = [_score(s) for s in scores]
    if convention != "rewardlab":
        values = [v if v is None or tc.fits_float32(v) else None for v in values]
    result = Advantages(values=[None] * len(values),
                        excluded=sum(v is None for v in values))
    if convention == "rewardlab":
        members = _by_group(values, groups)
        _count(result, members, values)
        return _finish(result, _rewardlab(values, members, method, scale, eps, lengths),
                       "rewardlab")
    if convention == "trl":
        filled = [math.nan if v is None else v for v in values]
        members = _by_group(filled, groups)
        _count(result, _by_group(values, groups), values)
        raw = tc.trl_grpo(filled, list(members.values()),
                          "none" if method == "dr_grpo" else scale, eps)
        # TRL's nan_to_num(nan=0): unscorable rows and groups without a std get 0
        return _finish(result, [0.0 if math.isnan(a) else a for a in raw], "trl")
    filled = [failure_score if v is None else v for v in values]
    members = _by_group(filled, groups)
    _count(result, members, filled)
    if convention == "verl":
        method_ = "grpo" if method == "dr_grpo" else method
        raw = tc.verl_group(filled, list(members.values()), method_, eps,
                            scale_by_std=method != "dr_grpo",
                            lengths=_token_counts(lengths) if method == "opo" else None)
    else:
        raw = tc.openrlhf_group(filled, list(members.values()), method, eps)
    return _finish(result, raw, convention)


def _token_counts(lengths: Sequence[float] | None) -> list[int]:
    counts = [int(x) for x in lengths or ()]
    if any(c != x for c, x in zip(counts, lengths or (), strict=True)):
        raise ValueError("verl counts response tokens: lengths must be whole numbers")
    return counts


def _rewardlab(values: list[float | None], members: dict[Hashable, list[int]], method: str,
               scale: str, eps: float, lengths: Sequence[float] | None) -> list[float | None]:
    out: list[float | None] = [None] * len(values)
    usable = [v for v in values if v is not None]
    batch_std = _std(usable) if scale == "batch" else 0.0
    for m in members.values():
        r: list[float] = [values[i] for i in m]  # type: ignore[misc]
        n = len(r)
        if n == 1 or max(r) == min(r):
            # one sample or no spread: no relative signal, exactly zero (see the docstring)
            adv = [0.0] * n
        elif method == "grpo" and scale == "group":
            adv = stats.standardize(r, eps)
        elif method == "grpo":
            mean = _mean(r)
            adv = [(v - mean) / (batch_std + eps) for v in r]
        elif method == "dr_grpo":
            mean = _mean(r)
            adv = [v - mean for v in r]
        elif method == "rloo":  # v minus the mean of the others, n/(n-1) (v - mean)
            mean = _mean(r)
            adv = [(v - mean) * (n / (n - 1)) for v in r]
        else:
            weights = [float(lengths[i]) for i in m]  # type: ignore[index]
            total = math.fsum(weights)
            baseline = math.fsum(w / total * v for w, v in zip(weights, r, strict=True))
            adv = [v - baseline for v in r]
        for i, a in zip(m, adv, strict=True):
            out[i] = a
    return out


def batch_normalize(values: Sequence[float | None], eps: float = 1e-6) -> list[float | None]:
    """``(x - mean) / (std + eps)`` over the non-``None`` values (unbiased std)."""
    usable = [v for v in values if v is not None]
    if not usable:
        return list(values)
    mean, std = _mean(usable), _std(usable)
    return [None if v is None else (v - mean) / (std + eps) for v in values]


def gdpo_advantages(
    components: Mapping[str, Sequence[float | Outcome | None]],
    groups: Sequence[Hashable],
    weights: Mapping[str, float] | None = None,
    convention: Convention = "rewardlab",
    eps: float | None = None,
    batch_norm: bool = True,
    lengths: Sequence[int] | None = None,
    failure_score: float = 0.0,
) -> Advantages:
    """GDPO: normalize each reward within its group, combine with weights, batch-normalize.

    Normalizing each reward separately keeps distinct reward combinations apart (a plain sum
    collapses them onto the same advantage), and makes the result invariant to rescaling any one
    reward.

    Failures and the last step differ per convention:

    * ``rewardlab``: a sample whose score failed in any component is excluded from every
      component (``None``); batch normalization over samples.
    * ``trl`` (``normalize_then_sum``): a failed component is left out of that component's
      group statistics and counts as 0 in the weighted sum; a sample failed in every component
      gets advantage 0; batch normalization over samples, eps 1e-4.
    * ``verl``: a failed component scores ``failure_score``; float32 GRPO per component, then
      verl's ``masked_whiten`` over response *tokens*, which needs ``lengths`` (token counts):
      a long response weighs more in the batch mean and variance.

    Args:
        components: ``{reward name: scores}``, each aligned with ``groups``.
        groups: One group id per sample.
        weights: Per-reward weights (default 1.0 each).
        convention: ``rewardlab``, ``trl`` or ``verl``.
        eps: Override the convention's epsilon.
        batch_norm: Finish with batch normalization (GDPO's last step; ``rewardlab`` only).
        lengths: Response token counts (``verl`` only).
        failure_score: What a failed component scores under ``verl``.

    Returns:
        :class:`Advantages`; ``extra["components"]`` holds each reward's group advantages.
    """
    if not components:
        raise ValueError("gdpo needs at least one reward component")
    _check("gdpo", convention, "group")
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(components))
    if unknown:
        raise ValueError(f"weights name unknown components {unknown}")
    n = len(groups)
    cleaned: dict[str, list[float | None]] = {}
    for name, scores in components.items():
        if len(scores) != n:
            raise ValueError(f"component {name!r} has {len(scores)} scores for {n} samples")
        cleaned[name] = [_score(s) for s in scores]
        if convention != "rewardlab":
            cleaned[name] = [v if v is None or tc.fits_float32(v) else None
                             for v in cleaned[name]]
    eps = EPSILON[convention] if eps is None else float(eps)
    if convention == "trl":
        return _gdpo_trl(cleaned, groups, weights, eps)
    if convention == "verl":
        if lengths is None or len(lengths) != n or any(int(x) < 1 for x in lengths):
            raise ValueError("gdpo in verl's convention whitens over tokens: give one positive "
                             "token count per sample (lengths)")
        return _gdpo_verl(cleaned, groups, weights, eps, _token_counts(lengths), failure_score)
    # exclude a sample from every component as soon as one of its scores failed
    keep = [all(c[i] is not None for c in cleaned.values()) for i in range(n)]
    per_reward = {
        name: group_advantages([v if k else None for v, k in zip(c, keep, strict=True)], groups,
                               method="grpo", convention=convention, eps=eps)
        for name, c in cleaned.items()
    }
    combined: list[float | None] = []
    for i in range(n):
        parts = [adv.values[i] for adv in per_reward.values()]
        combined.append(None if not keep[i] or any(p is None for p in parts) else
                        math.fsum(weights.get(name, 1.0) * adv.values[i]  # type: ignore
                                  for name, adv in per_reward.items()))
    first = next(iter(per_reward.values()))
    by_group = _by_group(combined, groups)
    flat = sum(1 for m in by_group.values()
               if len(m) > 1 and all(combined[i] == combined[m[0]] for i in m))
    if batch_norm:
        combined = batch_normalize(combined, eps)
    result = Advantages(
        values=[None] * n, groups=first.groups, singleton_groups=first.singleton_groups,
        zero_variance_groups=flat, excluded=n - sum(keep),
        extra={"components": {name: adv.values for name, adv in per_reward.items()}},
    )
    for adv in per_reward.values():
        result.failures.update(adv.failures)
    return _finish(result, combined, "gdpo")


def _gdpo_trl(cleaned: dict[str, list[float | None]], groups: Sequence[Hashable],
              weights: Mapping[str, float], eps: float) -> Advantages:
    n = len(groups)
    filled = {k: [math.nan if v is None else v for v in c] for k, c in cleaned.items()}
    members = _by_group([0.0] * n, groups)
    raw = tc.trl_gdpo(filled, weights, list(members.values()), eps)
    scorable = [any(c[i] is not None for c in cleaned.values()) for i in range(n)]
    result = Advantages(values=[None] * n, excluded=n - sum(scorable))
    _count(result, _by_group([0.0 if s else None for s in scorable], groups))
    return _finish(result, [0.0 if math.isnan(a) else a for a in raw], "trl gdpo")


def _gdpo_verl(cleaned: dict[str, list[float | None]], groups: Sequence[Hashable],
               weights: Mapping[str, float], eps: float, lengths: list[int],
               failure_score: float) -> Advantages:
    n = len(groups)
    filled = {k: [failure_score if v is None else v for v in c] for k, c in cleaned.items()}
    members = _by_group([0.0] * n, groups)
    raw = tc.verl_gdpo(filled, weights, list(members.values()), eps, lengths)
    result = Advantages(values=[None] * n,
                        excluded=sum(any(c[i] is None for c in cleaned.values())
                                     for i in range(n)))
    _count(result, members)
    return _finish(result, raw, "verl gdpo")


Comparator = Callable[[int, int], Awaitable[float]]
"""``await compare(i, j)`` -> probability that sample ``i`` beats sample ``j`` (in [0, 1])."""


async def pairwise_win_rates(
    groups: Sequence[Hashable], compare: Comparator, excluded: Sequence[bool] | None = None
) -> Advantages:
    """Pref-GRPO: each sample's mean win probability against every other member of its group.

    All ``n (n - 1) / 2`` pairs of a group are compared once (``compare(i, j)`` for ``i < j``;
    ``j`` gets ``1 - p``). The win rates are the rewards; normalize them with
    :func:`group_advantages` to get advantages.

    Args:
        groups: One group id per sample.
        compare: Async comparator over sample indices.
        excluded: Samples to leave out (e.g. whose generation failed).
    """
    import asyncio

    skip = list(excluded) if excluded is not None else [False] * len(groups)
    members = _by_group([None if s else 0.0 for s in skip], groups)
    pairs = [(i, j) for m in members.values() for a, i in enumerate(m) for j in m[a + 1:]]
    probs = await asyncio.gather(*(compare(i, j) for i, j in pairs))
    wins: dict[int, float] = defaultdict(float)
    for (i, j), p in zip(pairs, probs, strict=True):
        p = min(1.0, max(0.0, float(p)))
        wins[i] += p
        wins[j] += 1.0 - p
    result = Advantages(values=[None] * len(groups), excluded=sum(skip),
                        extra={"comparisons": len(pairs)})
    for m in members.values():
        result.groups += 1
        if len(m) == 1:
            result.singleton_groups += 1
        for i in m:
            result.values[i] = 0.5 if len(m) == 1 else wins[i] / (len(m) - 1)
    return result


async def tournament_scores(
    groups: Sequence[Hashable], compare: Comparator, seed: int = 0,
    excluded: Sequence[bool] | None = None,
) -> Advantages:
    """ArenaRL-style seeded single-elimination tournament inside each group: O(n) comparisons.

    Members are shuffled with ``seed`` and paired; the winner of each match (``compare(i, j) >
    0.5`` means ``i`` wins, an exact 0.5 is a seeded coin flip) advances, an odd member out
    gets a bye. A sample's score is the number
    of rounds it survived divided by the number of rounds, so the champion gets 1.0 and
    first-round losers 0.0. Rounds run their matches concurrently.

    Args:
        groups: One group id per sample.
        compare: Async comparator over sample indices.
        seed: Shuffle seed (same seed, same bracket).
        excluded: Samples to leave out.
    """
    import asyncio

    skip = list(excluded) if excluded is not None else [False] * len(groups)
    members = _by_group([None if s else 0.0 for s in skip], groups)
    rng = random.Random(seed)
    result = Advantages(values=[None] * len(groups), excluded=sum(skip))
    comparisons = 0
    for m in members.values():
        result.groups += 1
        alive = list(m)
        rng.shuffle(alive)
        survived = dict.fromkeys(m, 0)
        rounds = 0
        while len(alive) > 1:
            rounds += 1
            matches = [(alive[k], alive[k + 1]) for k in range(0, len(alive) - 1, 2)]
            probs = await asyncio.gather(*(compare(i, j) for i, j in matches))
            comparisons += len(matches)
            # an exact tie is settled by the seeded coin, not by bracket position
            winners = [i if p > 0.5 else j if p < 0.5 else rng.choice((i, j))
                       for (i, j), p in zip(matches, probs, strict=True)]
            if len(alive) % 2:
                winners.append(alive[-1])
            for i in winners:
                survived[i] += 1
            alive = winners
        if rounds == 0:
            result.singleton_groups += 1
        for i in m:
            result.values[i] = 0.5 if rounds == 0 else survived[i] / rounds
    result.extra["comparisons"] = comparisons
    return result
