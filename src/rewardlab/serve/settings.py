"""Server settings: limits, batching, deadlines and auth, validated with pydantic.

Settings come from (lowest to highest precedence) the defaults here, an optional ``serve:``
section of the spec file, and command-line flags. A spec file may also tune single rewards::

    rewards:
      math: {name: math}
      exact: exact_match
    serve:
      batch_window_ms: 2
      per_reward:
        math: {max_concurrent_batches: 8}
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import pydantic

DEFAULT_STRIP_TOKENS = (
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>", "<end_of_turn>",
    "<eos>", "<|end|>", "<pad>", "<|pad|>",
)
"""Special tokens stripped from the end of an OpenRLHF ``query`` (it keeps special tokens)."""

MIN_TOKEN_LENGTH = 16


class RewardLimits(pydantic.BaseModel):
    """Batching and concurrency of one reward (each field overrides the server-wide value).

    Args:
        max_batch_size: Most samples handed to the reward in one call.
        batch_window_ms: How long the first queued sample waits for others to join its batch.
        max_concurrent_batches: Batches of this reward being scored at once.
        max_queue: Samples accepted for this reward and not finished yet; beyond it: 429.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    max_batch_size: int | None = pydantic.Field(default=None, ge=1, le=65536)
    batch_window_ms: float | None = pydantic.Field(default=None, ge=0, le=1000)
    max_concurrent_batches: int | None = pydantic.Field(default=None, ge=1, le=1024)
    max_queue: int | None = pydantic.Field(default=None, ge=1)


class ServeSettings(pydantic.BaseModel):
    """Everything the reward server can be told.

    Args:
        host: Interface to bind; anything but loopback needs ``token``.
        port: TCP port.
        token: Bearer token required on every endpoint but ``/health``, ``/ready`` and the docs.
        max_body_bytes: Largest request body accepted (413 beyond).
        max_request_samples: Most samples in one request (413 beyond).
        max_batch_size: Default most samples per reward call (see :class:`RewardLimits`).
        batch_window_ms: Default coalescing window.
        max_concurrent_batches: Default batches in flight per reward.
        max_queue: Default bound on samples accepted and unfinished, per reward.
        request_timeout: Deadline of a request in seconds (a request may ask for less); samples
            not scored by then get the ``timeout`` status.
        drain_timeout: On SIGTERM, how long in-flight requests may take to finish.
        retry_after: Seconds suggested in ``Retry-After`` when the queue is full.
        default_reward: Alias used when a request names none (default: the only or first one).
        failure_reward: The number OpenRLHF's ``/get_reward`` returns for a sample that got no
            score (OpenRLHF needs a float for every sample; the status is in ``extra_logs``).
        strip_tokens: Special tokens stripped from the end of an OpenRLHF ``query``.
        per_reward: Overrides of the batching limits by reward alias.
        max_header_bytes: Largest request head (request line and headers); beyond it the
            server answers 400 and closes the connection.
        max_headers: Most header fields in one request (431 beyond).
        header_timeout: Seconds a connection may take to send a complete request head after
            opening or after its previous response (then it is closed: slow or idle clients).
        body_timeout: Seconds a request body may take to arrive after its head (then closed).
        keepalive_timeout: Seconds an idle keep-alive connection stays open.
        max_connections: Open connections served at once; one more is closed at once.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = pydantic.Field(default=8000, ge=0, le=65535)
    token: str | None = pydantic.Field(default=None, repr=False)
    max_body_bytes: int = pydantic.Field(default=8 * 1024 * 1024, ge=1024)
    max_request_samples: int = pydantic.Field(default=1024, ge=1)
    max_batch_size: int = pydantic.Field(default=64, ge=1, le=65536)
    batch_window_ms: float = pydantic.Field(default=2.0, ge=0, le=1000)
    max_concurrent_batches: int = pydantic.Field(default=4, ge=1, le=1024)
    max_queue: int = pydantic.Field(default=4096, ge=1)
    request_timeout: float = pydantic.Field(default=120.0, gt=0)
    drain_timeout: float = pydantic.Field(default=30.0, ge=0)
    retry_after: float = pydantic.Field(default=1.0, ge=0)
    default_reward: str | None = None
    failure_reward: float = 0.0
    strip_tokens: tuple[str, ...] = DEFAULT_STRIP_TOKENS
    per_reward: dict[str, RewardLimits] = pydantic.Field(default_factory=dict)
    max_header_bytes: int = pydantic.Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_headers: int = pydantic.Field(default=100, ge=8, le=10_000)
    header_timeout: float = pydantic.Field(default=10.0, gt=0, le=3600)
    body_timeout: float = pydantic.Field(default=30.0, gt=0, le=3600)
    keepalive_timeout: float = pydantic.Field(default=5.0, gt=0, le=3600)
    max_connections: int = pydantic.Field(default=1024, ge=1, le=1_000_000)

    @pydantic.field_validator("token")
    @classmethod
    def _token_strength(cls, token: str | None) -> str | None:
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the token must have at least {MIN_TOKEN_LENGTH} characters")
        return token

    @pydantic.field_validator("failure_reward")
    @classmethod
    def _finite(cls, value: float) -> float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("failure_reward must be finite")
        return value

    def limits_for(self, alias: str) -> RewardLimits:
        """The effective batching limits of one reward (overrides filled from the defaults)."""
        own = self.per_reward.get(alias, RewardLimits())
        return RewardLimits(
            max_batch_size=own.max_batch_size or self.max_batch_size,
            batch_window_ms=(self.batch_window_ms if own.batch_window_ms is None
                             else own.batch_window_ms),
            max_concurrent_batches=own.max_concurrent_batches or self.max_concurrent_batches,
            max_queue=own.max_queue or self.max_queue,
        )

    def with_overrides(self, **overrides: Any) -> ServeSettings:
        """A copy with the non-``None`` overrides applied and validated."""
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        return ServeSettings.model_validate(data)


def settings_from_spec(spec: Any) -> ServeSettings:
    """Read the optional ``serve:`` section of a loaded spec (defaults when absent).

    Raises:
        ValueError: the section is not a mapping or has a bad field (the message names it).
    """
    section = spec.get("serve") if isinstance(spec, Mapping) else None
    if section is None:
        return ServeSettings()
    if not isinstance(section, Mapping):
        raise ValueError("field 'serve' must be a mapping of server settings")
    try:
        return ServeSettings.model_validate(dict(section))
    except pydantic.ValidationError as exc:
        raise ValueError("serve: " + "; ".join(
            f"field {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in exc.errors()
        )) from None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
