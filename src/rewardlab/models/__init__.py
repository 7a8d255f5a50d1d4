"""The registered ``prm`` reward factory (:mod:`.prm`), until it moves into :mod:`rewardlab.prm`.

Reward models live in :mod:`rewardlab.reward_models`, LLM backends in
:mod:`rewardlab.backends`, judges in :mod:`rewardlab.judges`, local-model helpers in
:mod:`rewardlab.local`.
"""
