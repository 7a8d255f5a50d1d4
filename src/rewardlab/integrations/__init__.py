"""Thin adapters that let trainers call rewardlab rewards with their own signatures.

* :mod:`rewardlab.integrations.verl`: ``compute_score`` (keyword, async, batch) for verl 0.9, and
  :mod:`rewardlab.integrations.verl_manager`: a reward-loop manager and failure-masking
  advantage estimators (imports verl).
* :mod:`rewardlab.integrations.trl`: picklable ``reward_funcs`` for ``GRPOTrainer`` and
  ``RLOOTrainer``, config kwargs, and an ``environment_factory`` environment.
* :mod:`rewardlab.integrations.openrlhf`: ``reward_func(queries, prompts, labels)`` files.

One spec file drives all three (see :mod:`rewardlab.integrations.common` and docs/trainers.md).
"""
