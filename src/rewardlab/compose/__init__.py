"""Combining, transforming and group-normalizing rewards.

* :mod:`rewardlab.compose.combinators`: rewards built from other rewards (weighted sum, product,
  minimum, gated, hierarchy, HERO, ensembles).
* :mod:`rewardlab.compose.transforms`: rewards that reshape one reward's score (PAR, LSC, clip,
  delta, z-score, rank, affine).
* :mod:`rewardlab.compose.advantage_math`: group-advantage arithmetic (GRPO, Dr.GRPO, RLOO,
  GDPO, OPO, pairwise win-rate, tournaments), exact in float64 or as verl, TRL or OpenRLHF
  compute them
  (:mod:`rewardlab.compose.trainer_conventions`).
* :mod:`rewardlab.compose.group_advantage`: the ``group_advantage`` reward over that arithmetic.
* :mod:`rewardlab.compose.cosine_length`: ``cosine_length``, correctness scaled by length.
* :mod:`rewardlab.compose.stats`: mean and std that never overflow on finite scores.
* :mod:`rewardlab.compose.openai_graders`: import of OpenAI grader JSON.
"""
