"""Pointwise judges: a rubric score with feedback (Prometheus-style), a principle-conditioned
score (RewardAnything-style), and a reasoning judge that thinks before its verdict and samples
several verdicts (RM-R1, DeepSeek-GRM style).

Each returns a score normalized to ``[0, 1]`` (``normalize=True``) or the raw score, with the raw
score, the feedback and, for several samples, every verdict and their agreement in details.
"""

from __future__ import annotations

from typing import Any, Literal

from rewardlab.backends.llm import BackendRef
from rewardlab.judges.base import Judge, prompt_text
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
    def __init__(self, backend: Any, *, low: int, high: int, normalize: bool,
                 weighted: bool = False, **kwargs: Any):
        super().__init__(backend, **kwargs)
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
        output: ``text`` or ``json`` (structured output).
        samples: Verdicts per sample (aggregated by ``aggregate``).
        aggregate: ``vote`` or ``mean``.
        temperature: Sampling temperature.
        max_tokens: Reply budget.
        max_parse_retries: Extra calls on an unparseable reply.
        screen_master_keys: Screen content-free responses (default on).
        system_prompt: Replaces the system prompt.
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
        output: Literal["text", "json"] = "text",
        samples: int = 1,
        aggregate: Literal["vote", "mean"] = "mean",
        temperature: float | None = None,
        max_tokens: int = 512,
        max_parse_retries: int = 2,
        screen_master_keys: bool = True,
        system_prompt: str | None = None,
    ) -> None:
        super().__init__(
            backend, low=low, high=high, normalize=normalize, weighted=weighted, output=output,
            samples=samples, aggregate=aggregate, temperature=temperature,
            max_tokens=max_tokens, max_parse_retries=max_parse_retries,
            screen_master_keys=screen_master_keys, system_prompt=system_prompt,
        )
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
        output: ``text`` or ``json``.
        samples: Verdicts per sample.
        aggregate: ``vote`` or ``mean``.
        temperature: Sampling temperature.
        max_tokens: Reply budget.
        max_parse_retries: Extra calls on an unparseable reply.
        screen_master_keys: Screen content-free responses (default on).
        system_prompt: Replaces the system prompt.
    """

    def __init__(
        self,
        backend: BackendRef,
        principle: str = "",
        low: int = 1,
        high: int = 10,
        normalize: bool = True,
        thinking: bool = False,
        output: Literal["text", "json"] = "text",
        samples: int = 1,
        aggregate: Literal["vote", "mean"] = "mean",
        temperature: float | None = None,
        max_tokens: int = 512,
        max_parse_retries: int = 2,
        screen_master_keys: bool = True,
        system_prompt: str | None = None,
    ) -> None:
        super().__init__(
            backend, low=low, high=high, normalize=normalize, output=output, samples=samples,
            aggregate=aggregate, temperature=temperature, max_tokens=max_tokens,
            max_parse_retries=max_parse_retries, screen_master_keys=screen_master_keys,
            system_prompt=system_prompt,
        )
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
    samples: int = 5,
    aggregate: Literal["vote", "mean"] = "vote",
    temperature: float = 0.7,
    max_tokens: int = 2048,
    max_parse_retries: int = 2,
    use_reference: bool = False,
    output: Literal["text", "json"] = "text",
    screen_master_keys: bool = True,
) -> RubricJudge:
    """Reasoning judge: thinks inside ``<think>`` tags (stripped before parsing), samples ``k``
    verdicts and aggregates them by vote or mean (RM-R1 / DeepSeek-GRM style).

    Args:
        backend: The judge model (backend spec or object).
        rubric: Criteria text or score descriptions.
        low: Lowest score.
        high: Highest score.
        samples: Verdicts sampled per response.
        aggregate: ``vote`` (majority; ties between scores average) or ``mean``.
        temperature: Sampling temperature for the ``k`` samples.
        max_tokens: Reply budget (thinking is long).
        max_parse_retries: Extra calls per sample on an unparseable reply.
        use_reference: Show ``sample.reference`` to the judge.
        output: ``text`` or ``json``.
        screen_master_keys: Screen content-free responses (default on).
    """
    return RubricJudge(
        backend, rubric=rubric, low=low, high=high, use_reference=use_reference, thinking=True,
        output=output, samples=samples, aggregate=aggregate, temperature=temperature,
        max_tokens=max_tokens, max_parse_retries=max_parse_retries,
        screen_master_keys=screen_master_keys,
    )
