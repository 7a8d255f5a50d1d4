"""A PRM scorer registered through the ``rewardlab.prm_scorers`` entry point.

``{name: prm, backend: short_steps, max_chars: 40}`` scores each step 1 when it is at most
``max_chars`` characters long, else 0: a stand-in for a real step scorer. Adding a scorer is
adding a module like this; splitting, aggregation and details come from rewardlab's ``prm``.
"""

from __future__ import annotations

from rewardlab.prm.reward import StepItem
from rewardlab.prm.scorers import SCORERS


class ShortSteps:
    """Step score 1.0 for a step of at most ``limit`` characters, else 0.0."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        """One score per step of every item."""
        return [[float(len(s) <= self.limit) for s in steps] for _, steps in items]

    def close(self) -> None:
        """Nothing to release."""


@SCORERS.register("short_steps")
def short_steps(max_chars: int) -> ShortSteps:
    """A step is good when it is short (an example scorer from rewardlab-example-plugin).

    Args:
        max_chars: The longest good step, in characters.
    """
    return ShortSteps(max_chars)
