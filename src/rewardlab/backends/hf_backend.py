"""An in-process transformers backend: the same calls as the OpenAI-compatible one (chat
generation with log-probabilities, structured output by parsing text, continuation scoring) on
a local Hugging Face causal LM. Needs the ``models`` extra (torch, transformers).

Models load once per process through :func:`rewardlab.local.causal_lm.load_causal_lm`, and
continuation scoring reuses its batched :func:`~rewardlab.local.causal_lm.continuation_logprobs`.
Work runs in a thread so the event loop stays responsive; forward passes are serialized by the
model's lock (torch already uses every core for one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from rewardlab.backends.llm import (
    BACKENDS,
    ChatResult,
    ContinuationScore,
    LLMBackend,
    Messages,
    TokenLogprob,
)


def render_transcript(messages: Messages) -> str:
    """A plain ``Role: content`` transcript ending with ``Assistant:``, for models without a chat
    template (base models)."""
    lines = [f"{str(m['role']).capitalize()}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


@BACKENDS.register("transformers")
class TransformersBackend(LLMBackend):
    """A local Hugging Face causal LM as an :class:`~rewardlab.backends.llm.LLMBackend`.

    Args:
        model: A model folder (or hub id where a hub is reachable).
        dtype: ``float32`` (exact on CPU), ``bfloat16``, ``float16`` or ``auto``.
        device: A torch device string.
        chat_template: A Jinja chat template overriding the tokenizer's; without either, a plain
            ``User: ...`` / ``Assistant:`` transcript is used.
        default_max_tokens: ``max_tokens`` when a call gives none.
        seed: Base seed for sampling (each ``sample_index`` adds to it, so samples differ but
            runs repeat).
        max_length: Token limit when scoring continuations (default: the model's); longer
            contexts lose their start.
    """

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "float32",
        device: str = "cpu",
        chat_template: str | None = None,
        default_max_tokens: int = 256,
        seed: int = 0,
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        if not model:
            raise ValueError("model is required")
        from rewardlab.reward_models.paths import resolve_model

        self.model = resolve_model(model, "backend model")
        self.dtype = dtype
        self.device = device
        self.chat_template = chat_template
        self.default_max_tokens = default_max_tokens
        self.seed = seed
        if max_length is not None and max_length < 2:
            raise ValueError(f"max_length must be >= 2, got {max_length}")
        self.max_length = max_length

    def _lm(self) -> Any:
        from rewardlab.local.causal_lm import load_causal_lm

        return load_causal_lm(self.model, self.dtype, self.device)

    def render(self, messages: Messages) -> str:
        """The prompt text for chat messages (chat template, else a plain transcript)."""
        tokenizer = self._lm().tokenizer
        template = self.chat_template or getattr(tokenizer, "chat_template", None)
        if template:
            return tokenizer.apply_chat_template(
                [dict(m) for m in messages], chat_template=template, tokenize=False,
                add_generation_prompt=True,
            )
        return render_transcript(messages)

    async def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        logprobs: bool = False,
        top_logprobs: int | None = None,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        sample_index: int = 0,
    ) -> ChatResult:
        """Generate a reply in process (see :meth:`LLMBackend.chat`)."""
        return await asyncio.to_thread(
            self._generate, list(messages), max_tokens or self.default_max_tokens,
            temperature or 0.0, logprobs, top_logprobs or 0, list(stop or []),
            (seed if seed is not None else self.seed) + sample_index,
        )

    def _generate(
        self, messages: list[Any], max_tokens: int, temperature: float, want_logprobs: bool,
        top_k: int, stop: list[str], seed: int,
    ) -> ChatResult:
        import torch

        lm = self._lm()
        tokenizer = lm.tokenizer
        text = self.render(messages)
        with lm.tokenizer_lock:  # shared tokenizer: see CausalLM.tokenizer_lock
            inputs = tokenizer(text, return_tensors="pt")
        device = next(lm.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        prompt_len = int(inputs["input_ids"].shape[1])
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "do_sample": temperature > 0,
            "return_dict_in_generate": True,
            "output_logits": want_logprobs,
            "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id,
        }
        if temperature > 0:
            kwargs["temperature"] = temperature
            kwargs["top_k"] = 0  # plain temperature sampling
        else:  # greedy: clear sampling defaults from generation_config to avoid warnings
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=tokenizer)
        # stop strings make generate() use the tokenizer: hold its lock too
        with lm.lock, lm.tokenizer_lock, torch.inference_mode():
            torch.manual_seed(seed)
            out = lm.model.generate(**inputs, **kwargs)
        new_ids = out.sequences[0, prompt_len:].tolist()
        eos = set(tokenizer.all_special_ids)
        while new_ids and new_ids[-1] in eos:
            new_ids.pop()  # the end-of-turn token is not part of the reply text
        text = tokenizer.decode(new_ids, skip_special_tokens=True)
        for s in stop:
            if s in text:
                text = text[: text.index(s)]
        tokens = None
        if want_logprobs:
            tokens = []
            for step, token_id in enumerate(new_ids):
                lp = torch.log_softmax(out.logits[step][0].float(), dim=-1)
                top = ()
                if top_k:
                    values, ids = lp.topk(top_k)
                    top = tuple((tokenizer.decode([int(i)]), float(v))
                                for v, i in zip(values, ids, strict=True))
                tokens.append(TokenLogprob(tokenizer.decode([token_id]), float(lp[token_id]), top))
            tokens = tuple(tokens)
        finish = "length" if len(out.sequences[0]) - prompt_len >= max_tokens else "stop"
        self.stats.add_call(prompt_len, len(new_ids), 0.0)
        return ChatResult(text=text, finish_reason=finish, prompt_tokens=prompt_len,
                          completion_tokens=len(new_ids), logprobs=tokens, model=self.model)

    async def continuation_logprobs(self, context: str, continuation: str) -> ContinuationScore:
        """Log-probabilities of the continuation's tokens after ``context``."""
        return (await self.score_continuations([(context, continuation)]))[0]

    async def score_continuations(
        self, pairs: Sequence[tuple[str, str]]
    ) -> list[ContinuationScore]:
        """Score many pairs in batched forward passes (issue 8's ``continuation_logprobs``)."""
        return await asyncio.to_thread(self._score, list(pairs))

    def _score(self, pairs: list[tuple[str, str]]) -> list[ContinuationScore]:
        from rewardlab.local.causal_lm import continuation_logprobs, encode_pair

        for _, continuation in pairs:
            if not continuation:
                raise ValueError("continuation must not be empty")
        lm = self._lm()
        contexts = [c for c, _ in pairs]
        continuations = [y for _, y in pairs]
        limit = self.max_length or lm.max_length
        values = continuation_logprobs(lm, contexts, continuations, max_length=limit)
        results = []
        for (context, continuation), row in zip(pairs, values, strict=True):
            with lm.tokenizer_lock:  # shared tokenizer: see CausalLM.tokenizer_lock
                ids, start, _ = encode_pair(lm.tokenizer, context, continuation, limit)
                texts = [lm.tokenizer.decode([i]) for i in ids[start:]]
            results.append(ContinuationScore(
                tuple(TokenLogprob(t, float(v)) for t, v in zip(texts, row, strict=True)),
                prompt_tokens=len(ids),
            ))
            self.stats.add_call(len(ids), 0, 0.0)
        return results
