"""``vllm_rm``: a scalar reward model served by vLLM (``/classify`` or ``/pooling``).

vLLM serves sequence-classification and reward models through two endpoints:

* ``POST /classify`` ``{"model", "input": [text, ...]}`` answers
  ``{"data": [{"index", "label", "probs": [...], "num_classes"}, ...]}``;
* ``POST /pooling`` ``{"model", "input": [text, ...]}`` or ``{"model", "messages": [...]}``
  answers ``{"data": [{"index", "object": "pooling", "data": ...}, ...]}`` where ``data`` is a
  number, one vector of outputs, or one vector per token (reward models pool every token; the
  reward is the last token's).

With ``input_format="messages"`` the server applies the reward model's own chat template (one
request per sample, sent concurrently); with ``"text"`` prompt and response are joined with
``separator`` and sent in batches.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, Literal

from rewardlab.errors import RewardlabError
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status


class RemoteRMError(RewardlabError, RuntimeError):
    """The server answered with an error or a response of the wrong shape."""


@register("vllm_rm")
class VLLMRewardModel(Reward):
    """Score responses with a reward model served by vLLM.

    Args:
        base_url: Server root, e.g. ``http://127.0.0.1:8000`` (a trailing ``/v1`` is accepted).
        endpoint: ``pooling`` (reward models) or ``classify`` (classifiers: class probabilities).
        model: Served model name (default: the first one ``/v1/models`` lists).
        input_format: ``messages`` (server applies the RM's chat template), ``text``, or
            ``auto``: messages for ``pooling``, text for ``classify``.
        separator: Between prompt and response in ``text`` format.
        output_index: Which output is the reward (a class for ``classify``; default: the only
            one, or the last class of a binary classifier: the "positive" probability).
        batch_size: Texts per request in ``text`` format.
        max_concurrency: Requests in flight at once.
        timeout: Seconds per request.
        api_key: Sent as a bearer token when given.
    """

    def __init__(
        self,
        base_url: str,
        endpoint: Literal["pooling", "classify"] = "pooling",
        model: str | None = None,
        input_format: Literal["auto", "messages", "text"] = "auto",
        separator: str = "\n\n",
        output_index: int | None = None,
        batch_size: int = 32,
        max_concurrency: int = 8,
        timeout: float = 60.0,
        api_key: str | None = None,
    ) -> None:
        if endpoint not in ("pooling", "classify"):
            raise ValueError(f"endpoint must be 'pooling' or 'classify', got {endpoint!r}")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if batch_size < 1 or max_concurrency < 1 or timeout <= 0:
            raise ValueError("batch_size, max_concurrency and timeout must be positive")
        root = base_url.rstrip("/")
        self.base_url = root[: -len("/v1")] if root.endswith("/v1") else root
        self.endpoint = endpoint
        self.model = model
        if input_format == "auto":
            input_format = "messages" if endpoint == "pooling" else "text"
        if input_format not in ("messages", "text"):
            raise ValueError(f"input_format must be auto, messages or text; got {input_format!r}")
        self.input_format = input_format
        self.separator = separator
        self.output_index = output_index
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.api_key = api_key

    def describe(self) -> str:
        return f"vllm_rm({self.base_url}/{self.endpoint})"

    def _text(self, sample: Sample) -> str:
        prompt = sample.prompt_text
        return f"{prompt}{self.separator}{sample.response}" if prompt else sample.response

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.max_concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout, headers=headers, limits=limits
        ) as client:
            model = self.model or await self._first_model(client)
            gate = asyncio.Semaphore(self.max_concurrency)
            if self.input_format == "messages":
                chunks = [[i] for i in range(len(samples))]
            else:
                chunks = [
                    list(range(i, min(i + self.batch_size, len(samples))))
                    for i in range(0, len(samples), self.batch_size)
                ]

            async def run(rows: list[int]) -> list[Outcome]:
                async with gate:
                    try:
                        return await self._request(client, model, [samples[i] for i in rows])
                    except (RemoteRMError, httpx.HTTPError) as exc:
                        reason = f"{self.describe()}: {type(exc).__name__}: {exc}"[:500]
                        return [Outcome.fail(Status.ERROR, reason)] * len(rows)

            results = await asyncio.gather(*(run(rows) for rows in chunks))
        return [o for chunk in results for o in chunk]

    async def _first_model(self, client: Any) -> str:
        resp = await client.get("/v1/models")
        if resp.status_code != 200:
            raise RemoteRMError(f"GET /v1/models answered {resp.status_code}: {resp.text[:200]}")
        try:
            return str(resp.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RemoteRMError(f"cannot read a model name from /v1/models: {exc}") from None

    async def _request(self, client: Any, model: str, batch: list[Sample]) -> list[Outcome]:
        if self.input_format == "messages":
            (sample,) = batch
            messages = [*sample.messages, {"role": "assistant", "content": sample.response}]
            payload: dict[str, Any] = {"model": model, "messages": messages}
        else:
            payload = {"model": model, "input": [self._text(s) for s in batch]}
        resp = await client.post(f"/{self.endpoint}", json=payload)
        if resp.status_code != 200:
            raise RemoteRMError(f"HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            items = resp.json()["data"]
        except (ValueError, KeyError, TypeError):
            raise RemoteRMError(f"no 'data' list in the response: {resp.text[:300]}") from None
        if not isinstance(items, list) or len(items) != len(batch):
            raise RemoteRMError(f"expected {len(batch)} results, got {resp.text[:300]}")
        ordered = sorted(items, key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0)
        return [self._outcome(item) for item in ordered]

    def _outcome(self, item: Any) -> Outcome:
        try:
            if self.endpoint == "classify":
                outputs = [float(p) for p in item["probs"]]
                details: dict[str, Any] = {"probs": outputs, "label": item.get("label")}
            else:
                outputs = _last_position(item["data"])
                details = {"outputs": outputs} if len(outputs) > 1 else {}
        except (KeyError, TypeError, ValueError) as exc:
            return Outcome.fail(
                Status.ERROR, f"{self.describe()}: unexpected result shape {str(item)[:200]}",
                exception=type(exc).__name__,
            )
        if not outputs:
            return Outcome.fail(Status.ERROR, f"{self.describe()}: empty output")
        index = self.output_index
        if index is None:
            if len(outputs) > 2:
                return Outcome.fail(
                    Status.ERROR,
                    f"{self.describe()}: the model has {len(outputs)} outputs; set output_index",
                    **details,
                )
            index = len(outputs) - 1
        if not -len(outputs) <= index < len(outputs):
            return Outcome.fail(
                Status.ERROR, f"output_index {index} out of range for {len(outputs)} outputs"
            )
        score = outputs[index]
        if not math.isfinite(score):
            return Outcome.fail(Status.ERROR, f"{self.describe()}: non-finite score {score}")
        return Outcome.ok(score, **details)


def _last_position(data: Any) -> list[float]:
    """A pooling result as one output vector: a number, a vector, or the last token's vector."""
    if isinstance(data, int | float) and not isinstance(data, bool):
        return [float(data)]
    if not isinstance(data, list) or not data:
        raise ValueError("pooling data must be a number or a non-empty list")
    if all(isinstance(x, list) for x in data):
        return [float(x) for x in data[-1]]
    return [float(x) for x in data]


@register("rewardlab_rm")
def rewardlab_rm(
    url: str | list[str],
    reward: str | None = None,
    token: str | None = None,
    timeout: float = 120.0,
    max_retries: int = 5,
) -> Reward:
    """A reward (e.g. a ``scalar_rm``) served by another ``rewardlab serve`` process.

    Args:
        url: Server base URL(s); several are used round robin.
        reward: The served reward's alias (default: the server's default reward).
        token: Bearer token, if the server requires one.
        timeout: Seconds per request.
        max_retries: Retries on 429/5xx/connection errors.
    """
    from rewardlab.serve.client import Client

    client = Client(url, token=token, reward=reward, timeout=timeout, max_retries=max_retries)
    return client.as_reward(reward)
