"""The few nouns everything shares: ``Sample``, ``Outcome`` and ``Status``.

A reward source turns Samples into Outcomes. An Outcome always says *what happened*
(``status``) apart from *how good the response was* (``score``), so that "the answer is wrong"
(``ok`` with a low score) can never be confused with "the grader broke" (``error``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Message = Mapping[str, Any]
"""A chat message: at least ``role`` and ``content``."""


class Status(StrEnum):
    """What happened when a reward looked at a sample.

    Only ``ok`` carries a score. Every other status means "no score could be given" and says
    why; adapters decide per trainer what that becomes (TRL: ``None``; verl: a dict; OpenRLHF:
    extra logs).
    """

    OK = "ok"
    """Scored. A wrong answer is ``ok`` with a low score."""
    UNPARSEABLE = "unparseable"
    """No answer could be read from the response."""
    BAD_REFERENCE = "bad_reference"
    """The reference itself is unusable."""
    TIMEOUT = "timeout"
    """The grader ran out of time."""
    ERROR = "error"
    """The grader failed (crash, exception, resource limit, bad input)."""
    SKIPPED = "skipped"
    """The reward does not apply to this sample."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One response to be rewarded.

    Args:
        response: The model's output text.
        prompt: The prompt, as text or as a list of chat messages (``{"role", "content"}``).
        reference: What the response is judged against: a gold answer, tests, a rubric... Any
            JSON-like value; each reward documents what it expects.
        metadata: Free-form extra fields (data source, task id, ...).
        group: Optional group id (the rollout group of a prompt in GRPO-style training).
        id: Optional caller-side identifier, echoed back in outputs.
        num_turns: Number of turns of a multi-turn rollout (verl's ``__num_turns__``), when the
            trainer reports it.
        rollout_reward_scores: Rewards an agent loop already gave during the rollout (verl's
            ``reward_scores``, e.g. per-tool rewards), by name.
        tool_extra_fields: Extra fields the rollout's tools returned (verl's
            ``tool_extra_fields``).
    """

    response: str
    prompt: str | Sequence[Message] | None = None
    reference: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    group: str | int | None = None
    id: str | int | None = None
    # Multi-turn rollout data (appended last so positional construction is unchanged).
    num_turns: int | None = None
    rollout_reward_scores: Mapping[str, Any] = field(default_factory=dict)
    tool_extra_fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.response, str):
            raise TypeError(f"Sample.response must be a str, got {type(self.response).__name__}")
        if not (self.prompt is None or isinstance(self.prompt, str) or (
            isinstance(self.prompt, Sequence)
            and all(isinstance(m, Mapping) and "role" in m and "content" in m
                    for m in self.prompt)
        )):
            raise TypeError(
                "Sample.prompt must be a str or a list of chat messages "
                "({'role': ..., 'content': ...})"
            )
        if self.num_turns is not None and (isinstance(self.num_turns, bool)
                                           or not isinstance(self.num_turns, int)
                                           or self.num_turns < 0):
            raise TypeError(f"Sample.num_turns must be a non-negative int, got {self.num_turns!r}")
        for name in ("rollout_reward_scores", "tool_extra_fields"):
            if not isinstance(getattr(self, name), Mapping):
                raise TypeError(f"Sample.{name} must be a mapping, got "
                                f"{type(getattr(self, name)).__name__}")

    @property
    def prompt_text(self) -> str:
        """The prompt as plain text (chat messages joined as ``role: content`` lines)."""
        if self.prompt is None:
            return ""
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n".join(f"{m['role']}: {m['content']}" for m in self.prompt)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The prompt as chat messages (a text prompt becomes one user message)."""
        if self.prompt is None:
            return []
        if isinstance(self.prompt, str):
            return [{"role": "user", "content": self.prompt}]
        return [dict(m) for m in self.prompt]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of rewarding one sample.

    Invariant: ``score`` is a finite float exactly when ``status`` is ``ok``; otherwise it is
    ``None``. Construct with :meth:`ok` or :meth:`fail` to keep that true.

    Args:
        score: The reward, or ``None`` when no score could be given.
        status: What happened (see :class:`Status`).
        reason: A short human-readable explanation (empty for plain successes).
        details: Sub-scores and diagnostics, JSON-serializable.
    """

    score: float | None
    status: Status = Status.OK
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        status = Status(self.status)
        object.__setattr__(self, "status", status)
        if status is Status.OK:
            if isinstance(self.score, bool) or not isinstance(self.score, int | float):
                raise TypeError(f"an ok Outcome needs a numeric score, got {self.score!r}")
            score = float(self.score)
            if not math.isfinite(score):
                raise ValueError(f"an ok Outcome needs a finite score, got {score}")
            object.__setattr__(self, "score", score)
        elif self.score is not None:
            raise ValueError(f"a {status.value} Outcome carries no score, got {self.score!r}")

    @classmethod
    def ok(cls, score: float, reason: str = "", **details: Any) -> Outcome:
        """A successful scoring."""
        return cls(score=score, status=Status.OK, reason=reason, details=details)

    @classmethod
    def fail(cls, status: Status | str, reason: str, **details: Any) -> Outcome:
        """A typed failure: no score, a status that says why, and a reason."""
        status = Status(status)
        if status is Status.OK:
            raise ValueError("Outcome.fail needs a failure status, not 'ok'")
        return cls(score=None, status=status, reason=reason, details=details)

    @property
    def is_ok(self) -> bool:
        """True when the outcome carries a score."""
        return self.status is Status.OK

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ``score``, ``status``, ``reason`` and ``details``."""
        return {
            "score": self.score,
            "status": self.status.value,
            "reason": self.reason,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        """Inverse of :meth:`to_dict`."""
        return cls(
            score=data.get("score"),
            status=Status(data.get("status", "ok")),
            reason=data.get("reason", "") or "",
            details=dict(data.get("details") or {}),
        )
