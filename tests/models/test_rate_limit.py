"""RateBudget: a sliding window on requests and tokens, checked with a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from rewardlab.backends.rate_limit import RateBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_per_minute_spaces_out_the_excess():
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=3, clock=clock.time, sleep=clock.sleep)

    async def run() -> list[float]:
        starts = []
        for _ in range(7):
            await budget.acquire()
            starts.append(clock.now)
        return starts

    starts = asyncio.run(run())
    assert starts == [0, 0, 0, 60, 60, 60, 120]
    # no 60-second window ever holds more than 3 starts
    for t in starts:
        assert sum(1 for s in starts if t <= s < t + 60) <= 3


def test_tokens_per_minute_uses_settled_counts():
    clock = FakeClock()
    budget = RateBudget(tokens_per_minute=1000, clock=clock.time, sleep=clock.sleep)

    async def run() -> None:
        first = await budget.acquire(900)
        budget.settle(first, 100)  # the server used far fewer tokens than estimated
        await budget.acquire(800)  # fits: 100 + 800 <= 1000
        assert clock.now == 0
        await budget.acquire(500)  # does not fit until the first two expire
        assert clock.now == 60

    asyncio.run(run())


def test_oversized_request_runs_alone_instead_of_deadlocking():
    clock = FakeClock()
    budget = RateBudget(tokens_per_minute=100, clock=clock.time, sleep=clock.sleep)

    async def run() -> None:
        await budget.acquire(50)
        await budget.acquire(5000)
        assert clock.now == 60

    asyncio.run(run())


def test_unlimited_budget_never_waits():
    budget = RateBudget()
    assert budget.unlimited
    assert asyncio.run(budget.acquire(10**9)) is None


@pytest.mark.parametrize("kwargs", [{"requests_per_minute": 0}, {"tokens_per_minute": -5},
                                    {"requests_per_minute": 1, "period": 0}])
def test_bad_budgets_are_rejected(kwargs):
    with pytest.raises(ValueError):
        RateBudget(**kwargs)
