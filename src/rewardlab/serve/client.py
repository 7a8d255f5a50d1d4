"""``rewardlab.Client``: a sync and async client of the reward server.

It keeps connections alive, retries with exponential backoff on 429, 5xx and connection
errors (honouring ``Retry-After``), and spreads requests over several server URLs (round robin;
a retry moves to the next URL). Errors that retrying cannot fix (4xx) raise
:class:`RewardServiceError` at once, with the server's message naming the bad field.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import random
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from rewardlab.errors import RewardlabError
from rewardlab.reward import Reward
from rewardlab.serve.protocol import sample_to_wire
from rewardlab.types import Outcome, Sample

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RewardServiceError(RewardlabError, RuntimeError):
    """The reward server refused or failed a request (after any retries).

    Attributes:
        status_code: The HTTP status (``None`` when no server answered).
        error_type: The server's error type (``invalid_request``, ``overloaded``...).
        field: The request field the server blamed, if any.
        url: The URL of the last attempt.
    """

    def __init__(self, message: str, status_code: int | None = None, error_type: str = "",
                 field: str | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.field = field
        self.url = url


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _error_from(response: httpx.Response) -> RewardServiceError:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    message = error.get("message") or response.text[:300] or response.reason_phrase
    return RewardServiceError(f"{response.status_code} from {response.request.url}: {message}",
                              response.status_code, error.get("type", ""), error.get("field"),
                              str(response.request.url))


class Client:
    """Client of one or more rewardlab servers, sync and async.

    Args:
        urls: Base URL(s) of servers serving the same rewards, e.g. ``"http://127.0.0.1:8000"``.
        token: Bearer token, if the servers require one.
        reward: Default reward alias (``None``: each server's default).
        timeout: Per-request deadline in seconds (also sent to the server).
        max_retries: Retries after the first attempt on 429/5xx/connection errors.
        backoff: First retry delay in seconds; doubles per retry (with jitter).
        max_backoff: Cap on one retry delay, including a server's ``Retry-After``.
        max_connections: Connection pool size (kept alive between requests).
        chunk_size: Most samples per request; larger batches are split and sent concurrently.
    """

    def __init__(self, urls: str | Sequence[str], *, token: str | None = None,
                 reward: str | None = None, timeout: float = 120.0, max_retries: int = 5,
                 backoff: float = 0.25, max_backoff: float = 30.0, max_connections: int = 64,
                 chunk_size: int = 512) -> None:
        urls = [urls] if isinstance(urls, str) else list(urls)
        if not urls:
            raise ValueError("Client needs at least one server URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.reward = reward
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.chunk_size = max(1, int(chunk_size))
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._limits = httpx.Limits(max_connections=max_connections,
                                    max_keepalive_connections=max_connections)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._async: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def _http_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout + 10.0, connect=min(10.0, self.timeout))

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._sync is None:
                self._sync = httpx.Client(headers=self._headers, limits=self._limits,
                                          timeout=self._http_timeout())
            return self._sync

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            # One pool per event loop: an httpx.AsyncClient cannot move between loops.
            for old in [lp for lp in self._async if lp.is_closed()]:
                self._async.pop(old)
            client = httpx.AsyncClient(headers=self._headers, limits=self._limits,
                                       timeout=self._http_timeout())
            self._async[loop] = client
        return client

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff * (2 ** attempt) * random.uniform(0.5, 1.0)
        if response is not None:
            hinted = _retry_after(response)
            if hinted is not None:
                delay = max(delay, hinted)
        return min(delay, self.max_backoff)

    def _plan(self, attempt: int, response: httpx.Response | None,
              exc: Exception | None, url: str) -> float:
        """Seconds to wait before retrying, or raise when this outcome is final."""
        if response is not None and response.status_code not in RETRY_STATUSES:
            raise _error_from(response)
        if attempt >= self.max_retries:
            if response is not None:
                raise _error_from(response)
            raise RewardServiceError(f"no answer from {url} after {attempt + 1} attempts: "
                                     f"{type(exc).__name__}: {exc}", url=url) from exc
        return self._delay(attempt, response)

    def _start(self) -> int:
        return next(self._turn) % len(self.urls)

    def _request(self, method: str, path: str, body: Any = None,
                 params: dict[str, str] | None = None) -> Any:
        client, first = self._sync_client(), self._start()
        for attempt in itertools.count():
            url = self.urls[(first + attempt) % len(self.urls)] + path
            response, exc = None, None
            try:
                response = client.request(method, url, json=body, params=params)
            except httpx.TransportError as error:
                exc = error
            if response is not None and response.status_code < 300:
                return response.json()
            time.sleep(self._plan(attempt, response, exc, url))
        raise AssertionError("unreachable")

    async def _arequest(self, method: str, path: str, body: Any = None,
                        params: dict[str, str] | None = None) -> Any:
        client, first = self._async_client(), self._start()
        for attempt in itertools.count():
            url = self.urls[(first + attempt) % len(self.urls)] + path
            response, exc = None, None
            try:
                response = await client.request(method, url, json=body, params=params)
            except httpx.TransportError as error:
                exc = error
            if response is not None and response.status_code < 300:
                return response.json()
            await asyncio.sleep(self._plan(attempt, response, exc, url))
        raise AssertionError("unreachable")

    def _score_body(self, samples: Sequence[Sample], reward: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"samples": [sample_to_wire(s) for s in samples],
                                "timeout": self.timeout}
        alias = reward or self.reward
        if alias:
            body["reward"] = alias
        return body

    @staticmethod
    def _outcomes(reply: Any, expected: int) -> list[Outcome]:
        outcomes = [Outcome.from_dict(o) for o in reply.get("outcomes", [])]
        if len(outcomes) != expected:
            raise RewardServiceError(
                f"the server returned {len(outcomes)} outcomes for {expected} samples")
        return outcomes

    def _chunks(self, samples: Iterable[Sample]) -> list[list[Sample]]:
        batch = list(samples)
        for i, s in enumerate(batch):
            if not isinstance(s, Sample):
                raise TypeError(f"item {i} is a {type(s).__name__}, expected rewardlab.Sample")
        return [batch[i:i + self.chunk_size] for i in range(0, len(batch), self.chunk_size)]

    # -- public API -------------------------------------------------------------------------

    def score(self, samples: Iterable[Sample], *, reward: str | None = None) -> list[Outcome]:
        """Score samples on the server (``/v1/score``); one outcome per sample, in order.

        Raises:
            RewardServiceError: the server refused the request or could not be reached.
        """
        out: list[Outcome] = []
        for chunk in self._chunks(samples):
            reply = self._request("POST", "/v1/score", self._score_body(chunk, reward))
            out.extend(self._outcomes(reply, len(chunk)))
        return out

    async def ascore(self, samples: Iterable[Sample], *,
                     reward: str | None = None) -> list[Outcome]:
        """Async :meth:`score` (chunks are sent concurrently)."""
        chunks = self._chunks(samples)
        replies = await asyncio.gather(*(
            self._arequest("POST", "/v1/score", self._score_body(c, reward)) for c in chunks))
        return [o for c, r in zip(chunks, replies, strict=True)
                for o in self._outcomes(r, len(c))]

    def score_one(self, sample: Sample, *, reward: str | None = None) -> Outcome:
        """Score one sample."""
        return self.score([sample], reward=reward)[0]

    def get_reward(self, queries: Sequence[str], prompts: Sequence[str] | None = None,
                   labels: Sequence[Any] | None = None, *,
                   reward: str | None = None) -> dict[str, Any]:
        """Call OpenRLHF's ``/get_reward``; returns ``{rewards, scores, extra_logs, statuses}``."""
        return self._request("POST", "/get_reward", *self._openrlhf(queries, prompts, labels,
                                                                     reward))

    async def aget_reward(self, queries: Sequence[str], prompts: Sequence[str] | None = None,
                          labels: Sequence[Any] | None = None, *,
                          reward: str | None = None) -> dict[str, Any]:
        """Async :meth:`get_reward`."""
        return await self._arequest("POST", "/get_reward",
                                    *self._openrlhf(queries, prompts, labels, reward))

    def _openrlhf(self, queries: Sequence[str], prompts: Sequence[str] | None,
                  labels: Sequence[Any] | None, reward: str | None
                  ) -> tuple[dict[str, Any], dict[str, str] | None]:
        body: dict[str, Any] = {"query": list(queries)}
        if prompts is not None:
            body["prompts"] = list(prompts)
        if labels is not None:
            body["labels"] = list(labels)
        alias = reward or self.reward
        return body, ({"reward": alias} if alias else None)

    def rewards(self) -> dict[str, Any]:
        """The rewards the (first reachable) server serves."""
        return self._request("GET", "/v1/rewards")

    def ready(self) -> bool:
        """True when every server answers ``/ready`` with 200."""
        client = self._sync_client()
        try:
            return all(client.get(u + "/ready").status_code == 200 for u in self.urls)
        except httpx.TransportError:
            return False

    def as_reward(self, reward: str | None = None) -> RemoteReward:
        """A :class:`~rewardlab.Reward` that scores through this client."""
        return RemoteReward(self, reward)

    def close(self) -> None:
        """Close the sync connection pool (async pools close with :meth:`aclose`)."""
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None

    async def aclose(self) -> None:
        """Close the connection pools."""
        self.close()
        for client in list(self._async.values()):
            await client.aclose()
        self._async.clear()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class RemoteReward(Reward):
    """A reward scored by a rewardlab server through a :class:`Client`.

    A failed request (after the client's retries) becomes ``error`` outcomes, never a number.

    Args:
        client: The client.
        reward: The reward alias on the server (``None``: the client's default).
    """

    name = "remote"

    def __init__(self, client: Client, reward: str | None = None) -> None:
        self.client = client
        self.alias = reward

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        return await self.client.ascore(samples, reward=self.alias)

    def describe(self) -> str:
        return f"remote({self.alias or 'default'}@{','.join(self.client.urls)})"

    def close(self) -> None:
        self.client.close()
