"""``cosine_length``: a child reward's correctness scaled by length on a cosine schedule.

A combinator (it wraps another reward), so it lives in ``compose/``; lengths are measured with
:class:`rewardlab.verifiers.length.LengthMeter` like the other length rewards.
"""

from __future__ import annotations

import math

from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.spec import RewardRef, build_reward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers.length import LengthMeter, Unit


def cosine_scaled(length: int, max_length: int, low: float, high: float) -> float:
    """``low + (high - low) * (1 + cos(pi * min(length, max_length) / max_length)) / 2``.

    Equals ``high`` at length 0 and ``low`` at ``max_length`` (and beyond).
    """
    progress = min(length, max_length) / max_length
    return low + 0.5 * (high - low) * (1.0 + math.cos(math.pi * progress))


@register("cosine_length")
class CosineLength(Reward):
    """Length-scaled correctness with a cosine schedule (Yeo et al. 2025, "Demystifying Long
    Chain-of-Thought Reasoning in LLMs").

    A child reward decides correctness (score >= ``threshold``); with p = min(L, L_max) / L_max
    and s = (1 + cos(pi p)) / 2 (1 at length 0, 0 at L_max)::

        correct: R = min_value_correct + (max_value_correct - min_value_correct) * s
        wrong:   R = max_value_wrong   + (min_value_wrong   - max_value_wrong)   * s

    So short correct answers earn the most, and short wrong answers are punished the most
    (thinking longer is encouraged only when the answer is wrong). A child failure (e.g.
    ``unparseable``) is passed through unchanged.

    Args:
        correctness: The reward that judges correctness (a spec; default ``math``).
        max_length: L_max.
        min_value_wrong: Reward of a wrong answer of length 0.
        max_value_wrong: Reward of a wrong answer of length L_max.
        min_value_correct: Reward of a correct answer of length L_max.
        max_value_correct: Reward of a correct answer of length 0.
        threshold: Child score at or above which the answer counts as correct.
        unit: ``tokens``, ``words`` or ``chars``.
        tokenizer: Tokenizer name or path used for ``tokens`` when no count is given.
        length_key: Metadata key with a token count from the trainer.
    """

    def __init__(
        self,
        max_length: int,
        correctness: RewardRef = "math",  # type: ignore[assignment]
        min_value_wrong: float = -1.0,
        max_value_wrong: float = -0.5,
        min_value_correct: float = 0.5,
        max_value_correct: float = 1.0,
        threshold: float = 0.5,
        unit: Unit = "tokens",
        tokenizer: str | None = None,
        length_key: str = "num_tokens",
    ) -> None:
        if max_length <= 0:
            raise ValueError("max_length must be positive")
        self.correctness = build_reward(correctness)
        self.max_length = max_length
        self.wrong = (min_value_wrong, max_value_wrong)
        self.correct = (min_value_correct, max_value_correct)
        self.threshold = threshold
        self.meter = LengthMeter(unit, tokenizer, length_key)

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        verdicts = await self.correctness.ascore(samples)
        outcomes = []
        for sample, verdict in zip(samples, verdicts, strict=True):
            if not verdict.is_ok:
                outcomes.append(verdict)
                continue
            length = self.meter.measure(sample)
            if isinstance(length, str):
                outcomes.append(Outcome.fail(Status.ERROR, length))
                continue
            correct = verdict.score >= self.threshold
            if correct:
                low, high = self.correct
            else:  # short wrong answers get the most negative value
                high, low = self.wrong
            value = cosine_scaled(length, self.max_length, low, high)
            outcomes.append(Outcome.ok(value, "" if correct else "incorrect answer",
                                       length=length, correct=correct,
                                       correctness=verdict.score))
        return outcomes

    def close(self) -> None:
        self.correctness.close()
