"""The language-model backend interface that judges and likelihood rewards share.

A backend answers three kinds of question about a model:

* :meth:`LLMBackend.chat`: generate a reply to chat messages (optionally with per-token
  log-probabilities);
* :meth:`LLMBackend.structured`: generate a JSON object that matches a schema, using the
  strongest structured-output mode the server supports and falling back to parsing text;
* :meth:`LLMBackend.continuation_logprobs`: the log-probability of each token of a given
  continuation after a given text context (prompt scoring).

Built-in implementations, one module each, registered by name in :data:`BACKENDS`:
:class:`rewardlab.backends.openai_backend.OpenAIBackend` (``openai``: any OpenAI-compatible
server: vLLM, SGLang, llama.cpp, OpenAI),
:class:`rewardlab.backends.hf_backend.TransformersBackend` (``transformers``: a local Hugging
Face causal LM) and :class:`rewardlab.backends.scripted_backend.ScriptedBackend` (``scripted``:
replayed replies, for tests). Specs name a backend with a mapping such as
``{"type": "openai", "base_url": ..., "model": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import pydantic

from rewardlab.errors import RewardlabError
from rewardlab.extensions import NamedRegistry, UnknownExtension

Messages = Sequence[Mapping[str, Any]]


class LLMError(RewardlabError, RuntimeError):
    """A model call failed for good (after the allowed retries)."""


class StructuredOutputError(LLMError):
    """The model's reply could not be read as JSON matching the schema.

    Args:
        message: What went wrong.
        text: The last raw reply, for diagnostics.
    """

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One token with its log-probability and the most likely alternatives.

    Args:
        token: The token text.
        logprob: Natural-log probability of this token (``None`` where the server gives none,
            e.g. the first token of a prompt).
        top: The most likely alternatives at this position, as ``(token, logprob)`` pairs.
        offset: Character offset of the token in the scored text (prompt scoring only).
    """

    token: str
    logprob: float | None
    top: tuple[tuple[str, float], ...] = ()
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A model reply.

    Args:
        text: The reply text (thinking included if the model wrote it inline).
        reasoning: Separate reasoning text (vLLM/DeepSeek ``reasoning_content``), if any.
        finish_reason: Why generation stopped (``stop``, ``length``...).
        prompt_tokens: Tokens read, as reported by the server.
        completion_tokens: Tokens generated, as reported by the server.
        logprobs: Per-token log-probabilities of the reply, when requested.
        cached: True when the reply came from the response cache.
        model: The model name that answered.
    """

    text: str
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: tuple[TokenLogprob, ...] | None = None
    cached: bool = False
    model: str = ""


@dataclass(frozen=True, slots=True)
class StructuredResult:
    """A JSON object produced under a schema.

    Args:
        data: The parsed and validated object.
        mode: How it was obtained: ``json_schema``, ``json_object`` or ``text``.
        result: The underlying reply.
    """

    data: dict[str, Any]
    mode: str
    result: ChatResult


@dataclass(frozen=True, slots=True)
class ContinuationScore:
    """Log-probabilities of the tokens of a continuation after a context.

    Args:
        tokens: The continuation's tokens with their log-probabilities.
        prompt_tokens: Tokens read to compute them.
    """

    tokens: tuple[TokenLogprob, ...]
    prompt_tokens: int = 0

    @property
    def logprobs(self) -> list[float]:
        """The per-token log-probabilities (tokens without one are skipped)."""
        return [t.logprob for t in self.tokens if t.logprob is not None]

    @property
    def total_logprob(self) -> float:
        """Sum of the token log-probabilities: the log-likelihood of the continuation."""
        return float(sum(self.logprobs))

    @property
    def mean_logprob(self) -> float:
        """Average token log-probability."""
        values = self.logprobs
        if not values:
            raise ValueError("the continuation has no scored tokens")
        return float(sum(values) / len(values))

    @property
    def mean_prob(self) -> float:
        """Average token probability (RLPR's reward: more stable than the product)."""
        values = self.logprobs
        if not values:
            raise ValueError("the continuation has no scored tokens")
        return float(sum(math.exp(v) for v in values) / len(values))


@dataclass
class UsageStats:
    """Running totals of what a backend has done, for accounting and diagnostics.

    Cost is computed from ``price_per_million`` (``{"input": usd, "output": usd}``) when given.
    """

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    structured_modes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_call(self, prompt_tokens: int, completion_tokens: int, cost: float) -> None:
        """Record one answered request."""
        with self._lock:
            self.requests += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.cost_usd += cost

    def bump(self, name: str, by: int = 1) -> None:
        """Increment a counter (``cache_hits``, ``retries``, ``failures``)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + by)

    def add_mode(self, mode: str) -> None:
        """Record which structured-output mode answered."""
        with self._lock:
            self.structured_modes[mode] = self.structured_modes.get(mode, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        with self._lock:
            return {
                "requests": self.requests,
                "cache_hits": self.cache_hits,
                "retries": self.retries,
                "failures": self.failures,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
                "cost_usd": round(self.cost_usd, 6),
                "structured_modes": dict(self.structured_modes),
            }


class LLMBackend(ABC):
    """A language model that judges and likelihood rewards can call.

    Subclasses implement :meth:`chat` and :meth:`continuation_logprobs`; :meth:`structured`
    defaults to asking for JSON in the prompt and parsing the reply.
    """

    model: str = ""

    def __init__(self) -> None:
        self.stats = UsageStats()

    @abstractmethod
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
        """Generate one reply.

        Args:
            messages: Chat messages (``role``, ``content``).
            max_tokens: Generation budget.
            temperature: Sampling temperature (``None``: the backend's default).
            logprobs: Return per-token log-probabilities of the reply.
            top_logprobs: How many alternatives per position to return with ``logprobs``.
            stop: Stop strings.
            seed: Sampling seed, where the backend supports one.
            sample_index: Distinguishes repeated samples of the same request (k-sample
                judges), so the response cache does not return one sample k times.
        """

    async def structured(
        self,
        messages: Messages,
        schema: Mapping[str, Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        sample_index: int = 0,
    ) -> StructuredResult:
        """Generate a JSON object matching ``schema`` (a JSON Schema of type object).

        Raises:
            StructuredOutputError: no valid object could be read from the reply.
        """
        result = await self.chat(
            with_json_instruction(messages, schema),
            max_tokens=max_tokens,
            temperature=temperature,
            sample_index=sample_index,
        )
        data = parse_json_object(result.text, schema)
        self.stats.add_mode("text")
        return StructuredResult(data=data, mode="text", result=result)

    @abstractmethod
    async def continuation_logprobs(self, context: str, continuation: str) -> ContinuationScore:
        """Log-probabilities of ``continuation``'s tokens right after the text ``context``.

        The two are tokenized together (as the model would see them); tokens that straddle the
        boundary count as continuation.
        """

    async def score_continuations(
        self, pairs: Sequence[tuple[str, str]]
    ) -> list[ContinuationScore]:
        """:meth:`continuation_logprobs` for many ``(context, continuation)`` pairs (concurrent
        requests by default; local backends batch them into forward passes)."""
        return list(await asyncio.gather(*(self.continuation_logprobs(c, y) for c, y in pairs)))

    def describe(self) -> str:
        """A short label for logs."""
        return f"{type(self).__name__}({self.model})"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models."""


# --- JSON helpers shared by the backends -------------------------------------------------------

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def with_json_instruction(messages: Messages, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Append an instruction to answer with one JSON object matching ``schema``."""
    out = [dict(m) for m in messages]
    note = (
        "\n\nAnswer with a single JSON object and nothing else. It must match this JSON Schema:\n"
        + json.dumps(schema, sort_keys=True)
    )
    if out and out[-1].get("role") == "user":
        out[-1]["content"] = f"{out[-1]['content']}{note}"
    else:
        out.append({"role": "user", "content": note.strip()})
    return out


def _candidates(text: str) -> list[str]:
    found = [m.group(1) for m in _FENCE.finditer(text)]
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                _, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError:
                continue
            found.append(text[i:end])
    return found


def parse_json_object(text: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The first JSON object in ``text`` (bare, fenced or embedded) that matches ``schema``.

    Raises:
        StructuredOutputError: no object in the text parses and validates.
    """
    import jsonschema

    last_error = "no JSON object found"
    for candidate in _candidates(text):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON: {exc}"
            continue
        if not isinstance(data, dict):
            last_error = "the JSON value is not an object"
            continue
        if schema is not None:
            try:
                jsonschema.validate(data, schema)
            except jsonschema.ValidationError as exc:
                last_error = f"does not match the schema: {exc.message}"
                continue
        return data
    raise StructuredOutputError(last_error, text=text)


# --- building a backend from a spec ---------------------------------------------------------------


BACKENDS: NamedRegistry[Callable[..., LLMBackend]] = NamedRegistry(
    "LLM backend", "rewardlab.backends", "rewardlab.backends"
)
"""Backend factories by spec ``type``: each module of ``rewardlab.backends`` registers its own
(``@BACKENDS.register("openai")``), and a third-party package adds one through the
``rewardlab.backends`` entry-point group. Looking a backend up by name is what keeps this module
free of imports of the backends that import it."""


def build_backend(spec: Any) -> LLMBackend:
    """Build a backend from a spec mapping, or return a backend unchanged.

    ``{"type": "openai", "base_url": "http://127.0.0.1:8000/v1", "model": "m", ...}`` builds an
    :class:`~rewardlab.backends.openai_backend.OpenAIBackend`; ``{"type": "transformers",
    "model": "path/or/name", ...}`` a :class:`~rewardlab.backends.hf_backend.TransformersBackend`;
    any other ``type`` is looked up in :data:`BACKENDS`. Other keys are passed to the factory.

    Raises:
        ValueError: unknown type or bad fields.
    """
    if isinstance(spec, LLMBackend):
        return spec
    if not isinstance(spec, Mapping):
        raise ValueError(
            f"a backend spec is a mapping with a 'type' key, got {type(spec).__name__}"
        )
    fields = dict(spec)
    kind = fields.pop("type", "openai")
    try:
        factory = BACKENDS.get(str(kind))
    except UnknownExtension as exc:
        # A ValueError, so that a spec field typed BackendRef reports it as a validation error.
        raise ValueError(f"unknown backend type {kind!r}: {exc}") from None
    try:
        return factory(**fields)
    except TypeError as exc:
        raise ValueError(f"backend {kind!r}: {exc}") from None


BackendRef = Annotated[LLMBackend, pydantic.BeforeValidator(build_backend)]
"""Type hint for a reward parameter that takes a backend: a spec mapping or a built backend."""
