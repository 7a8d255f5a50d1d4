"""Text generators for reward-guided search, and the token budget they draw from.

Step-level search continues a *partial* response, so generators work on raw text: the prompt
(already formatted for the model) plus the response so far, continued up to a stop string.

* :class:`OpenAICompletionsGenerator`: any OpenAI-compatible server's ``/v1/completions``
  (vLLM, llama.cpp's ``llama_cpp.server``, SGLang, TGI).
* :class:`LlamaCppGenerator`: a GGUF model in this process through ``llama_cpp.Llama``.

Every call is charged to a :class:`TokenBudget`; a call never asks for more new tokens than the
budget has left, so a search cannot overrun it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.errors import RewardlabError


class BudgetExhausted(RewardlabError, RuntimeError):
    """The token budget has nothing left for another generation."""


@dataclass
class TokenBudget:
    """Counts generated and prompt tokens; caps generated tokens at ``max_tokens``.

    Args:
        max_tokens: Most new (completion) tokens the search may generate; ``None``: no cap.
    """

    max_tokens: int | None = None
    completion_tokens: int = 0
    prompt_tokens: int = 0
    calls: int = 0

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ValueError("max_tokens must be >= 0")
        self._lock = threading.Lock()
        self._reserved = 0  # granted to calls still running, so concurrent calls cannot overrun

    @property
    def remaining(self) -> int | None:
        """New tokens left, minus those granted to running calls (``None`` when uncapped)."""
        if self.max_tokens is None:
            return None
        return max(self.max_tokens - self.completion_tokens - self._reserved, 0)

    @property
    def exhausted(self) -> bool:
        """True when no new token may be generated."""
        return self.remaining == 0

    def grant(self, wanted: int) -> int:
        """Reserve new tokens for the next call: at most ``wanted``, at most what is left.

        Release the reservation with :meth:`charge` (``granted=``) when the call ends.

        Raises:
            BudgetExhausted: nothing is left.
        """
        if wanted < 1:
            raise ValueError("a generation needs max_tokens >= 1")
        with self._lock:
            left = self.remaining
            if left is None:
                return wanted
            if left == 0:
                raise BudgetExhausted(f"token budget of {self.max_tokens} is spent")
            granted = min(wanted, left)
            self._reserved += granted
            return granted

    def charge(self, completion_tokens: int, prompt_tokens: int = 0, granted: int = 0) -> None:
        """Record one generation's usage and release its reservation."""
        with self._lock:
            if self.max_tokens is not None:
                self._reserved = max(self._reserved - granted, 0)
            self.completion_tokens += int(completion_tokens)
            self.prompt_tokens += int(prompt_tokens)
            self.calls += 1

    def to_dict(self) -> dict[str, Any]:
        """The usage as a JSON-ready dict."""
        return {
            "max_tokens": self.max_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens": self.prompt_tokens,
            "calls": self.calls,
        }


@dataclass(frozen=True)
class Generation:
    """One continuation.

    Args:
        text: The new text (without the stop string that ended it).
        completion_tokens: New tokens generated.
        prompt_tokens: Tokens of the prompt read.
        finish_reason: ``"stop"`` (a stop string or end of sequence) or ``"length"``.
        ended: True when the model ended the response itself (end of sequence, not a stop
            string), when the generator can tell.
    """

    text: str
    completion_tokens: int
    prompt_tokens: int = 0
    finish_reason: str | None = None
    ended: bool = False


class Generator(ABC):
    """Continues raw text. Subclasses implement :meth:`_generate`."""

    async def generate(
        self,
        text: str,
        *,
        budget: TokenBudget,
        max_tokens: int,
        stop: Sequence[str] = (),
        temperature: float = 0.7,
        seed: int | None = None,
    ) -> Generation:
        """Continue ``text`` by at most ``max_tokens`` tokens (fewer if the budget is short).

        Raises:
            BudgetExhausted: the budget has nothing left.
        """
        granted = budget.grant(max_tokens)
        try:
            gen = await self._generate(
                text, max_tokens=granted, stop=list(stop), temperature=temperature, seed=seed
            )
        except BaseException:
            budget.charge(0, 0, granted)
            raise
        # count what the generator reports, so an overshooting server shows in the figures
        budget.charge(gen.completion_tokens, gen.prompt_tokens, granted)
        return gen

    @abstractmethod
    async def _generate(
        self, text: str, *, max_tokens: int, stop: list[str], temperature: float,
        seed: int | None,
    ) -> Generation:
        """Generate one continuation."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models."""


class OpenAICompletionsGenerator(Generator):
    """Continuations from an OpenAI-compatible ``/v1/completions`` endpoint.

    Args:
        base_url: The server's base URL, with ``/v1``.
        model: The model name to request.
        api_key: API key (local servers accept anything).
        timeout: Per-request timeout in seconds.
        max_retries: Retries of the ``openai`` client on connection errors and 5xx.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "EMPTY",
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self._clients: dict[int, Any] = {}

    def _client(self) -> Any:
        # one client per event loop: an httpx client must not cross loops
        try:
            from openai import AsyncOpenAI
        except ImportError as exc:
            raise ImportError(
                "OpenAICompletionsGenerator needs openai: pip install 'rewardlab[search]'"
            ) from exc

        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = AsyncOpenAI(
                base_url=self.base_url, api_key=self.api_key, timeout=self.timeout,
                max_retries=self.max_retries,
            )
            self._clients[loop_id] = client
        return client

    async def _generate(
        self, text: str, *, max_tokens: int, stop: list[str], temperature: float,
        seed: int | None,
    ) -> Generation:
        resp = await self._client().completions.create(
            model=self.model, prompt=text, max_tokens=max_tokens, stop=stop or None,
            temperature=temperature, seed=seed,
        )
        choice = resp.choices[0]
        usage = resp.usage
        completion_tokens = usage.completion_tokens if usage else 0
        # vLLM says which stop string matched (None: end of sequence); others do not say
        stop_reason = getattr(choice, "stop_reason", "unknown")
        ended = choice.finish_reason == "stop" and (
            stop_reason is None or (not stop and completion_tokens < max_tokens)
        )
        return Generation(
            text=choice.text or "",
            completion_tokens=completion_tokens,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            finish_reason=choice.finish_reason,
            ended=bool(ended),
        )

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            with contextlib.suppress(RuntimeError):  # its loop is gone: nothing to release
                await client.close()


class LlamaCppGenerator(Generator):
    """Continuations from a GGUF model loaded in this process with ``llama_cpp``.

    Args:
        model_path: The ``.gguf`` file.
        n_ctx: Context length.
        n_threads: CPU threads.
    """

    def __init__(self, model_path: str | Path, *, n_ctx: int = 2048, n_threads: int = 2) -> None:
        self.model_path = str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ImportError(
                    "LlamaCppGenerator needs llama-cpp-python: pip install llama-cpp-python"
                ) from exc

            self._llm = Llama(
                model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                verbose=False,
            )
        return self._llm

    def _run(self, text: str, max_tokens: int, stop: list[str], temperature: float,
             seed: int | None) -> Generation:
        with self._lock:
            llm = self._load()
            out = llm.create_completion(
                prompt=text, max_tokens=max_tokens, stop=stop or None,
                temperature=temperature, seed=seed,
            )
        choice, usage = out["choices"][0], out["usage"]
        # llama_cpp does not say whether a stop string or the end of sequence ended the text;
        # without stop strings an early "stop" can only be the end of sequence
        ended = choice["finish_reason"] == "stop" and not stop
        return Generation(
            text=choice["text"],
            completion_tokens=usage["completion_tokens"],
            prompt_tokens=usage["prompt_tokens"],
            finish_reason=choice["finish_reason"],
            ended=ended,
        )

    async def _generate(
        self, text: str, *, max_tokens: int, stop: list[str], temperature: float,
        seed: int | None,
    ) -> Generation:
        return await asyncio.to_thread(self._run, text, max_tokens, stop, temperature, seed)

    async def aclose(self) -> None:
        self._llm = None
