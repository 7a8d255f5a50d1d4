"""Micro-batching: concurrent small requests for one reward are coalesced into batches.

Each reward gets a :class:`MicroBatcher`. A request's samples join the reward's queue; a
collector takes the first queued sample, waits at most ``batch_window_ms`` for others (fewer
when the queue already holds a full batch), and hands up to ``max_batch_size`` samples to the
reward in one call, with at most ``max_concurrent_batches`` calls in flight. While all calls are
busy, new samples accumulate, so batches grow with load and shrink back when it falls.

Admission is all-or-nothing per request: if the queue cannot take every sample of a request,
none is taken and :class:`Overloaded` is raised (the server answers 429), so an accepted
request always gets all its outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rewardlab.errors import RewardlabError, error_outcome
from rewardlab.reward import Reward
from rewardlab.serve.prometheus import ServeMetrics
from rewardlab.serve.settings import RewardLimits
from rewardlab.types import Outcome, Sample, Status

log = logging.getLogger(__name__)


class Overloaded(RewardlabError, RuntimeError):
    """The reward's queue cannot take a request's samples now; retry after ``retry_after``."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(slots=True)
class _Item:
    sample: Sample
    future: asyncio.Future[Outcome]


class MicroBatcher:
    """Coalesces the samples of concurrent requests into batched calls of one reward.

    Args:
        alias: The reward's name on this server (metrics label).
        reward: The reward.
        limits: Batching and concurrency limits (all fields set).
        metrics: Where to count batches, outcomes and queue depth.
        retry_after: Seconds suggested to a refused caller.
    """

    def __init__(self, alias: str, reward: Reward, limits: RewardLimits, metrics: ServeMetrics,
                 retry_after: float = 1.0) -> None:
        self.alias = alias
        self.reward = reward
        self.max_batch_size = int(limits.max_batch_size or 64)
        self.window = float(limits.batch_window_ms or 0.0) / 1000.0
        self.max_queue = int(limits.max_queue or 4096)
        self.retry_after = retry_after
        self._slots = asyncio.Semaphore(int(limits.max_concurrent_batches or 1))
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._metrics = metrics
        self._depth = metrics.queue_depth.labels(alias)
        self._batch_hist = metrics.batch_size.labels(alias)
        self._batch_time = metrics.batch_seconds.labels(alias)
        self._outcome_counters = {s: metrics.outcomes.labels(alias, s.value) for s in Status}
        self._unfinished = 0
        self._collector: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()

    @property
    def unfinished(self) -> int:
        """Samples accepted and not resolved yet (queued or being scored)."""
        return self._unfinished

    def start(self) -> None:
        """Start the collector on the running event loop."""
        if self._collector is None:
            self._collector = asyncio.get_running_loop().create_task(
                self._collect(), name=f"rewardlab-batcher-{self.alias}")

    async def stop(self) -> None:
        """Stop collecting; samples still queued resolve to ``error`` outcomes."""
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
            self._collector = None
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_result(Outcome.fail(Status.ERROR, "the server is shutting down"))

    def submit(self, samples: Sequence[Sample]) -> list[asyncio.Future[Outcome]]:
        """Queue a request's samples; one future per sample.

        Raises:
            Overloaded: the queue cannot take all of them.
        """
        if self._unfinished + len(samples) > self.max_queue:
            self._metrics.rejected.labels(self.alias).inc()
            raise Overloaded(
                f"reward {self.alias!r} is at capacity ({self._unfinished} samples queued, "
                f"limit {self.max_queue})", self.retry_after)
        loop = asyncio.get_running_loop()
        futures = []
        for sample in samples:
            future: asyncio.Future[Outcome] = loop.create_future()
            future.add_done_callback(self._on_done)
            self._queue.put_nowait(_Item(sample, future))
            futures.append(future)
        self._unfinished += len(samples)
        self._depth.set(self._unfinished)
        return futures

    def _on_done(self, _future: asyncio.Future[Outcome]) -> None:
        # Also runs for futures cancelled at a request deadline, which frees their place.
        self._unfinished -= 1
        self._depth.set(self._unfinished)

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._slots.acquire()
            try:
                first = await self._queue.get()
                if self.window > 0 and self._queue.qsize() < self.max_batch_size - 1:
                    await asyncio.sleep(self.window)
                batch = [first]
                while len(batch) < self.max_batch_size and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                batch = [item for item in batch if not item.future.done()]
            except BaseException:
                self._slots.release()
                raise
            if not batch:
                self._slots.release()
                continue
            task = loop.create_task(self._score(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _score(self, batch: list[_Item]) -> None:
        started = time.perf_counter()
        try:
            try:
                outcomes = await self.reward.ascore([item.sample for item in batch])
            except Exception as exc:  # ascore only raises for programming errors; stay up
                log.exception("reward %s raised on a batch", self.alias)
                outcomes = [error_outcome(exc, self.alias)] * len(batch)
            self._batch_hist.observe(len(batch))
            self._batch_time.observe(time.perf_counter() - started)
            for item, outcome in zip(batch, outcomes, strict=True):
                self._outcome_counters[outcome.status].inc()
                if not item.future.done():
                    item.future.set_result(outcome)
        finally:
            self._slots.release()
            for item in batch:  # never leave a caller waiting
                if not item.future.done():
                    item.future.set_result(Outcome.fail(Status.ERROR, "batch was interrupted"))
