"""``implicit_dpo``: the reward a DPO-trained policy implies, beta * log(pi(y|x) / pi_ref(y|x)).

A DPO policy is a reward model in disguise (Rafailov et al., 2023): its implicit reward of a
response is ``beta * (log pi(y|x) - log pi_ref(y|x))``. RewardBench scores DPO models this way.
Variants, chosen with ``aggregation``:

* ``sum``: the total log-ratio over the response tokens (the DPO reward);
* ``mean``: divided by the number of response tokens (the policy's tokenizer);
* ``length_normalized``: divided by the number of response characters, which stays comparable
  when the policy and reference tokenize differently.

Without a ``reference`` it is reference-free: ``beta * log pi(y|x)`` aggregated the same way
(SimPO-style when ``mean``).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status

Aggregation = Literal["sum", "mean", "length_normalized"]


@register("implicit_dpo")
class ImplicitDPO(Reward):
    """Implicit reward of a DPO-style policy against a reference model (or reference-free).

    Args:
        policy: Folder of the (DPO-trained) policy, a causal LM.
        reference: Folder of the reference model (usually the SFT model); ``None`` for the
            reference-free variant.
        beta: The DPO temperature the policy was trained with.
        aggregation: ``sum``, ``mean`` (per token) or ``length_normalized`` (per character).
        format: ``auto`` (the policy's chat template if it has one, else plain text), ``chat``
            or ``plain``.
        chat_template: A Jinja chat template to use instead of the tokenizer's.
        separator: Between prompt and response in ``plain`` format.
        max_length: Token limit (default: the model's); the prompt's start is cut first.
        token_budget: Padded tokens per forward pass.
        max_batch_size: Rows per forward pass.
        dtype: ``float32`` (default), ``bfloat16``, ``float16`` or ``auto``.
        num_threads: torch CPU threads for this process.
        device: torch device.
    """

    def __init__(
        self,
        policy: str,
        reference: str | None = None,
        beta: float = 0.1,
        aggregation: Aggregation = "sum",
        format: Literal["auto", "chat", "plain"] = "auto",
        chat_template: str | None = None,
        separator: str = "\n",
        max_length: int | None = None,
        token_budget: int = 8192,
        max_batch_size: int = 16,
        dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32",
        num_threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        if aggregation not in ("sum", "mean", "length_normalized"):
            raise ValueError(
                f"aggregation must be sum, mean or length_normalized; got {aggregation!r}"
            )
        if format not in ("auto", "chat", "plain"):
            raise ValueError(f"format must be auto, chat or plain; got {format!r}")
        if not math.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a positive number, got {beta}")
        from rewardlab.reward_models.paths import resolve_model

        self.policy_path = resolve_model(policy, "policy model")
        self.reference_path = resolve_model(reference, "reference model") if reference else None
        self.beta = float(beta)
        self.aggregation = aggregation
        self.format = format
        self.chat_template = chat_template
        self.separator = separator
        self.max_length = max_length
        self.token_budget = token_budget
        self.max_batch_size = max_batch_size
        self.dtype = dtype
        self.num_threads = num_threads
        self.device = device

    def describe(self) -> str:
        ref = Path(self.reference_path).name if self.reference_path else "ref-free"
        return f"implicit_dpo({Path(self.policy_path).name} vs {ref})"

    def _models(self) -> tuple[Any, Any | None]:
        from rewardlab.local.causal_lm import load_causal_lm, set_threads

        set_threads(self.num_threads)
        policy = load_causal_lm(self.policy_path, self.dtype, self.device)
        reference = (
            load_causal_lm(self.reference_path, self.dtype, self.device)
            if self.reference_path
            else None
        )
        return policy, reference

    def context(self, sample: Sample, tokenizer: Any) -> str:
        """The text the response continues: chat-formatted prompt, or prompt + separator."""
        template = self.chat_template or getattr(tokenizer, "chat_template", None)
        use_chat = self.format == "chat" or (self.format == "auto" and template)
        if use_chat:
            if not template:
                raise ValueError(f"{self.policy_path} has no chat template; pass chat_template")
            text = tokenizer.apply_chat_template(
                sample.messages, tokenize=False, add_generation_prompt=True,
                chat_template=self.chat_template,
            )
            bos = tokenizer.bos_token
            # The tokenizer adds BOS itself when encoding the context: don't double it.
            return text[len(bos) :] if bos and text.startswith(bos) else text
        prompt = sample.prompt_text
        return f"{prompt}{self.separator}" if prompt else ""

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        return await asyncio.to_thread(self.score_sync, samples)

    def score_sync(self, samples: list[Sample]) -> list[Outcome]:
        """Score samples in the calling thread."""
        from rewardlab.local.causal_lm import continuation_logprobs

        policy, reference = self._models()
        outcomes: list[Outcome | None] = [None] * len(samples)
        rows = []
        for i, s in enumerate(samples):
            if not s.response:
                outcomes[i] = Outcome.fail(Status.SKIPPED, "empty response: nothing to score")
            else:
                rows.append(i)
        with policy.tokenizer_lock:  # chat templates render through the shared tokenizer
            contexts = [self.context(samples[i], policy.tokenizer) for i in rows]
        responses = [samples[i].response for i in rows]
        kw = {"token_budget": self.token_budget, "max_batch_size": self.max_batch_size,
              "max_length": self.max_length}
        pol = continuation_logprobs(policy, contexts, responses, **kw)
        ref = continuation_logprobs(reference, contexts, responses, **kw) if reference else None
        for k, i in enumerate(rows):
            lp_pol = sum(pol[k])
            lp_ref = sum(ref[k]) if ref is not None else 0.0
            details: dict[str, Any] = {
                "logp_policy": lp_pol, "tokens": len(pol[k]), "aggregation": self.aggregation,
            }
            if ref is not None:
                details["logp_reference"] = lp_ref
                details["reference_tokens"] = len(ref[k])
            outcomes[i] = Outcome.ok(self._aggregate(lp_pol, lp_ref, len(pol[k]),
                                                     len(ref[k]) if ref else 0,
                                                     len(responses[k])), **details)
        return [o for o in outcomes if o is not None]

    def _aggregate(
        self, lp_pol: float, lp_ref: float, n_pol: int, n_ref: int, n_chars: int
    ) -> float:
        if self.aggregation == "sum":
            value = lp_pol - lp_ref
        elif self.aggregation == "mean":
            # each model's own per-token mean (identical to the per-token mean log-ratio when
            # both share a tokenizer)
            value = lp_pol / n_pol - (lp_ref / n_ref if n_ref else 0.0)
        else:
            value = (lp_pol - lp_ref) / n_chars
        return self.beta * value
