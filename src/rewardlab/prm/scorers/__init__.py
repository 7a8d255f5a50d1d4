"""PRM scorers: where the ``prm`` reward's step scores come from, looked up by name.

A scorer factory takes the spec keys it needs as keyword parameters and returns a
:class:`~rewardlab.prm.reward.StepScorer`; the ``prm`` reward's ``backend`` field names it, and
its parameters become flat fields of the ``prm`` spec (:mod:`rewardlab.prm.reward_factory`).
Built-in scorers are the modules of this package; a third-party package adds one through the
``rewardlab.prm_scorers`` entry-point group. Adding a scorer is adding one module::

    from rewardlab.prm.scorers import SCORERS

    @SCORERS.register("my_scorer")
    def my_scorer(url: str, depth: int = 2) -> MyScorer:
        \"\"\"One line saying what it scores with.

        Args:
            url: ...
            depth: ...
        \"\"\"
        return MyScorer(url, depth=depth)

and ``{name: prm, backend: my_scorer, url: ..., aggregation: min}`` uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rewardlab.extensions import NamedRegistry

SCORERS: NamedRegistry[Callable[..., Any]] = NamedRegistry(
    "PRM scorer", "rewardlab.prm.scorers", "rewardlab.prm_scorers"
)
"""Scorer factories by ``backend`` name."""


def resolve_local_model(model: str, what: str = "PRM model") -> str:
    """A local scorer's model folder or hub name, checked once when the reward is built.

    One clear error now instead of a hub retry loop and an error per sample later.
    """
    from rewardlab.reward_models.paths import resolve_model

    return resolve_model(str(model), what)


__all__ = ["SCORERS", "resolve_local_model"]
