"""Running the reward server with uvicorn: bind checks, graceful SIGTERM drain."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.serve.settings import ServeSettings, is_loopback

log = logging.getLogger(__name__)


class UnsafeBind(RewardlabError, ValueError):
    """Binding a non-loopback interface without a bearer token."""


def check_bind(settings: ServeSettings) -> None:
    """Refuse to listen beyond loopback without a token.

    Raises:
        UnsafeBind: ``settings.host`` is not a loopback address and no token is set.
    """
    if not is_loopback(settings.host) and not settings.token:
        raise UnsafeBind(
            f"refusing to bind {settings.host!r} without a bearer token: anyone who can reach it "
            "could submit work and read rewards. Set a token (--token-env VAR) or bind "
            "127.0.0.1.")


def run_server(app: Any, settings: ServeSettings, *, log_level: str = "warning",
               ready_message: bool = True) -> None:
    """Serve ``app`` (from :func:`rewardlab.serve.create_app`) until SIGINT/SIGTERM.

    On SIGTERM the server stops accepting connections, marks itself not ready, lets in-flight
    requests finish (up to ``settings.drain_timeout`` seconds), shuts the rewards down and
    returns (the process exits 0).

    Raises:
        UnsafeBind: see :func:`check_bind`.
    """
    import uvicorn

    from rewardlab.serve.limits import ConnectionLimits, bounded_protocol

    check_bind(settings)
    service = getattr(app, "service", None)

    class _DrainingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if service is not None:
                service.draining = True
            super().handle_exit(sig, frame)
            # A drained SIGTERM is a clean stop: exit 0 instead of re-raising the signal.
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and isinstance(captured, list) and sig in captured:
                captured.remove(sig)

    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=log_level,
        timeout_graceful_shutdown=settings.drain_timeout or None,
        lifespan="on", access_log=False, server_header=False,
        # h11, not httptools: httptools ignores the head-size bound below (a 20 MB header was
        # accepted). Bodies are bounded by the app's guard; h11 streams them in pieces.
        http=bounded_protocol(ConnectionLimits(
            max_connections=settings.max_connections, header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout)),
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.keepalive_timeout,  # type: ignore[arg-type]
    )
    server = _DrainingServer(config)
    if ready_message:
        auth = "bearer token required" if settings.token else "no auth: loopback only"
        print(f"rewardlab serving on http://{settings.host}:{settings.port} ({auth}; "
              "docs at /docs)", file=sys.stderr, flush=True)
    server.run()
