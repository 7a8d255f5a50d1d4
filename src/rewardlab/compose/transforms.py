"""Rewards that reshape another reward's scores: PAR, LSC, delta, clip, affine, z-score, rank.

Each transform wraps one ``reward``; failed outcomes pass through unchanged (a transform never
invents a score for a failure). Transforms nest to any depth: each keeps its child's details and
records the score it received as ``details["raw_score"]`` (the innermost raw score stays at
``details["raw_scores"][0]``, one entry per level). A reshaped score that overflows, or a math
error on one sample, fails only that sample (``error``); the rest of the batch is unaffected.

PAR, LSC and delta centre the score on a *reference reward* ``r_ref``, taken from one of four
places (``reference``):

* ``response``: the same reward's score of a reference response (text, or a list of texts
  averaged over, at ``metadata[reference_key]``), scored in the same batch;
* ``quantile``: the ``quantile`` of the ok scores of the samples sharing the prompt in the batch
  (``Sample.group``, else the prompt text): a batch statistic standing in for a reference;
* ``distribution``: the ``quantile`` of a reference distribution of scores given by the user at
  ``metadata[reference_key]`` (a list of numbers), the LSC paper's form: the paper centres on a
  quantile of the *reference policy's* reward distribution for the prompt;
* ``metadata``: a precomputed number at ``metadata[reference_key]``.
"""

from __future__ import annotations

import functools
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal

from rewardlab.compose import stats
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.spec import RewardRef
from rewardlab.types import Outcome, Sample, Status

ReferenceSource = Literal["response", "quantile", "metadata", "distribution"]


def prompt_key(sample: Sample) -> Hashable:
    """The key grouping samples of the same prompt: ``Sample.group``, else the prompt text."""
    return ("group", sample.group) if sample.group is not None else ("prompt", sample.prompt_text)


def sigmoid(x: float) -> float:
    """Numerically stable logistic function."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def log_sigmoid(x: float) -> float:
    """Numerically stable ``log(sigmoid(x))`` (always <= 0, finite for finite x)."""
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile with linear interpolation (numpy's default method)."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return stats.interpolate(ordered[lo], ordered[hi], pos - lo)


def reshaped(outcome: Outcome, value: float, where: str, **extra: Any) -> Outcome:
    """The ok ``outcome`` with its score replaced by ``value``, keeping its reason and details.

    ``raw_score`` becomes the score this level received and ``raw_scores`` lists the received
    scores from the innermost level outwards, so transforms of transforms never collide on a
    detail key. A non-finite ``value`` (overflow) fails this one sample with ``error``.
    """
    chain = [*outcome.details.get("raw_scores", ()), outcome.score]
    details = {**outcome.details, **extra, "raw_score": outcome.score, "raw_scores": chain}
    if not isinstance(value, int | float) or not math.isfinite(value):
        return Outcome.fail(Status.ERROR, f"{where}: the reshaped score is not finite ({value}) "
                            f"for score {outcome.score}", **details)
    return Outcome.ok(value, outcome.reason, **details)


def safely(outcome: Outcome, where: str, compute: Callable[[], float], **extra: Any) -> Outcome:
    """:func:`reshaped` of ``compute()``; an arithmetic error fails only this sample."""
    try:
        value = compute()
    except (ArithmeticError, ValueError) as exc:
        return Outcome.fail(Status.ERROR, f"{where}: {type(exc).__name__}: {exc}"[:500],
                            **{**outcome.details, "raw_score": outcome.score})
    return reshaped(outcome, value, where, **extra)


class Transform(Reward):
    """Base of single-reward transforms: score the wrapped reward, reshape the ok scores.

    Subclasses implement :meth:`transform_batch` (batch-aware) or :meth:`transform`.

    Args:
        reward: The reward whose scores are transformed.
    """

    def __init__(self, reward: RewardRef) -> None:
        self.reward = reward

    def transform(self, score: float) -> float:
        """Reshape one score."""
        raise NotImplementedError

    def transform_batch(self, samples: list[Sample], outcomes: list[Outcome]) -> list[Outcome]:
        """Reshape a batch's outcomes (failures unchanged)."""
        return [safely(o, self.describe(), functools.partial(self.transform, o.score))
                if o.is_ok else o for o in outcomes]

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        return self.transform_batch(samples, await self.reward.ascore(samples))

    def close(self) -> None:
        self.reward.close()


@register("affine")
class Affine(Transform):
    """``scale * score + shift``.

    Args:
        reward: The reward to transform.
        scale: Multiplier.
        shift: Offset added after scaling.
    """

    def __init__(self, reward: RewardRef, scale: float = 1.0, shift: float = 0.0) -> None:
        super().__init__(reward)
        self.scale, self.shift = float(scale), float(shift)

    def transform(self, score: float) -> float:
        return self.scale * score + self.shift


@register("clip")
class Clip(Transform):
    """Clip scores into ``[low, high]`` (bounded rewards resist hacking; PAR principle 1).

    Args:
        reward: The reward to transform.
        low: Lower bound (``None``: unbounded).
        high: Upper bound (``None``: unbounded).
    """

    def __init__(self, reward: RewardRef, low: float | None = None,
                 high: float | None = None) -> None:
        super().__init__(reward)
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip needs low <= high, got {low} > {high}")
        self.low, self.high = low, high

    def transform(self, score: float) -> float:
        if self.low is not None:
            score = max(self.low, score)
        if self.high is not None:
            score = min(self.high, score)
        return score


@register("zscore")
class ZScore(Transform):
    """Standardize ok scores over the batch or per prompt: ``(r - mean) / (std + eps)``.

    Uses the population std; a set with no spread maps to 0.

    Args:
        reward: The reward to transform.
        by: ``batch`` or ``prompt`` (per ``Sample.group``, else per prompt text).
        eps: Added to the std.
    """

    def __init__(self, reward: RewardRef, by: Literal["batch", "prompt"] = "batch",
                 eps: float = 1e-6) -> None:
        super().__init__(reward)
        self.by, self.eps = by, float(eps)

    def transform_batch(self, samples: list[Sample], outcomes: list[Outcome]) -> list[Outcome]:
        result = list(outcomes)
        for members in _partition(samples, outcomes, self.by).values():
            values = [outcomes[i].score for i in members]
            flat = max(values) == min(values)
            z = [0.0] * len(values) if flat else stats.standardize(values, self.eps, ddof=0)
            for i, value in zip(members, z, strict=True):
                result[i] = reshaped(outcomes[i], value, self.describe())
        return result


@register("rank")
class Rank(Transform):
    """Replace scores by their rank in [0, 1] over the batch or per prompt (ties averaged).

    A set of one gets 0.5.

    Args:
        reward: The reward to transform.
        by: ``batch`` or ``prompt``.
    """

    def __init__(self, reward: RewardRef, by: Literal["batch", "prompt"] = "batch") -> None:
        super().__init__(reward)
        self.by = by

    def transform_batch(self, samples: list[Sample], outcomes: list[Outcome]) -> list[Outcome]:
        result = list(outcomes)
        for members in _partition(samples, outcomes, self.by).values():
            ordered = sorted(members, key=lambda i: outcomes[i].score)
            n, pos = len(ordered), 0
            while pos < n:
                end = pos
                while end + 1 < n and outcomes[ordered[end + 1]].score == \
                        outcomes[ordered[pos]].score:
                    end += 1
                value = 0.5 if n == 1 else (pos + end) / 2 / (n - 1)
                for i in ordered[pos:end + 1]:
                    result[i] = reshaped(outcomes[i], value, self.describe())
                pos = end + 1
        return result


def _partition(samples: list[Sample], outcomes: list[Outcome], by: str) -> dict[Hashable, list]:
    parts: dict[Hashable, list[int]] = defaultdict(list)
    for i, (s, o) in enumerate(zip(samples, outcomes, strict=True)):
        if o.is_ok:
            parts[prompt_key(s) if by == "prompt" else None].append(i)
    return parts


class Centred(Transform):
    """Base of transforms of ``score - r_ref`` (see the module docstring for ``reference``).

    Args:
        reward: The reward to transform.
        reference: Where ``r_ref`` comes from: ``response``, ``quantile``, ``metadata`` or
            ``distribution``.
        reference_key: Metadata key of the reference response(s), of the reference score, or of
            the reference distribution (a list of scores).
        quantile: Which quantile to use with ``reference: quantile`` (of the batch's scores for
            the prompt) or ``reference: distribution`` (of the given reference scores).
        temperature: Divides the centred score (a smaller value sharpens the curve).
    """

    def __init__(
        self,
        reward: RewardRef,
        reference: ReferenceSource = "response",
        reference_key: str = "reference_response",
        quantile: float = 0.5,
        temperature: float = 1.0,
    ) -> None:
        super().__init__(reward)
        if reference not in ("response", "quantile", "metadata", "distribution"):
            raise ValueError("reference must be response, quantile, metadata or distribution, "
                             f"got {reference!r}")
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must be in [0, 1], got {quantile}")
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self.reference, self.reference_key = reference, reference_key
        self.quantile, self.temperature = float(quantile), float(temperature)

    def shape(self, centred: float) -> float:
        """Map one centred score ``(r - r_ref) / temperature`` to the reward."""
        raise NotImplementedError

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        if self.reference == "quantile":
            outcomes = await self.reward.ascore(samples)
            refs = self._quantile_refs(samples, outcomes)
        elif self.reference in ("metadata", "distribution"):
            outcomes = await self.reward.ascore(samples)
            refs = [self._metadata_ref(s) for s in samples]
        else:
            outcomes, refs = await self._scored_with_reference_responses(samples)
        result = []
        for o, ref in zip(outcomes, refs, strict=True):
            if not o.is_ok:
                result.append(o)
            elif isinstance(ref, Outcome):
                result.append(ref)
            else:
                value = functools.partial(self._value, o.score, ref)
                result.append(safely(o, self.describe(), value, reference_scores=ref))
        return result

    def _value(self, score: float, refs: list[float]) -> float:
        return stats.mean([self.shape((score - r) / self.temperature) for r in refs])

    async def _scored_with_reference_responses(self, samples: list[Sample]):
        texts: list[list[str] | Outcome] = []
        extra: list[Sample] = []
        for s in samples:
            value = s.metadata.get(self.reference_key)
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list | tuple) or not value or \
                    not all(isinstance(v, str) for v in value):
                texts.append(Outcome.fail(Status.BAD_REFERENCE, f"metadata[{self.reference_key!r}]"
                                          " must hold a reference response or a list of them"))
                continue
            texts.append(list(value))
            extra.extend(Sample(response=v, prompt=s.prompt, reference=s.reference,
                                metadata=s.metadata, group=s.group, id=s.id) for v in value)
        scored = await self.reward.ascore(list(samples) + extra)
        outcomes, ref_outcomes = scored[:len(samples)], iter(scored[len(samples):])
        refs: list[list[float] | Outcome] = []
        for t in texts:
            if isinstance(t, Outcome):
                refs.append(t)
                continue
            mine = [next(ref_outcomes) for _ in t]
            bad = next((r for r in mine if not r.is_ok), None)
            refs.append(Outcome.fail(bad.status, f"reference response: {bad.reason}"[:500])
                        if bad else [r.score for r in mine])
        return outcomes, refs

    def _metadata_ref(self, sample: Sample) -> list[float] | Outcome:
        value = sample.metadata.get(self.reference_key)
        if self.reference == "distribution":
            return self._distribution_ref(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            return Outcome.fail(Status.BAD_REFERENCE,
                                f"metadata[{self.reference_key!r}] must be a finite number, "
                                f"got {value!r}"[:200])
        return [float(value)]

    def _distribution_ref(self, value: Any) -> list[float] | Outcome:
        if not isinstance(value, list | tuple) or not value or any(
                isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
                for v in value):
            return Outcome.fail(Status.BAD_REFERENCE,
                                f"metadata[{self.reference_key!r}] must be a non-empty list of "
                                f"finite reference scores, got {value!r}"[:200])
        return [quantile([float(v) for v in value], self.quantile)]

    def _quantile_refs(self, samples: list[Sample], outcomes: list[Outcome]) -> list[Any]:
        by_prompt = _partition(samples, outcomes, "prompt")
        refs: dict[Hashable, float] = {
            key: quantile([outcomes[i].score for i in members], self.quantile)
            for key, members in by_prompt.items()}
        return [[refs[prompt_key(s)]] if o.is_ok else None for s, o in zip(samples, outcomes,
                                                                           strict=True)]


_TINY = sys.float_info.min
_BELOW_ONE = math.nextafter(1.0, 0.0)


@register("par")
class Par(Centred):
    """Preference As Reward: ``sigmoid(r - r_ref)``, averaged over reference responses.

    Bounded, steep near the reference and flat far from it (PAR's three shaping principles).
    Results are kept strictly inside (0, 1) even where the float sigmoid would round to 0 or 1.
    """

    def shape(self, centred: float) -> float:
        return min(max(sigmoid(centred), _TINY), _BELOW_ONE)


@register("lsc")
class Lsc(Centred):
    """Log-sigmoid-centred reward ``log sigmoid(r - r_ref)`` (always <= 0).

    The sum of several LSC rewards (``weighted_sum`` of ``lsc`` children) is the log-probability
    that a response is good on all properties at once: a soft logical AND. The paper centres on a
    quantile of the reward distribution of the *reference policy's* responses to the prompt:
    pass those scores with ``reference: distribution``. ``reference: quantile`` uses the batch's
    own scores for the prompt instead (a stand-in when no reference samples exist).
    """

    def shape(self, centred: float) -> float:
        return log_sigmoid(centred)


@register("delta")
class Delta(Centred):
    """The centred score ``(r - r_ref) / temperature`` (a reward relative to a reference)."""

    def shape(self, centred: float) -> float:
        return centred
