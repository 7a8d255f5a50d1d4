"""Generative step verification: an LLM judge names the first wrong step of a solution.

The judge sees the problem and the numbered steps and answers, as a JSON object, the number of
the earliest incorrect step or 0 when every step is correct (ProcessBench's critic protocol).
Step scores follow from that verdict: 1.0 for the steps before the first error, 0.0 for it and
the steps after it (a solution is only as good as its first mistake). With ``samples > 1`` the
judge is asked several times and the step scores are averaged, which turns the verdicts into
graded scores.

The judge is any :class:`~rewardlab.backends.llm.LLMBackend` (an OpenAI-compatible server or an
in-process model), so it shares their retries, caching, budgets and structured output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from rewardlab.prm.reward import StepItem
from rewardlab.prm.scorers import SCORERS

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"first_error_step": {"type": "integer", "minimum": 0}},
    "required": ["first_error_step"],
}

DEFAULT_INSTRUCTIONS = (
    "You check math solutions step by step. Read the problem and the numbered steps. "
    "Find the earliest step that contains an error (a wrong calculation, a false claim, a "
    "misread condition or an unjustified conclusion). Answer with the number of that step, "
    "or 0 if every step is correct."
)


def verification_messages(
    question: str, steps: Sequence[str], instructions: str = DEFAULT_INSTRUCTIONS
) -> list[dict[str, str]]:
    """The judge's chat messages for one solution."""
    numbered = "\n\n".join(f"Step {i}: {s}" for i, s in enumerate(steps, start=1))
    return [
        {"role": "system", "content": instructions},
        {"role": "user", "content": f"Problem:\n{question}\n\nSolution:\n{numbered}"},
    ]


def verdict_step_scores(first_error_step: Any, n_steps: int) -> list[float]:
    """Step scores from a 1-based first-error verdict (0: no error).

    Raises:
        ValueError: the verdict is not an integer in ``[0, n_steps]``.
    """
    if isinstance(first_error_step, bool) or not isinstance(first_error_step, int):
        raise ValueError(f"the judge's first_error_step is not an integer: {first_error_step!r}")
    if not 0 <= first_error_step <= n_steps:
        raise ValueError(
            f"the judge named step {first_error_step}, but the solution has {n_steps} steps"
        )
    if first_error_step == 0:
        return [1.0] * n_steps
    return [1.0] * (first_error_step - 1) + [0.0] * (n_steps - first_error_step + 1)


class JudgeScorer:
    """Step scores from an LLM judge's first-error verdicts.

    Args:
        backend: The judge model (an ``LLMBackend``).
        samples: Verdicts per solution (averaged); > 1 needs sampling (``temperature`` > 0).
        temperature: Judge sampling temperature.
        max_tokens: Judge reply budget.
        instructions: The system prompt.
    """

    def __init__(
        self,
        backend: Any,
        *,
        samples: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 256,
        instructions: str = DEFAULT_INSTRUCTIONS,
    ) -> None:
        if samples < 1:
            raise ValueError("samples must be >= 1")
        self.backend = backend
        self.samples = samples
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.instructions = instructions

    async def _one(self, question: str, steps: list[str]) -> list[float]:
        messages = verification_messages(question, steps, self.instructions)
        runs = await asyncio.gather(
            *(
                self.backend.structured(
                    messages, VERDICT_SCHEMA, max_tokens=self.max_tokens,
                    temperature=self.temperature, sample_index=k,
                )
                for k in range(self.samples)
            )
        )
        per_run = [verdict_step_scores(r.data.get("first_error_step"), len(steps)) for r in runs]
        return [sum(col) / len(per_run) for col in zip(*per_run, strict=True)]

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        results = await asyncio.gather(
            *(self._one(s.prompt_text, steps) for s, steps in items), return_exceptions=True
        )
        return list(results)

    def close(self) -> None:
        from rewardlab.reward import run_sync

        run_sync(self.backend.aclose())


@SCORERS.register("judge")
def judge(judge: Any, judge_samples: int = 1, judge_temperature: float = 0.0) -> JudgeScorer:
    """Generative step verification: an LLM names the first wrong step.

    Args:
        judge: The LLM backend (a spec mapping such as ``{type: openai, base_url: ...,
            model: ...}``, or an ``LLMBackend``).
        judge_samples: Verdicts per solution, averaged into graded step scores.
        judge_temperature: Sampling temperature.
    """
    if judge is None:
        raise ValueError("backend 'judge' needs 'judge' (an LLM backend spec)")
    from rewardlab.backends.llm import build_backend

    return JudgeScorer(build_backend(judge), samples=judge_samples, temperature=judge_temperature)
