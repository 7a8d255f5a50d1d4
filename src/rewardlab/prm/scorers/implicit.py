"""Implicit PRM: step rewards from the log-likelihood ratio of a policy and a reference model.

"Free Process Rewards without Process Labels": a model trained with an outcome-level,
DPO-style objective defines a step reward
``r_t = beta * sum over the tokens of step t of (log pi(y_i | y_<i) - log pi_ref(y_i | y_<i))``.
Without a reference model this is ``beta * log pi(step t | context)`` (a likelihood PRM).
Step scores are these real numbers (not probabilities): use ``threshold=0`` with them.

Per-token log-probabilities come from :mod:`rewardlab.local.causal_lm` (shared with the
implicit DPO reward); each step is scored as the continuation of the prompt and the steps
before it, so every token is attributed to exactly one step.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from rewardlab.prm.reward import StepItem
from rewardlab.prm.scorers import SCORERS, resolve_local_model


class ImplicitScorer:
    """Step rewards ``beta * log(pi / pi_ref)`` summed over each step's tokens.

    Args:
        model: The policy / implicit PRM (a causal LM folder).
        ref_model: The reference model folder (``None``: reference-free, ``beta * log pi``).
        beta: The DPO temperature.
        step_separator: Joins the steps in the model input (belongs to the step it follows).
        prompt_separator: Between the prompt and the first step.
        dtype: Model dtype (``float32`` is exact on CPU).
        device: torch device.
        max_length: Token limit (default: the model's); the context's start is cut first.
    """

    def __init__(
        self,
        model: str,
        ref_model: str | None = None,
        *,
        beta: float = 0.05,
        step_separator: str = "\n\n",
        prompt_separator: str = "\n",
        dtype: str = "float32",
        device: str = "cpu",
        max_length: int | None = None,
    ) -> None:
        if not math.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a positive number, got {beta}")
        self.model = model
        self.ref_model = ref_model
        self.beta = float(beta)
        self.step_separator = step_separator
        self.prompt_separator = prompt_separator
        self.dtype = dtype
        self.device = device
        self.max_length = max_length

    def rows(self, prompt: str, steps: list[str]) -> tuple[list[str], list[str]]:
        """(contexts, continuations): one row per step."""
        contexts, continuations = [], []
        prefix = prompt + self.prompt_separator if prompt else ""
        for t, step in enumerate(steps):
            last = t == len(steps) - 1
            cont = step if last else step + self.step_separator
            contexts.append(prefix)
            continuations.append(cont)
            prefix += cont
        return contexts, continuations

    def _score_sync(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        from rewardlab.local.causal_lm import continuation_logprobs, load_causal_lm

        policy = load_causal_lm(self.model, self.dtype, self.device)
        reference = (
            load_causal_lm(self.ref_model, self.dtype, self.device) if self.ref_model else None
        )
        results: list[list[float] | BaseException] = []
        for sample, steps in items:
            try:
                contexts, conts = self.rows(sample.prompt_text, steps)
                kw: dict[str, Any] = {"max_length": self.max_length}
                pol = continuation_logprobs(policy, contexts, conts, **kw)
                ref = continuation_logprobs(reference, contexts, conts, **kw) if reference else None
            except ValueError as exc:
                results.append(exc)
                continue
            scores = []
            for t, lp in enumerate(pol):
                ratio = sum(lp) - (sum(ref[t]) if ref is not None else 0.0)
                scores.append(self.beta * ratio)
            results.append(scores)
        return results

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        return await asyncio.to_thread(self._score_sync, items)

    def close(self) -> None:
        """Models are shared per process by ``load_causal_lm``; nothing to release here."""


@SCORERS.register("implicit")
def implicit(
    model: str,
    ref_model: str | None = None,
    beta: float = 0.05,
    step_separator: str | None = None,
    device: str = "cpu",
    max_length: int | None = None,
) -> ImplicitScorer:
    """An implicit PRM: ``beta * log(pi / pi_ref)`` over each step's tokens (step scores are
    log-ratios, so set ``threshold: 0``).

    Args:
        model: The DPO-style trained model: a model folder or hub name.
        ref_model: The reference model (``None``: reference-free).
        beta: The DPO temperature.
        step_separator: Joins the steps in the model input (default ``"\\n\\n"``).
        device: torch device.
        max_length: The model's context in tokens (default: read from the model).
    """
    return ImplicitScorer(
        resolve_local_model(model),
        resolve_local_model(ref_model, "reference model") if ref_model is not None else None,
        beta=beta, step_separator=step_separator or "\n\n", device=device,
        max_length=max_length,
    )
