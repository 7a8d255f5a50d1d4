"""Test-only rewards for the server tests (imported by the server with ``--plugin``).

``test_crash_on_marker`` kills its own worker process when a response contains the marker, so
a test can crash a worker mid-request; ``test_sleep`` holds a batch for a while, so a test can
fill the queue, hit deadlines or catch a request in flight.
"""

from __future__ import annotations

import asyncio
import os
import signal

from rewardlab.registry import register
from rewardlab.reward import CpuReward, Reward
from rewardlab.types import Outcome, Sample

KILL_MARKER = "KILL-WORKER"


@register("test_crash_on_marker")
class CrashOnMarker(CpuReward):
    """Scores len(response); SIGKILLs its own worker when the response holds the marker."""

    default_isolation = "process"

    def __init__(self, timeout: float = 20.0) -> None:
        super().__init__(timeout=timeout, isolation="process", cache=False)

    def compute(self, sample: Sample) -> Outcome:
        if KILL_MARKER in sample.response:
            os.kill(os.getpid(), signal.SIGKILL)
        return Outcome.ok(float(len(sample.response)))


@register("test_sleep")
class Sleep(Reward):
    """Waits ``delay`` seconds per batch (or the largest ``metadata.sleep``), then scores 1.0."""

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        await asyncio.sleep(max(float(s.metadata.get("sleep", self.delay)) for s in samples))
        return [Outcome.ok(1.0, batch=len(samples)) for _ in samples]


@register("test_nap")
class Nap(CpuReward):
    """Sleeps ``seconds`` in an engine worker per sample, then scores 1.0 (for worker kills)."""

    default_isolation = "process"

    def __init__(self, seconds: float = 0.05, timeout: float = 20.0) -> None:
        super().__init__(timeout=timeout, isolation="process", cache=False)
        self.seconds = seconds

    def compute(self, sample: Sample) -> Outcome:
        import time

        time.sleep(self.seconds)
        return Outcome.ok(1.0)
