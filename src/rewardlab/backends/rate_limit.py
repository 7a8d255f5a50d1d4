"""Requests-per-minute and tokens-per-minute budgets for model APIs.

A sliding window over the last ``period`` seconds: a request may start when both the number of
requests and the number of tokens started inside the window stay within budget. Token counts are
estimates when a request starts and are corrected with the server's usage report afterwards.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class _Entry:
    started: float
    tokens: int


class RateBudget:
    """A sliding-window limiter on requests and tokens per period (a minute by default).

    Safe to share between event loops and threads: the bookkeeping is guarded by a thread lock
    and waiting happens outside it.

    Args:
        requests_per_minute: Most requests started per period (``None``: unlimited).
        tokens_per_minute: Most tokens (prompt + completion) per period (``None``: unlimited).
        period: Window length in seconds (60 for "per minute"; smaller in tests).
        clock: Monotonic clock, injectable for tests.
        sleep: Async sleep, injectable for tests.
    """

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        for label, value in (("requests_per_minute", requests_per_minute),
                             ("tokens_per_minute", tokens_per_minute)):
            if value is not None and value <= 0:
                raise ValueError(f"{label} must be positive, got {value}")
        if period <= 0:
            raise ValueError("period must be positive")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._window: deque[_Entry] = deque()
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        """True when no budget is set."""
        return self.requests_per_minute is None and self.tokens_per_minute is None

    def _prune(self, now: float) -> None:
        while self._window and self._window[0].started <= now - self.period:
            self._window.popleft()

    def _wait_time(self, now: float, tokens: int) -> float:
        """Seconds until a request of ``tokens`` fits (0: it fits now)."""
        waits = [0.0]
        if self.requests_per_minute is not None and len(self._window) >= self.requests_per_minute:
            oldest = self._window[len(self._window) - self.requests_per_minute]
            waits.append(oldest.started + self.period - now)
        if self.tokens_per_minute is not None and self._window:
            used = sum(e.tokens for e in self._window)
            # A single request larger than the whole budget runs alone in an empty window
            # rather than waiting forever.
            need = min(tokens, self.tokens_per_minute)
            if used + need > self.tokens_per_minute:
                freed = 0
                for entry in self._window:
                    freed += entry.tokens
                    if used - freed + need <= self.tokens_per_minute:
                        waits.append(entry.started + self.period - now)
                        break
        return max(waits)

    async def acquire(self, tokens: int = 0) -> _Entry | None:
        """Wait until a request estimated at ``tokens`` tokens may start, and record it.

        Returns:
            A ticket to pass to :meth:`settle` with the real token count.
        """
        if self.unlimited:
            return None
        while True:
            with self._lock:
                now = self._clock()
                self._prune(now)
                wait = self._wait_time(now, tokens)
                if wait <= 0:
                    entry = _Entry(now, max(0, tokens))
                    self._window.append(entry)
                    return entry
            await self._sleep(wait)

    def settle(self, ticket: _Entry | None, tokens: int) -> None:
        """Replace a request's estimated token count with the real one."""
        if ticket is None:
            return
        with self._lock:
            ticket.tokens = max(0, int(tokens))
