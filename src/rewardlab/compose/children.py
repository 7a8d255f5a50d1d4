"""Child rewards of a combinator: naming, concurrent scoring and failure policy."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Literal

from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status

OnFailure = Literal["fail", "skip", "zero"]
"""What a combinator does with a failed child outcome.

* ``fail`` (default): the combined outcome fails with the first failed child's status.
* ``skip``: the failed child is left out (weights of the rest are used as given).
* ``zero``: the failed child counts as score 0 (opt-in; hides grader failures).
"""


def name_children(rewards: Sequence[Reward] | Mapping[str, Reward]) -> dict[str, Reward]:
    """Give each child a stable, unique component name.

    A mapping keeps its keys; a list uses each reward's registry name, suffixed ``_2``, ``_3``
    ... on repeats.

    Args:
        rewards: The child rewards, as a list or as ``{component name: reward}``.

    Raises:
        ValueError: no children were given.
    """
    if isinstance(rewards, Mapping):
        named = {str(k): v for k, v in rewards.items()}
    else:
        named = {}
        for reward in rewards:
            base = reward.name or type(reward).__name__
            key, n = base, 1
            while key in named:
                n += 1
                key = f"{base}_{n}"
            named[key] = reward
    if not named:
        raise ValueError("a combinator needs at least one child reward")
    return named


def resolve_weights(
    names: Sequence[str], weights: Sequence[float] | Mapping[str, float] | None
) -> dict[str, float]:
    """Match weights to component names (default 1.0 each).

    Args:
        names: The component names, in order.
        weights: A list aligned with ``names``, a mapping by name (missing names get 1.0), or
            ``None``.

    Raises:
        ValueError: a list of the wrong length, or a mapping naming an unknown component.
    """
    if weights is None:
        return dict.fromkeys(names, 1.0)
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ValueError(
                f"weights name unknown components {unknown}; components: {list(names)}"
            )
        return {n: float(weights.get(n, 1.0)) for n in names}
    if len(weights) != len(names):
        raise ValueError(f"got {len(weights)} weights for {len(names)} rewards")
    return {n: float(w) for n, w in zip(names, weights, strict=True)}


async def score_children(
    children: Mapping[str, Reward], samples: list[Sample]
) -> dict[str, list[Outcome]]:
    """Score every child on the whole batch concurrently: ``{component: outcomes}``."""
    results = await asyncio.gather(*(child.ascore(samples) for child in children.values()))
    return dict(zip(children, results, strict=True))


def component_details(parts: Mapping[str, Outcome]) -> dict[str, object]:
    """``details`` entries describing each child's outcome of one sample.

    ``components`` maps names to scores (``None`` for failures); ``component_outcomes`` maps
    names to each child's whole outcome (``score``, ``status``, ``reason``, ``details``), so a
    failed gate and a wrong answer stay distinguishable after combining; ``failed`` maps failed
    names to their status, present only when something failed.
    """
    details: dict[str, object] = {
        "components": {k: o.score for k, o in parts.items()},
        "component_outcomes": {k: o.to_dict() for k, o in parts.items()},
    }
    failed = {k: o.status.value for k, o in parts.items() if not o.is_ok}
    if failed:
        details["failed"] = failed
    return details


def combined_reason(parts: Mapping[str, Outcome]) -> str:
    """The children's non-empty reasons, each prefixed by its component name."""
    return "; ".join(f"{k}: {o.reason}" for k, o in parts.items() if o.reason)[:500]


def apply_failure_policy(
    parts: Mapping[str, Outcome], on_failure: OnFailure
) -> tuple[dict[str, float], Outcome | None]:
    """Scores usable for combining, or the failed outcome to return instead.

    Returns:
        ``(scores by component, None)`` when combining can go on, else ``({}, failure)``.
    """
    scores: dict[str, float] = {}
    for key, outcome in parts.items():
        if outcome.is_ok:
            scores[key] = float(outcome.score)  # type: ignore[arg-type]
        elif on_failure == "fail":
            return {}, Outcome.fail(
                outcome.status,
                f"component {key!r} failed: {outcome.reason}"[:500],
                **component_details(parts),
            )
        elif on_failure == "zero":
            scores[key] = 0.0
    if not scores:
        first = next(iter(parts.values()))
        return {}, Outcome.fail(
            first.status if not first.is_ok else Status.ERROR,
            "every component failed",
            **component_details(parts),
        )
    return scores, None
