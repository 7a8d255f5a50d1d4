"""Process reward models: step splitting, step-score aggregation, the ``prm`` reward.

The registered ``prm`` reward is :mod:`rewardlab.prm.reward_factory`; its step scores come from
a scorer named in the :mod:`rewardlab.prm.scorers` registry. Steps and aggregation are reused by
search and training.
"""

from rewardlab.prm.aggregate import (
    AGGREGATIONS,
    aggregate,
    clip_transform,
    delta_transform,
    first_error_index,
    min_form_values,
    pure_transform,
)
from rewardlab.prm.steps import Step, join_steps, split_steps

__all__ = [
    "AGGREGATIONS",
    "Step",
    "aggregate",
    "clip_transform",
    "delta_transform",
    "first_error_index",
    "join_steps",
    "min_form_values",
    "pure_transform",
    "split_steps",
]
