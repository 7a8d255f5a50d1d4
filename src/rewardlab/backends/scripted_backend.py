"""A backend that replays scripted replies: for testing judge logic and dry-running prompts
without a model.

    >>> backend = ScriptedBackend(["Good. [RESULT] 4"])  # doctest: +SKIP

Replies are taken in order (the last one repeats), or computed by a function of the messages.
Every request is recorded in :attr:`ScriptedBackend.calls`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewardlab.backends.llm import (
    BACKENDS,
    ChatResult,
    ContinuationScore,
    LLMBackend,
    Messages,
    StructuredResult,
    TokenLogprob,
    parse_json_object,
)

Reply = str | Callable[[list[dict[str, Any]]], str]


@BACKENDS.register("scripted")
class ScriptedBackend(LLMBackend):
    """Replays replies instead of calling a model.

    Args:
        replies: Reply texts (or full :class:`ChatResult` objects) used in order (the last
            repeats), or one function ``messages -> reply``.
        logprob: Log-probability reported for each continuation character (prompt scoring).
    """

    model = "scripted"

    def __init__(self, replies: Sequence[str] | Callable[..., str], logprob: float = -0.1) -> None:
        super().__init__()
        if not callable(replies) and not replies:
            raise ValueError("give at least one reply")
        self._replies = replies
        self._logprob = logprob
        self.calls: list[dict[str, Any]] = []

    def _next(self, messages: list[dict[str, Any]]) -> str:
        if callable(self._replies):
            return self._replies(messages)
        index = min(len(self.calls) - 1, len(self._replies) - 1)
        return self._replies[index]

    async def chat(self, messages: Messages, **params: Any) -> ChatResult:
        """Record the call and return the next scripted reply."""
        msgs = [dict(m) for m in messages]
        self.calls.append({"messages": msgs, **params})
        reply = self._next(msgs)
        self.stats.add_call(0, 0, 0.0)
        if isinstance(reply, ChatResult):  # a scripted reply with log-probabilities
            return reply
        return ChatResult(text=reply, finish_reason="stop", model=self.model)

    async def structured(
        self, messages: Messages, schema: Mapping[str, Any], **params: Any
    ) -> StructuredResult:
        """The next reply, parsed as JSON against ``schema``."""
        result = await self.chat(messages, **params)
        data = parse_json_object(result.text, schema)
        return StructuredResult(data=data, mode="text", result=result)

    async def continuation_logprobs(self, context: str, continuation: str) -> ContinuationScore:
        """One token per character, each with the configured log-probability."""
        self.calls.append({"context": context, "continuation": continuation})
        return ContinuationScore(tuple(TokenLogprob(ch, self._logprob) for ch in continuation))


def reply_json(**fields: Any) -> str:
    """A scripted JSON reply (helper for tests)."""
    return json.dumps(fields)

