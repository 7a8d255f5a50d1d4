"""Verifiable instruction-following: IFEval and IFBench constraint checkers, the ``ifeval``
reward and the ``checklist`` reward (RLCF-style checklists of constraints and judge questions).

Each constraint family lives in its own module and registers its checkers by instruction id
(``punctuation:no_comma``, ``count:word_count_range``...) in
:data:`rewardlab.verifiers.instructions.constraints.CONSTRAINTS`.
"""
