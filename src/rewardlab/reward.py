"""The ``Reward`` interface: batch-first, async at the core, with a sync convenience.

Two base classes cover every reward source:

* :class:`Reward` for anything that scores a batch asynchronously (models, judges, HTTP
  backends, combinators). Implement :meth:`Reward.score_batch`.
* :class:`CpuReward` for pure per-sample CPU work (verifiers). Implement
  :meth:`CpuReward.compute`; the engine runs it in worker processes under a hard deadline.

Callers use :meth:`Reward.ascore` (async) or :meth:`Reward.score` (sync). Both guarantee one
:class:`~rewardlab.types.Outcome` per sample, in order, and never raise for a grader failure:
an exception inside a reward becomes an ``error`` outcome that says what went wrong.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from abc import ABC, abstractmethod
from collections.abc import Coroutine, Iterable
from typing import Any, ClassVar, Literal, TypeVar

from rewardlab.errors import error_outcome  # re-exported: models/ and prm/ import it from here
from rewardlab.types import Outcome, Sample, Status

log = logging.getLogger(__name__)
T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    Works from the main thread, from other threads, and from inside a running event loop (the
    coroutine then runs on a private loop in a helper thread, so the caller's loop is not
    re-entered).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rewardlab-sync") as pool:
        return pool.submit(asyncio.run, coro).result()


class Reward(ABC):
    """Anything that turns a batch of samples into one outcome per sample.

    Subclasses implement :meth:`score_batch`. ``name`` is the registry name (set by
    :func:`rewardlab.registry.register`).
    """

    name: ClassVar[str] = ""

    @abstractmethod
    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        """Score a non-empty batch; return exactly one outcome per sample, in order."""

    async def ascore(self, samples: Iterable[Sample]) -> list[Outcome]:
        """Score samples asynchronously. One outcome per sample, in order; never raises for a
        grader failure (it becomes an ``error`` outcome)."""
        batch = list(samples)
        for i, s in enumerate(batch):
            if not isinstance(s, Sample):
                raise TypeError(f"item {i} is a {type(s).__name__}, expected rewardlab.Sample")
        if not batch:
            return []
        try:
            outcomes = list(await self.score_batch(batch))
        except Exception as exc:  # a broken grader must not take the caller down
            log.warning("reward %s failed on a batch of %d: %r", self.describe(), len(batch), exc)
            failed = error_outcome(exc, self.describe())
            return [failed] * len(batch)
        if len(outcomes) != len(batch):
            reason = (
                f"{self.describe()} returned {len(outcomes)} outcomes for {len(batch)} samples"
            )
            return [Outcome.fail(Status.ERROR, reason)] * len(batch)
        for i, o in enumerate(outcomes):
            if not isinstance(o, Outcome):
                outcomes[i] = Outcome.fail(
                    Status.ERROR, f"{self.describe()} returned a {type(o).__name__}, not an Outcome"
                )
        return outcomes

    def score(self, samples: Iterable[Sample]) -> list[Outcome]:
        """Synchronous :meth:`ascore`; usable from any thread and inside a running event loop."""
        return run_sync(self.ascore(samples))

    def score_one(self, sample: Sample) -> Outcome:
        """Score a single sample synchronously."""
        return self.score([sample])[0]

    def describe(self) -> str:
        """A short label for logs and error messages."""
        return self.name or type(self).__name__

    def close(self) -> None:  # noqa: B027 - optional hook, most rewards hold nothing
        """Release resources (models, connections). Safe to call twice."""


class CpuReward(Reward):
    """A reward whose per-sample logic is pure, picklable CPU work.

    :meth:`compute` runs in engine worker processes with a wall-clock deadline enforced from
    outside the worker (``isolation="process"``, the default), or in the calling process for
    trivial linear-time rewards (``isolation="inline"``: no deadline, exceptions still become
    ``error`` outcomes). Instances are pickled to the workers, so keep their state small and
    picklable.

    Args:
        timeout: Per-sample wall-clock deadline in seconds (process isolation only).
        isolation: ``"process"`` or ``"inline"``.
        cache: Let the engine reuse outcomes for identical (reward config, sample) content.
    """

    default_isolation: ClassVar[Literal["process", "inline"]] = "process"
    imports: tuple[str, ...] = ()
    """Modules ``compute`` needs. A worker imports them before an item's deadline starts, so
    a slow first import (sympy: about a second) is never billed to, or times out, a sample."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
        cache: bool = True,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = float(timeout)
        self.isolation = isolation or self.default_isolation
        if self.isolation not in ("process", "inline"):
            raise ValueError(f"isolation must be 'process' or 'inline', got {self.isolation!r}")
        self.cache = cache

    @abstractmethod
    def compute(self, sample: Sample) -> Outcome:
        """Score one sample. Runs in a worker process; may raise (becomes ``error``)."""

    def compute_safe(self, sample: Sample) -> Outcome:
        """:meth:`compute`, with exceptions turned into ``error`` outcomes."""
        try:
            outcome = self.compute(sample)
        except Exception as exc:
            return error_outcome(exc, self.describe())
        if not isinstance(outcome, Outcome):
            return Outcome.fail(
                Status.ERROR, f"{self.describe()} returned a {type(outcome).__name__}"
            )
        return outcome

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        if self.isolation == "inline":
            return [self.compute_safe(s) for s in samples]
        from rewardlab.engine import default_engine

        engine = default_engine()
        return await engine.amap(
            _compute_in_worker, [(self, s) for s in samples], timeout=self.timeout,
            cache=self.cache, imports=(type(self).__module__, *self.imports),
        )


def _compute_in_worker(task: tuple[CpuReward, Sample]) -> Outcome:
    reward, sample = task
    return reward.compute_safe(sample)
