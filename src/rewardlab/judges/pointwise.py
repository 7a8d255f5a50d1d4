"""Pointwise judges: a rubric score with feedback (Prometheus-style), a principle-conditioned
score (RewardAnything-style), and a reasoning judge that thinks before its verdict and samples
several verdicts (RM-R1, DeepSeek-GRM style).

Each returns a score normalized to ``[0, 1]`` (``normalize=True``) or the raw score, with the raw
score, the feedback and, for several samples, every verdict and their agreement in details.
"""

from __future__ import annotations

from typing import Any

from rewardlab.backends.llm import BackendRef
from rewardlab.judges.base import Judge, JudgeOptions, prompt_text
from rewardlab.judges.grammar import ScoreGrammar, strip_thinking
from rewardlab.registry import register
from rewardlab.types import Outcome, Sample

DEFAULT_RUBRIC = (
    "How helpful, correct and complete is the response for the instruction? The lowest score "
    "means useless or wrong; the highest means fully correct, complete and clearly written."
)

RUBRIC_TEMPLATE = """Evaluate a response to an instruction against a scoring rubric.

### Instruction
{instruction}

### Response to evaluate
{response}
{reference_block}
### Scoring rubric
{rubric}

Write short feedback that assesses the response strictly by the rubric, then give the score."""

PRINCIPLE_TEMPLATE = """Evaluate how well a response follows a principle, given the instruction.

### Principle
{principle}

### Instruction
{instruction}

### Response to evaluate
{response}

Explain briefly how the response follows or violates the principle, then give the score."""

# Score judges average several verdicts; the reasoning judge samples five long ones.
SCORE_OPTIONS = JudgeOptions(aggregate="mean")
REASONING_OPTIONS = JudgeOptions(samples=5, aggregate="vote", temperature=0.7, max_tokens=2048)

THINKING_SUFFIX = (
    "\n\nFirst think step by step inside <think> and </think>; after </think>, write your "
    "final assessment."
)


def _rubric_text(rubric: Any) -> str:
    """A rubric as text: a string, or ``{"criteria": ..., "1": ..., "5": ...}`` descriptions."""
    if isinstance(rubric, str):
        return rubric.strip()
    if isinstance(rubric, dict):
        lines = [str(rubric.get("criteria", "")).strip()]
        lines += [f"Score {k}: {v}" for k, v in rubric.items() if k != "criteria"]
        return "\n".join(line for line in lines if line)
    raise ValueError(f"a rubric is a string or a mapping, got {type(rubric).__name__}")


class _ScoreJudge(Judge):
    def __init__(self, backend: Any, options: JudgeOptions, *, low: int, high: int,
                 normalize: bool, weighted: bool = False):
        super().__init__(backend, options)
        self.grammar = ScoreGrammar(low, high)
        self.low, self.high = low, high
        self.normalize = normalize
        self.weighted = weighted
        if weighted and self.output != "text":
            raise ValueError("weighted scores need output='text' (they read token logprobs)")

    def logprob_request(self) -> dict[str, Any]:
        return {"logprobs": True, "top_logprobs": 20} if self.weighted else {}

    def lowest_score(self) -> float:
        return 0.0 if self.normalize else float(self.low)

    async def _score(self, user: str) -> Outcome:
        verdict = await self.ask(user, span=self.high - self.low)
        raw = float(verdict.value)
        extra: dict[str, Any] = {}
        if self.weighted:
            # Expected score under the verdict-token distribution, averaged over the samples
            # where it could be read; the sampled verdict stays in raw_score.
            found = [self.grammar.expected_score(strip_thinking(reply), lp or ())
                     for reply, lp, v in zip(verdict.replies, verdict.logprobs, verdict.values,
                                             strict=True) if v is not None]
            found = [f for f in found if f is not None]
            if found:
                raw = sum(e for e, _ in found) / len(found)
                extra["score_distribution"] = {str(k): round(p, 4)
                                               for k, p in found[0][1].items()}
            extra["weighted"] = bool(found)
        score = (raw - self.low) / (self.high - self.low) if self.normalize else raw
        return Outcome.ok(score, f"judge score {raw:g} of {self.low}..{self.high}",
                          raw_score=float(verdict.value), expected_score=raw, **extra,
                          **verdict.details())


@register("judge_rubric")
class RubricJudge(_ScoreJudge):
    """Pointwise rubric judge: feedback then ``[RESULT] n`` on a ``low..high`` scale.

    The rubric comes from ``sample.metadata["rubric"]``, else the ``rubric`` field. With
    ``use_reference`` the sample's reference answer is shown to the judge.

    Args:
        backend: The judge model (backend spec or object).
        rubric: Criteria text, or ``{"criteria": ..., "1": description, ..., "5": ...}``.
        low: Lowest score.
        high: Highest score.
        normalize: Map the score to ``[0, 1]``.
        use_reference: Show ``sample.reference`` as a reference answer.
        thinking: Ask the judge to think inside ``<think>`` tags first (stripped before
            parsing).
        weighted: Score by the probability-weighted verdict (expected value over the score
            tokens' log-probabilities) instead of the sampled one; text output only.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`).
    """

    def __init__(
        self,
        backend: BackendRef,
        rubric: str | dict[str, str] = DEFAULT_RUBRIC,
        low: int = 1,
        high: int = 5,
        normalize: bool = True,
        use_reference: bool = False,
        thinking: bool = False,
        weighted: bool = False,
        options: JudgeOptions = SCORE_OPTIONS,
    ) -> None:
        super().__init__(backend, options, low=low, high=high, normalize=normalize,
                         weighted=weighted)
        self.rubric = _rubric_text(rubric)
        self.use_reference = use_reference
        self.thinking = thinking

    async def judge(self, sample: Sample) -> Outcome:
        rubric = _rubric_text(sample.metadata.get("rubric", self.rubric))
        reference_block = ""
        if self.use_reference and sample.reference is not None:
            reference_block = f"\n### Reference answer (scores highest)\n{sample.reference}\n"
        user = RUBRIC_TEMPLATE.format(
            instruction=prompt_text(sample), response=sample.response,
            reference_block=reference_block, rubric=rubric,
        )
        if self.thinking:
            user += THINKING_SUFFIX
        return await self._score(user)


@register("judge_principle")
class PrincipleJudge(_ScoreJudge):
    """Principle-conditioned judge: how well the response follows a natural-language principle
    (``sample.metadata["principle"]``, else the ``principle`` field), on ``low..high``.

    Args:
        backend: The judge model (backend spec or object).
        principle: The default principle.
        low: Lowest score.
        high: Highest score.
        normalize: Map the score to ``[0, 1]``.
        thinking: Ask the judge to think inside ``<think>`` tags first.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`).
    """

    def __init__(
        self,
        backend: BackendRef,
        principle: str = "",
        low: int = 1,
        high: int = 10,
        normalize: bool = True,
        thinking: bool = False,
        options: JudgeOptions = SCORE_OPTIONS,
    ) -> None:
        super().__init__(backend, options, low=low, high=high, normalize=normalize)
        self.principle = principle
        self.thinking = thinking

    async def judge(self, sample: Sample) -> Outcome:
        principle = sample.metadata.get("principle") or self.principle
        if not principle:
            return Outcome.fail("bad_reference", "no principle: set `principle` or "
                                "sample.metadata['principle']")
        user = PRINCIPLE_TEMPLATE.format(principle=principle, instruction=prompt_text(sample),
                                         response=sample.response)
        if self.thinking:
            user += THINKING_SUFFIX
        return await self._score(user)


@register("judge_reasoning")
def reasoning_judge(
    backend: BackendRef,
    rubric: str | dict[str, str] = DEFAULT_RUBRIC,
    low: int = 1,
    high: int = 5,
    use_reference: bool = False,
    options: JudgeOptions = REASONING_OPTIONS,
) -> RubricJudge:
    """Reasoning judge: thinks inside ``<think>`` tags (stripped before parsing), samples ``k``
    verdicts and aggregates them by vote or mean (RM-R1 / DeepSeek-GRM style).

    Args:
        backend: The judge model (backend spec or object).
        rubric: Criteria text or score descriptions.
        low: Lowest score.
        high: Highest score.
        use_reference: Show ``sample.reference`` to the judge.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`); by
            default 5 samples at temperature 0.7 combined by vote (ties between scores
            average), 2048 reply tokens (thinking is long).
    """
    return RubricJudge(backend, rubric=rubric, low=low, high=high, use_reference=use_reference,
                       thinking=True, options=options)
