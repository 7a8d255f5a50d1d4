"""An async client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp's server, OpenAI).

Built on the ``openai`` package (extra ``judges``). On top of it: a concurrency limit,
requests-per-minute and tokens-per-minute budgets, retries with exponential backoff that honour
``Retry-After``, a response cache keyed by model, messages and parameters (in memory, optionally
persisted to SQLite), token and cost accounting, structured output with fallbacks
(``json_schema`` -> ``json_object`` with a schema -> parsing text), reply log-probabilities, and
prompt scoring through completions with ``echo`` and ``logprobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardlab.backends.llm import (
    BACKENDS,
    ChatResult,
    ContinuationScore,
    LLMBackend,
    LLMError,
    Messages,
    StructuredOutputError,
    StructuredResult,
    TokenLogprob,
    parse_json_object,
    with_json_instruction,
)
from rewardlab.backends.rate_limit import RateBudget
from rewardlab.errors import RewardlabError

log = logging.getLogger(__name__)

STRUCTURED_MODES = ("json_schema", "json_object", "text")
_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Statuses with which a server says "I do not support this response_format".
_UNSUPPORTED_STATUS = {400, 404, 415, 422, 500, 501}


class _Unsupported(RewardlabError, Exception):
    """The server rejected a structured-output mode."""


class ResponseCache:
    """An LRU cache of raw responses, optionally backed by a SQLite file that survives restarts.

    Args:
        max_entries: In-memory capacity.
        path: SQLite file to persist entries to (``None``: memory only).
    """

    def __init__(self, max_entries: int = 10_000, path: str | Path | None = None) -> None:
        self.max_entries = max_entries
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, body TEXT)"
            )
            self._db.commit()

    @staticmethod
    def key(kind: str, payload: Mapping[str, Any], salt: Any = None) -> str:
        """A stable hash of the request (model, messages or prompt, and every parameter)."""
        blob = json.dumps({"kind": kind, "payload": payload, "salt": salt}, sort_keys=True,
                          default=str, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached response, or ``None``."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
            if self._db is not None:
                row = self._db.execute(
                    "SELECT body FROM responses WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    value = json.loads(row[0])
                    self._remember(key, value)
                    return value
        return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store a response."""
        with self._lock:
            self._remember(key, value)
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses (key, body) VALUES (?, ?)",
                    (key, json.dumps(value)),
                )
                self._db.commit()

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)

    def close(self) -> None:
        """Close the SQLite file."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The delay a server asks for: ``retry-after-ms``, or ``retry-after`` in seconds or as a
    date. ``None`` when absent or unreadable."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _estimate_tokens(payload: Mapping[str, Any]) -> int:
    """A rough pre-call token count for the budget (about 4 characters per token)."""
    text = payload.get("prompt") or json.dumps(payload.get("messages", ""), ensure_ascii=False)
    return len(str(text)) // 4 + int(payload.get("max_tokens") or 256)


def _parse_chat_logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    if not raw or not raw.get("content"):
        return None
    out = []
    for item in raw["content"]:
        top = tuple((t["token"], float(t["logprob"])) for t in item.get("top_logprobs") or [])
        out.append(TokenLogprob(item["token"], item.get("logprob"), top))
    return tuple(out)


@BACKENDS.register("openai")
class OpenAIBackend(LLMBackend):
    """An OpenAI-compatible chat/completions server as an :class:`LLMBackend`.

    Args:
        model: Model name sent with each request.
        base_url: Server URL including ``/v1`` (``None``: the ``openai`` default / env).
        api_key: API key (``None``: ``$OPENAI_API_KEY``, else a placeholder for local servers).
        max_concurrency: Most requests in flight at once.
        requests_per_minute: Request budget (``None``: unlimited).
        tokens_per_minute: Token budget (``None``: unlimited).
        max_retries: Retries after a connection error, a timeout, 429 or 5xx.
        backoff_base: First backoff delay in seconds; doubles each retry, with jitter.
        backoff_max: Longest backoff delay in seconds.
        timeout: Per-request timeout in seconds.
        cache: Cache responses by (model, messages/prompt, parameters).
        cache_size: In-memory cache capacity.
        cache_path: SQLite file to persist the cache to.
        price_per_million: USD per million tokens, ``{"input": x, "output": y}``, for cost
            accounting.
        structured_modes: Structured-output modes to try, strongest first.
        default_max_tokens: ``max_tokens`` when a call gives none.
        extra_body: Extra JSON fields sent with every request (e.g. vLLM's
            ``chat_template_kwargs``).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_concurrency: int = 8,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 120.0,
        cache: bool = True,
        cache_size: int = 10_000,
        cache_path: str | None = None,
        price_per_million: Mapping[str, float] | None = None,
        structured_modes: Sequence[str] = STRUCTURED_MODES,
        default_max_tokens: int = 512,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not model:
            raise ValueError("model is required")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        bad = [m for m in structured_modes if m not in STRUCTURED_MODES]
        if bad or not structured_modes:
            raise ValueError(f"structured_modes must be a non-empty subset of {STRUCTURED_MODES}")
        self.model = model
        self.base_url = base_url
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key"
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.budget = RateBudget(requests_per_minute, tokens_per_minute)
        self.cache = ResponseCache(cache_size, cache_path) if cache else None
        self.price_per_million = dict(price_per_million or {})
        self.structured_modes = tuple(structured_modes)
        self.default_max_tokens = default_max_tokens
        self.extra_body = dict(extra_body or {})
        self._unsupported_modes: set[str] = set()
        # An httpx client and an asyncio semaphore belong to one event loop; Reward.score()
        # may run each batch on a fresh loop, so keep one of each per loop.
        self._per_loop: dict[int, tuple[asyncio.AbstractEventLoop, Any, asyncio.Semaphore]] = {}
        self._lock = threading.Lock()

    # --- plumbing --------------------------------------------------------------------------------

    async def _loop_state(self) -> tuple[Any, asyncio.Semaphore]:
        import openai

        loop = asyncio.get_running_loop()
        with self._lock:
            stale = [k for k, (lp, _, _) in self._per_loop.items() if lp.is_closed()]
            stale_clients = [self._per_loop.pop(k)[1] for k in stale]
            state = self._per_loop.get(id(loop))
            if state is None or state[0] is not loop:
                client = openai.AsyncOpenAI(
                    base_url=self.base_url, api_key=self.api_key, timeout=self.timeout,
                    max_retries=0,  # retries are ours: they must honour budgets and be counted
                    # Our own HTTP client: the default one's __del__ schedules a close on
                    # whatever loop is running then, which fails for a loop that has ended.
                    http_client=openai.DefaultAsyncHttpxClient(),
                )
                state = (loop, client, asyncio.Semaphore(self.max_concurrency))
                self._per_loop[id(loop)] = state
        for old in stale_clients:
            # Its connections died with their loop; release what can be released.
            with contextlib.suppress(Exception):
                await old.close()
        return state[1], state[2]

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_per_million.get("input", 0.0)
                + completion_tokens * self.price_per_million.get("output", 0.0)) / 1e6

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return delay * (0.5 + random.random() / 2)

    async def _create(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        salt: Any = None,
        unsupported_raises: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Send one request (cache, budget, concurrency, retries). Returns (response, cached)."""
        import openai

        payload = {k: v for k, v in payload.items() if v is not None}
        if self.extra_body:
            payload["extra_body"] = {**self.extra_body, **payload.get("extra_body", {})}
        key = ResponseCache.key(kind, payload, salt) if self.cache is not None else ""
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.bump("cache_hits")
                return hit, True
        client, semaphore = await self._loop_state()
        endpoint = client.chat.completions if kind == "chat" else client.completions
        estimate = _estimate_tokens(payload)
        attempt = 0
        while True:
            ticket = await self.budget.acquire(estimate)
            async with semaphore:
                try:
                    response = await endpoint.create(**payload)
                    error: Exception | None = None
                except openai.APIStatusError as exc:
                    error = exc
                except openai.APIConnectionError as exc:  # includes timeouts
                    error = exc
            if error is None:
                break
            status = getattr(error, "status_code", None)
            if unsupported_raises and status in _UNSUPPORTED_STATUS:
                raise _Unsupported(f"HTTP {status}: {error}") from error
            retryable = status is None or status in _RETRYABLE_STATUS
            if not retryable or attempt >= self.max_retries:
                self.stats.bump("failures")
                what = f"HTTP {status}" if status else type(error).__name__
                raise LLMError(
                    f"{kind} request to {self.base_url or 'OpenAI'} failed after "
                    f"{attempt + 1} attempt(s): {what}: {error}"
                ) from error
            headers = getattr(getattr(error, "response", None), "headers", None)
            delay = retry_after_seconds(headers)
            if delay is None:
                delay = self._backoff(attempt)
            delay = min(delay, self.backoff_max)
            log.info("%s: retry %d in %.2fs after %s", self.describe(), attempt + 1, delay, error)
            self.stats.bump("retries")
            attempt += 1
            await asyncio.sleep(delay)
        data = response.model_dump(mode="json")
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        self.budget.settle(ticket, prompt_tokens + completion_tokens or estimate)
        self.stats.add_call(prompt_tokens, completion_tokens,
                            self._cost(prompt_tokens, completion_tokens))
        if self.cache is not None:
            self.cache.put(key, data)
        return data, False

    def _chat_result(self, data: dict[str, Any], cached: bool) -> ChatResult:
        choices = data.get("choices") or []
        if not choices:
            raise LLMError(f"{self.describe()}: the response has no choices")
        choice = choices[0]
        message = choice.get("message") or {}
        usage = data.get("usage") or {}
        return ChatResult(
            text=message.get("content") or "",
            reasoning=message.get("reasoning_content") or message.get("reasoning"),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            logprobs=_parse_chat_logprobs(choice.get("logprobs")),
            cached=cached,
            model=data.get("model") or self.model,
        )

    # --- the LLMBackend calls ------------------------------------------------------------------

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
        response_format: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Generate one reply (see :meth:`LLMBackend.chat`).

        Raises:
            LLMError: the request failed after the allowed retries.
        """
        data, cached = await self._create("chat", self._chat_payload(
            messages, max_tokens, temperature, logprobs, top_logprobs, stop, seed, response_format,
        ), salt=sample_index or None)
        return self._chat_result(data, cached)

    def _chat_payload(
        self, messages: Messages, max_tokens: int | None, temperature: float | None,
        logprobs: bool, top_logprobs: int | None, stop: Sequence[str] | None, seed: int | None,
        response_format: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens or self.default_max_tokens,
            "temperature": temperature,
            "logprobs": True if logprobs else None,
            "top_logprobs": top_logprobs if logprobs else None,
            "stop": list(stop) if stop else None,
            "seed": seed,
            "response_format": dict(response_format) if response_format else None,
        }

    async def structured(
        self,
        messages: Messages,
        schema: Mapping[str, Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        sample_index: int = 0,
    ) -> StructuredResult:
        """A JSON object matching ``schema``: ``json_schema`` first, then ``json_object`` with
        the schema (llama.cpp's grammar-constrained mode), then parsing plain text. A mode the
        server rejects is remembered and skipped on later calls.

        Raises:
            StructuredOutputError: no mode produced a valid object.
            LLMError: the server failed for another reason.
        """
        prompt = with_json_instruction(messages, schema)
        last = StructuredOutputError("no structured-output mode is enabled")
        for mode in self.structured_modes:
            if mode in self._unsupported_modes:
                continue
            if mode == "json_schema":
                fmt: dict[str, Any] | None = {
                    "type": "json_schema",
                    "json_schema": {"name": "response", "schema": dict(schema)},
                }
            elif mode == "json_object":
                fmt = {"type": "json_object", "schema": dict(schema)}
            else:
                fmt = None
            payload = self._chat_payload(prompt, max_tokens, temperature, False, None, None, None,
                                         fmt)
            try:
                data, cached = await self._create(
                    "chat", payload, salt=sample_index or None, unsupported_raises=fmt is not None
                )
            except _Unsupported as exc:
                log.info("%s: structured mode %s unsupported (%s); falling back",
                         self.describe(), mode, exc)
                with self._lock:
                    self._unsupported_modes.add(mode)
                continue
            result = self._chat_result(data, cached)
            try:
                parsed = parse_json_object(result.text, schema)
            except StructuredOutputError as exc:
                last = exc
                continue
            self.stats.add_mode(mode)
            return StructuredResult(data=parsed, mode=mode, result=result)
        raise last

    @property
    def unsupported_modes(self) -> frozenset[str]:
        """Structured-output modes this server has rejected."""
        return frozenset(self._unsupported_modes)

    async def continuation_logprobs(self, context: str, continuation: str) -> ContinuationScore:
        """Prompt scoring with ``/v1/completions``, ``echo=True`` and ``logprobs``.

        Raises:
            LLMError: the server failed, or returned no prompt log-probabilities (servers that do
                not support ``echo`` with ``logprobs``).
        """
        if not continuation:
            raise ValueError("continuation must not be empty")
        text = context + continuation
        payload = {
            "model": self.model,
            "prompt": text,
            "max_tokens": 1,  # 0 means "no limit" on some servers (llama.cpp)
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
        }
        data, _ = await self._create("completion", payload)
        choices = data.get("choices") or []
        raw = (choices[0].get("logprobs") if choices else None) or {}
        tokens = raw.get("tokens") or []
        offsets = raw.get("text_offset") or []
        values = raw.get("token_logprobs") or []
        if not tokens or len(offsets) != len(tokens):
            raise LLMError(f"{self.describe()} returned no prompt log-probabilities for echo=True")
        start = len(context)
        picked = []
        for i, (token, offset, value) in enumerate(zip(tokens, offsets, values, strict=False)):
            if offset >= len(text):
                break  # the generated token(s) after the prompt
            if offset + len(token) <= start:
                continue  # entirely inside the context
            top_raw = (raw.get("top_logprobs") or [None] * len(tokens))[i] or {}
            top = tuple(sorted(((t, float(v)) for t, v in top_raw.items()), key=lambda p: -p[1]))
            picked.append(TokenLogprob(token, None if value is None else float(value), top, offset))
        usage = data.get("usage") or {}
        return ContinuationScore(tuple(picked), int(usage.get("prompt_tokens") or 0))

    async def aclose(self) -> None:
        """Close the clients of the current event loop and the cache file."""
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._per_loop.pop(id(loop), None)
        if state is not None:
            await state[1].close()
        if self.cache is not None:
            self.cache.close()
