"""Likelihood-based rewards for tasks without a checker.

* ``rlpr`` (RLPR): the mean per-token probability of the *reference* answer, placed after the
  response's reasoning (its own final answer removed). Optional debiasing subtracts the same
  probability without the reasoning and clips to ``[0, 1]``.
* ``answer_confidence`` (CRew-style): the mean per-token probability of the response's *own*
  final answer after its reasoning.
* ``follow_up_likelihood`` (FLR): how much more likely a satisfied user follow-up ("Thanks,
  that's right") is after the response than a dissatisfied one, as a difference of mean token
  log-probabilities.

All run on any :class:`~rewardlab.backends.llm.LLMBackend` that scores continuations: a local
transformers model, or an OpenAI-compatible server through completions with ``echo`` and
``logprobs`` (vLLM, llama.cpp).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rewardlab.backends.llm import BackendRef, ContinuationScore, LLMBackend, build_backend
from rewardlab.registry import register
from rewardlab.reward import Reward, error_outcome
from rewardlab.types import Outcome, Sample, Status

# Where a response states its final answer, most specific first. The answer is the text after
# the marker (or inside \boxed{}), the reasoning is everything before the marker.
ANSWER_PATTERNS: tuple[str, ...] = (
    r"<answer>(?P<answer>.*?)</answer>",
    r"\\boxed\{(?P<answer>(?:[^{}]|\{[^{}]*\})*)\}",
    r"####\s*(?P<answer>[^\n]+)",
    r"(?i)\b(?:final answer|answer)\s*[:\uff1a]\s*(?P<answer>[^\n]+)",
    r"(?m)^\s*A\s*:\s*(?P<answer>[^\n]+)",
    r"(?i)the (?:final )?answer is[:\s]*(?P<answer>[^\n]+?)\.?\s*$",
)


@dataclass(frozen=True)
class SplitResponse:
    """A response cut into its reasoning and its final answer."""

    reasoning: str
    answer: str


def split_answer(response: str, patterns: Sequence[str] = ANSWER_PATTERNS) -> SplitResponse | None:
    """The reasoning and final answer of a response (the last match of the first pattern that
    matches), or ``None`` when no answer marker is found."""
    for pattern in patterns:
        matches = list(re.finditer(pattern, response, re.DOTALL if "<answer>" in pattern else 0))
        if matches:
            last = matches[-1]
            answer = last.group("answer").strip()
            if answer:
                return SplitResponse(response[: last.start()].rstrip(), answer)
    return None


class _LikelihoodReward(Reward):
    def __init__(self, backend: LLMBackend | dict, user_prefix: str, assistant_prefix: str):
        self.backend = build_backend(backend)
        self.user_prefix = user_prefix
        self.assistant_prefix = assistant_prefix

    def transcript(self, sample: Sample, response: str) -> str:
        """The text the model reads: the prompt as a user turn, then the response so far."""
        return f"{self.user_prefix}{sample.prompt_text.strip()}\n{self.assistant_prefix}{response}"

    async def _score_all(self, pairs: list[tuple[str, str]]) -> list[ContinuationScore]:
        return await self.backend.score_continuations(pairs)


@register("rlpr")
class RLPRReward(_LikelihoodReward):
    """RLPR: mean token probability of the reference answer after the response's reasoning.

    The response's own final answer (``\\boxed{}``, ``####``, ``Answer:``, ``<answer>``...) is
    removed; the reference follows ``answer_prefix``. A response with no answer marker is scored
    with its whole text as reasoning.

    Args:
        backend: A backend that scores continuations (transformers, or an OpenAI-compatible
            server with completions ``echo`` + ``logprobs``).
        answer_prefix: Text between the reasoning and the reference answer.
        debias: Subtract the reference's probability without the reasoning and clip to [0, 1].
        user_prefix: Label before the prompt in the transcript.
        assistant_prefix: Label before the response.
    """

    def __init__(
        self,
        backend: BackendRef,
        answer_prefix: str = "\nThe answer is ",
        debias: bool = False,
        user_prefix: str = "User: ",
        assistant_prefix: str = "Assistant: ",
    ) -> None:
        super().__init__(backend, user_prefix, assistant_prefix)
        self.answer_prefix = answer_prefix
        self.debias = debias

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(samples)
        pairs, owners = [], []
        for i, s in enumerate(samples):
            if s.reference is None or not str(s.reference).strip():
                outcomes[i] = Outcome.fail(Status.BAD_REFERENCE, "RLPR needs a reference answer")
                continue
            split = split_answer(s.response)
            reasoning = split.reasoning if split else s.response.rstrip()
            reference = str(s.reference).strip()
            pairs.append((self.transcript(s, reasoning) + self.answer_prefix, reference))
            owners.append((i, "with", split is not None))
            if self.debias:
                pairs.append((self.transcript(s, "") + self.answer_prefix.lstrip("\n"),
                              reference))
                owners.append((i, "without", split is not None))
        try:
            scores = await self._score_all(pairs) if pairs else []
        except Exception as exc:
            failed = error_outcome(exc, self.describe())
            return [o or failed for o in outcomes]
        probs: dict[int, dict[str, float]] = {}
        found: dict[int, bool] = {}
        for (i, kind, had_answer), score in zip(owners, scores, strict=True):
            probs.setdefault(i, {})[kind] = score.mean_prob
            found[i] = had_answer
        for i, p in probs.items():
            if self.debias:
                value = min(1.0, max(0.0, p["with"] - p["without"]))
                outcomes[i] = Outcome.ok(value, "reference probability gain from reasoning",
                                         prob=p["with"], prob_without_reasoning=p["without"],
                                         answer_found=found[i])
            else:
                outcomes[i] = Outcome.ok(p["with"], "mean reference-token probability",
                                         prob=p["with"], answer_found=found[i])
        return [o for o in outcomes if o is not None]


@register("answer_confidence")
class AnswerConfidenceReward(_LikelihoodReward):
    """Confidence: mean token probability of the response's own final answer after its
    reasoning. A response without a recognisable final answer is ``unparseable``.

    Args:
        backend: A backend that scores continuations.
        user_prefix: Label before the prompt in the transcript.
        assistant_prefix: Label before the response.
    """

    def __init__(
        self,
        backend: BackendRef,
        user_prefix: str = "User: ",
        assistant_prefix: str = "Assistant: ",
    ) -> None:
        super().__init__(backend, user_prefix, assistant_prefix)

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(samples)
        pairs, owners = [], []
        for i, s in enumerate(samples):
            split = split_answer(s.response)
            if split is None:
                outcomes[i] = Outcome.fail(Status.UNPARSEABLE, "no final answer in the response")
                continue
            # Score the answer where it stands: everything before it is context.
            cut = s.response.rfind(split.answer)
            pairs.append((self.transcript(s, s.response[:cut]), split.answer))
            owners.append(i)
        try:
            scores = await self._score_all(pairs) if pairs else []
        except Exception as exc:
            failed = error_outcome(exc, self.describe())
            return [o or failed for o in outcomes]
        for i, score in zip(owners, scores, strict=True):
            outcomes[i] = Outcome.ok(score.mean_prob, "mean answer-token probability",
                                     mean_logprob=score.mean_logprob,
                                     answer_tokens=len(score.logprobs))
        return [o for o in outcomes if o is not None]


POSITIVE_FOLLOW_UPS: tuple[str, ...] = (
    "Thank you, that is exactly what I needed.",
    "Great answer, that's correct and very helpful!",
    "Perfect, thanks for the clear explanation.",
)
NEGATIVE_FOLLOW_UPS: tuple[str, ...] = (
    "That's wrong.",
    "This doesn't answer my question at all.",
    "That is not helpful, please try again.",
)


@register("follow_up_likelihood")
class FollowUpLikelihoodReward(_LikelihoodReward):
    """FLR: mean token log-probability of satisfied user follow-ups after the response minus
    that of dissatisfied ones (higher: the model expects the user to be satisfied).

    Args:
        backend: A backend that scores continuations.
        positive: Follow-ups that signal satisfaction.
        negative: Follow-ups that signal dissatisfaction.
        user_prefix: Label before user turns.
        assistant_prefix: Label before the response.
    """

    def __init__(
        self,
        backend: BackendRef,
        positive: list[str] = list(POSITIVE_FOLLOW_UPS),  # noqa: B006 - copied, never mutated
        negative: list[str] = list(NEGATIVE_FOLLOW_UPS),  # noqa: B006
        user_prefix: str = "User: ",
        assistant_prefix: str = "Assistant: ",
    ) -> None:
        super().__init__(backend, user_prefix, assistant_prefix)
        if not positive or not negative:
            raise ValueError("give at least one positive and one negative follow-up")
        self.positive = list(positive)
        self.negative = list(negative)

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        pairs = []
        for s in samples:
            context = f"{self.transcript(s, s.response.strip())}\n{self.user_prefix}"
            pairs += [(context, f) for f in self.positive + self.negative]
        scores = await self._score_all(pairs)
        per = len(self.positive) + len(self.negative)
        outcomes = []
        for n in range(len(samples)):
            chunk = scores[n * per:(n + 1) * per]
            pos = [c.mean_logprob for c in chunk[: len(self.positive)]]
            neg = [c.mean_logprob for c in chunk[len(self.positive):]]
            mean_pos, mean_neg = sum(pos) / len(pos), sum(neg) / len(neg)
            outcomes.append(Outcome.ok(mean_pos - mean_neg,
                                       "follow-up log-likelihood: satisfied minus dissatisfied",
                                       positive_logprob=mean_pos, negative_logprob=mean_neg))
        return outcomes
