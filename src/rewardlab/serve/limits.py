"""Connection-level bounds for the reward server's HTTP/1.1 front end.

uvicorn's httptools parser ignores ``h11_max_incomplete_event_size`` and uvicorn has no header or
body read deadline, so a client could send endless headers (memory grows without bound) or hold
connections open forever (slow-loris, idle sockets). The server therefore runs uvicorn's h11
protocol, whose parser refuses a request head larger than its ``max_incomplete_event_size``
(400 and close), through :class:`BoundedH11Protocol`, which adds:

* a cap on open connections: one past ``max_connections`` is closed at once;
* a request-head deadline: a connection that has not sent a complete request head within
  ``header_timeout`` seconds of opening (or of its previous response) is closed;
* a body deadline: a request whose body has not fully arrived within ``body_timeout`` seconds
  of its head is closed (the app sees a disconnect).

Idle keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may cost the server (see the module docstring)."""

    max_connections: int = 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with connection-count, request-head and body deadlines."""

    limits = ConnectionLimits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._body_cycle: Any = None
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.logger.warning("closing a connection: %d open, the limit is %d",
                                len(self.connections), self.limits.max_connections)
            transport.close()
            return
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and cycle is not self._body_cycle and not cycle.response_complete:
            # A new request head has arrived: its body (if any) now has its own deadline.
            self._body_cycle = cycle
            if cycle.more_body and self.conn.their_state is h11.SEND_BODY:
                self._arm(self.limits.body_timeout, self._body_expired)
            else:
                self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    # -- deadlines --------------------------------------------------------------------------

    def _arm_head_deadline(self) -> None:
        self._arm(self.limits.header_timeout, self._head_expired)

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
            self._deadline = None

    def _head_expired(self) -> None:
        self._deadline = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()  # no complete request head in time (slow or idle client)

    def _body_expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            self.logger.warning("closing a connection: request body not received within %g s",
                                self.limits.body_timeout)
            self.transport.close()


def bounded_protocol(limits: ConnectionLimits) -> type[BoundedH11Protocol]:
    """A :class:`BoundedH11Protocol` class bound to ``limits`` (uvicorn's ``http=`` option)."""
    return type("BoundedH11Protocol", (BoundedH11Protocol,), {"limits": limits})
