"""The reward server as a FastAPI app: ``create_app(rewards)`` or ``app_from_spec(spec)``.

Endpoints:

* ``POST /v1/score``: samples in, typed outcomes out (rewardlab's native protocol);
* ``POST /get_reward``: OpenRLHF's protocol (``?reward=ALIAS`` picks a reward);
* ``GET /v1/rewards``: the served rewards;
* ``GET /health`` (alive), ``GET /ready`` (accepting work), ``GET /metrics`` (Prometheus);
* ``GET /docs``, ``GET /openapi.json``.

Every request passes a guard first: bearer-token check (constant-time) when a token is set, and
the request-body size limit. Errors are JSON ``{"error": {"type", "message", "field"}}``; bad
input gets a 4xx that names the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pydantic
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from rewardlab.errors import RewardlabError
from rewardlab.reward import CpuReward, Reward
from rewardlab.serve.batcher import MicroBatcher, Overloaded
from rewardlab.serve.docs_assets import ASSETS_PREFIX, install_docs
from rewardlab.serve.prometheus import ServeMetrics
from rewardlab.serve.protocol import (
    ErrorBody,
    GetRewardRequest,
    GetRewardResponse,
    PromptMismatch,
    ScoreRequest,
    ScoreResponse,
    openrlhf_response,
    recover_response,
)
from rewardlab.serve.settings import ServeSettings, settings_from_spec
from rewardlab.types import Outcome, Sample, Status

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/openapi.json",
                          "/redoc"})
_ENDPOINTS = frozenset({"/v1/score", "/get_reward", "/v1/rewards", "/health", "/ready",
                        "/metrics"})


class ApiError(RewardlabError):
    """An error reply: HTTP status, machine-readable type, message and the offending field."""

    def __init__(self, status: int, type_: str, message: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.field = status, type_, message, field
        self.headers = dict(headers or {})


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(body, status_code=status, headers=dict(headers or {}),
                    media_type="application/json")


def _error_response(err: ApiError) -> Response:
    return _json({"error": {"type": err.type, "message": err.message, "field": err.field}},
                 err.status, err.headers)


def _warm_task(_: Any) -> Outcome:
    return Outcome.ok(0.0)


class RewardService:
    """The state behind one app: rewards, their batchers, settings, metrics, readiness."""

    def __init__(self, rewards: Mapping[str, Reward], settings: ServeSettings) -> None:
        if not rewards:
            raise ValueError("the server needs at least one reward")
        unknown = sorted(set(settings.per_reward) - set(rewards))
        if unknown:
            raise ValueError(f"serve.per_reward names rewards that are not served: {unknown}")
        if settings.default_reward is not None and settings.default_reward not in rewards:
            raise ValueError(f"default_reward {settings.default_reward!r} is not served; "
                             f"served: {sorted(rewards)}")
        self.rewards = dict(rewards)
        self.settings = settings
        self.metrics = ServeMetrics()
        self.default_alias = settings.default_reward or next(iter(self.rewards))
        self.batchers: dict[str, MicroBatcher] = {}
        self.ready = False
        self.draining = False
        self._token = settings.token.encode() if settings.token else None
        self._uses_engine = any(isinstance(r, CpuReward) and r.isolation == "process"
                                for r in self.rewards.values())

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the batchers and warm the engine's workers; then report ready."""
        for alias, reward in self.rewards.items():
            batcher = MicroBatcher(alias, reward, self.settings.limits_for(alias), self.metrics,
                                   self.settings.retry_after)
            batcher.start()
            self.batchers[alias] = batcher
        if self._uses_engine:
            await self._warm_engine()
        self.ready = True

    async def _warm_engine(self) -> None:
        from rewardlab.engine import default_engine

        engine = default_engine()
        futures = [engine.submit(_warm_task, None, timeout=60) for _ in range(engine.num_workers)]
        await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))

    async def stop(self) -> None:
        """Stop the batchers and release the rewards."""
        self.ready = False
        for batcher in self.batchers.values():
            await batcher.stop()
        for reward in self.rewards.values():
            with contextlib.suppress(Exception):
                reward.close()

    def engine_health(self) -> dict[str, Any] | None:
        """The engine's health when a served reward runs in its workers, else ``None``."""
        if not self._uses_engine:
            return None
        from rewardlab.engine import default_engine

        return default_engine().health()

    # -- auth -------------------------------------------------------------------------------

    def authorized(self, header: bytes | None) -> bool:
        """Constant-time check of an ``Authorization: Bearer ...`` header value."""
        if self._token is None:
            return True
        if not header:
            return False
        scheme, _, value = header.partition(b" ")
        # compare_digest keeps the check's time independent of where the strings differ.
        return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), self._token)

    # -- scoring ----------------------------------------------------------------------------

    def resolve_alias(self, alias: str | None) -> str:
        """The served alias a request asks for (``None``: the default)."""
        if alias is None:
            return self.default_alias
        if alias not in self.rewards:
            raise ApiError(404, "unknown_reward",
                           f"no reward {alias!r} on this server; served: {sorted(self.rewards)}",
                           field="reward")
        return alias

    def check_size(self, count: int, field: str) -> None:
        """Refuse requests with more samples than the server allows."""
        limit = self.settings.max_request_samples
        if count > limit:
            raise ApiError(413, "too_many_samples",
                           f"field {field!r} has {count} items; the limit is {limit} per request",
                           field=field)

    def deadline(self, requested: float | None) -> float:
        """A request's deadline: what it asked for, capped by the server's."""
        cap = self.settings.request_timeout
        return cap if requested is None else min(float(requested), cap)

    async def score(self, alias: str, samples: Sequence[Sample], timeout: float) -> list[Outcome]:
        """Score samples through the alias's batcher; late samples get ``timeout`` outcomes.

        Raises:
            ApiError: 429 when the reward's queue is full, 503 while draining or starting.
        """
        if not samples:
            return []
        if not self.ready:
            raise ApiError(503, "not_ready", "the server is starting or shutting down",
                           headers={"Retry-After": "1"})
        batcher = self.batchers[alias]
        try:
            futures = batcher.submit(samples)
        except Overloaded as exc:
            raise ApiError(429, "overloaded", str(exc),
                           headers={"Retry-After": f"{max(1, round(exc.retry_after))}"}) from None
        try:
            await asyncio.wait(futures, timeout=timeout)
        finally:
            for future in futures:
                future.cancel()  # no-op for finished ones; frees queue places of late ones
        outcomes = []
        late = self.metrics.outcomes.labels(alias, Status.TIMEOUT.value)
        for future in futures:
            if future.cancelled():
                late.inc()
                outcomes.append(Outcome.fail(
                    Status.TIMEOUT, f"no outcome within the request deadline of {timeout:g} s",
                    deadline_s=timeout))
            else:
                outcomes.append(future.result())
        return outcomes


    async def handle_score(self, request: ScoreRequest) -> dict[str, Any]:
        """``POST /v1/score``: the reply body for a parsed request."""
        alias = self.resolve_alias(request.reward)
        self.check_size(len(request.samples), "samples")
        samples = []
        for i, wire in enumerate(request.samples):
            try:
                samples.append(wire.to_sample())
            except (TypeError, ValueError) as exc:
                raise ApiError(422, "invalid_request", f"field 'samples.{i}': {exc}",
                               field=f"samples.{i}") from None
        outcomes = await self.score(alias, samples, self.deadline(request.timeout))
        return {"reward": alias, "outcomes": [o.to_dict() for o in outcomes]}

    async def handle_get_reward(self, request: GetRewardRequest,
                                alias: str | None) -> dict[str, Any]:
        """``POST /get_reward`` (OpenRLHF): the reply body for a parsed request."""
        alias = self.resolve_alias(alias)
        n = len(request.query)
        self.check_size(n, "query")
        for name in ("prompts", "labels"):
            values = getattr(request, name)
            if values is not None and len(values) != n:
                raise ApiError(422, "invalid_request",
                               f"field {name!r} has {len(values)} items but 'query' has {n}",
                               field=name)
        prompts = request.prompts or [None] * n
        labels = request.labels or [None] * n
        outcomes: list[Outcome | None] = [None] * n
        samples, positions = [], []
        for i, (query, prompt, label) in enumerate(zip(request.query, prompts, labels,
                                                       strict=True)):
            try:
                response = recover_response(query, prompt, self.settings.strip_tokens)
            except PromptMismatch as exc:
                outcomes[i] = Outcome.fail(Status.ERROR, f"query {i}: {exc}", field="prompts")
                self.metrics.outcomes.labels(alias, Status.ERROR.value).inc()
                continue
            samples.append(Sample(response=response, prompt=prompt, reference=label))
            positions.append(i)
        scored = await self.score(alias, samples, self.deadline(None))
        for i, outcome in zip(positions, scored, strict=True):
            outcomes[i] = outcome
        done = [o for o in outcomes if o is not None]
        return openrlhf_response(done, self.settings.failure_reward)


def _field_of(loc: Sequence[Any], prefixed: bool = True) -> str:
    # FastAPI prefixes locations with where the value came from ("body", "query"...).
    parts = [str(p) for p in loc]
    if prefixed and parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def _validation_response(errors: Sequence[Any], prefixed: bool = True) -> Response:
    """400 for a body that is not JSON, else 422 naming the first bad field (and listing all)."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx") or {}
        detail = ctx.get("error", first.get("msg", ""))
        return _error_response(ApiError(400, "invalid_json",
                                        f"the body is not valid JSON: {detail}", "(body)"))
    field = _field_of(first.get("loc", ()), prefixed)
    problems = "; ".join(f"field {_field_of(e.get('loc', ()), prefixed)!r}: {e.get('msg')}"
                         for e in errors[:10])
    return _json({"error": {"type": "invalid_request", "message": problems, "field": field,
                            "errors": [{"field": _field_of(e.get("loc", ()), prefixed),
                                        "message": e.get("msg")} for e in errors[:50]]}}, 422)


class _Guard:
    """Pure-ASGI front door: auth, body size limit and request metrics, before any parsing."""

    def __init__(self, app: Any, service: RewardService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        endpoint = path if path in _ENDPOINTS else "other"
        metrics = self.service.metrics
        started = time.perf_counter()
        code = 500

        async def send_tracking(message: dict[str, Any]) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        metrics.in_flight.inc()
        try:
            error = self._check_headers(scope) or self._check_auth(scope, path)
            if error is None:
                body, error = await self._read_body(scope, receive)
            if error is not None:
                await _error_response(error)(scope, receive, send_tracking)
                return
            if scope["method"] == "POST" and path in self.FAST_ROUTES:
                response = await self._fast(path, body, scope)
                await response(scope, receive, send_tracking)
                return
            if scope["method"] == "POST":
                scope = _as_json(scope)
            await self.app(scope, _replay(body, receive), send_tracking)
        finally:
            metrics.in_flight.dec()
            metrics.requests.labels(endpoint, str(code)).inc()
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    FAST_ROUTES = frozenset({"/v1/score", "/get_reward"})

    async def _fast(self, path: str, body: bytes, scope: dict[str, Any]) -> Response:
        """The scoring endpoints without the framework's per-request routing and dependency
        machinery (most of a tiny request's cost): parse with pydantic, run the handler."""
        service = self.service
        try:
            if path == "/v1/score":
                return _json(await service.handle_score(ScoreRequest.model_validate_json(body)))
            alias = None
            if scope.get("query_string"):
                values = parse_qs(scope["query_string"].decode("latin-1")).get("reward")
                alias = values[-1] if values else None
            request = GetRewardRequest.model_validate_json(body)
            return _json(await service.handle_get_reward(request, alias))
        except pydantic.ValidationError as exc:
            return _validation_response(exc.errors(include_url=False), prefixed=False)
        except ApiError as exc:
            return _error_response(exc)

    def _check_headers(self, scope: dict[str, Any]) -> ApiError | None:
        limit = self.service.settings.max_headers
        count = len(scope.get("headers", ()))
        if count > limit:
            return ApiError(431, "too_many_headers",
                            f"the request has {count} header fields; the limit is {limit}",
                            field="(headers)")
        return None

    def _check_auth(self, scope: dict[str, Any], path: str) -> ApiError | None:
        if path in PUBLIC_PATHS or path.startswith(ASSETS_PREFIX) \
                or self.service.settings.token is None:
            return None
        header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        if self.service.authorized(header):
            return None
        message = ("missing bearer token" if header is None else "invalid bearer token")
        return ApiError(401, "unauthorized", message, field="Authorization",
                        headers={"WWW-Authenticate": "Bearer"})

    async def _read_body(self, scope: dict[str, Any], receive: Any
                         ) -> tuple[bytes, ApiError | None]:
        limit = self.service.settings.max_body_bytes
        too_big = ApiError(413, "body_too_large",
                           f"the request body exceeds the {limit}-byte limit", field="(body)")
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    if int(value) > limit:
                        return b"", too_big
                except ValueError:
                    return b"", ApiError(400, "bad_request", "invalid Content-Length",
                                         field="Content-Length")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # Gone before the whole body came (or cut off by the body deadline): nothing
                # is parsed or scored, and the reply goes nowhere.
                return b"", ApiError(400, "incomplete_body", "the client disconnected before "
                                     "sending the whole body", field="(body)")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None


def _as_json(scope: dict[str, Any]) -> dict[str, Any]:
    # Both protocols are JSON-only: read the body as JSON whatever Content-Type says (curl's
    # default form type included), so the reply is about the JSON itself.
    headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"content-type"]
    headers.append((b"content-type", b"application/json"))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: wait for the disconnect like the real channel

    return replay


def create_app(rewards: Mapping[str, Reward], settings: ServeSettings | None = None) -> Any:
    """The reward server's ASGI app, serving ``rewards`` by alias.

    Args:
        rewards: ``{alias: reward}``, e.g. from :func:`rewardlab.rewards_from_spec`.
        settings: Limits, batching, auth (default: :class:`ServeSettings` defaults).

    Returns:
        An ASGI app (the FastAPI app behind the auth/size guard); the FastAPI app itself is
        its ``fastapi_app`` attribute and the state its ``service`` attribute.
    """
    service = RewardService(rewards, settings or ServeSettings())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="rewardlab reward server",
        description="Scores LLM responses with rewardlab rewards. Native protocol: "
                    "`POST /v1/score`; OpenRLHF: `POST /get_reward`.",
        lifespan=lifespan,
        docs_url=None,  # install_docs serves Swagger UI from a wheel, not a CDN
        responses={401: {"model": ErrorBody}, 413: {"model": ErrorBody},
                   429: {"model": ErrorBody}},
    )
    app.state.service = service
    install_docs(app)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return _validation_response(exc.errors())

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="Readiness: accepting scoring work",
             responses={503: {"description": "starting, draining, or no engine worker can "
                                            "serve (workers restarting)"}})
    async def ready() -> Response:
        serving = service.ready and not service.draining
        engine = service.engine_health() if serving else None
        if serving and (engine is None or engine["healthy"]):
            return _json({"status": "ready", "rewards": sorted(service.rewards)})
        if service.draining:
            body: dict[str, Any] = {"status": "draining"}
        elif not service.ready:
            body = {"status": "starting"}
        else:  # the engine's workers cannot serve right now (they are being restarted)
            body = {"status": "unavailable", "reason": engine["reason"] if engine else None}
        return _json(body, 503, {"Retry-After": "1"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(service.metrics.render(), media_type=service.metrics.content_type)

    @app.get("/v1/rewards", tags=["scoring"], summary="The rewards this server serves")
    async def list_rewards() -> dict[str, Any]:
        return {"default": service.default_alias,
                "rewards": [{"alias": a, "name": r.name or type(r).__name__,
                             "describe": r.describe()} for a, r in service.rewards.items()]}

    # The guard answers these two hot endpoints itself (see _Guard.FAST_ROUTES); the routes
    # below run the same handlers and give the OpenAPI docs their schemas.
    @app.post("/v1/score", tags=["scoring"], response_model=ScoreResponse,
              summary="Score samples (native protocol)")
    async def score(request: ScoreRequest) -> Response:
        return _json(await service.handle_score(request))

    @app.post("/get_reward", tags=["scoring"], response_model=GetRewardResponse,
              summary="Score samples (OpenRLHF remote reward protocol)")
    async def get_reward(request: GetRewardRequest,
                         reward: str | None = Query(default=None, description="reward alias"),
                         ) -> Response:
        return _json(await service.handle_get_reward(request, reward))

    return _Guarded(_Guard(app, service), app, service)


class _Guarded:
    """The guarded ASGI app, exposing the FastAPI app and its service for tests and tooling."""

    def __init__(self, guard: _Guard, fastapi_app: FastAPI, service: RewardService) -> None:
        self._guard = guard
        self.fastapi_app = fastapi_app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self._guard(scope, receive, send)


def app_from_spec(source: str | Path | Mapping[str, Any],
                  settings: ServeSettings | None = None, **overrides: Any) -> Any:
    """Build the server app from a spec (``reward:`` or ``rewards: {alias: spec}``).

    The spec's optional ``serve:`` section gives settings; ``settings`` (if given) replaces it,
    and keyword ``overrides`` (e.g. ``token=...``) apply last.
    """
    from rewardlab.spec import load_spec, rewards_from_spec

    data = load_spec(source)
    base = settings or settings_from_spec(data)
    if isinstance(data, Mapping) and "serve" in data:
        data = {k: v for k, v in data.items() if k != "serve"}
    return create_app(rewards_from_spec(data), base.with_overrides(**overrides))
