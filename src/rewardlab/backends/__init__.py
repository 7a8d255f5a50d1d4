"""LLM backends: the interface judges and likelihood rewards call (:mod:`.llm`) and one module
per implementation, each registering itself by spec ``type`` in
:data:`rewardlab.backends.llm.BACKENDS` (third parties: the ``rewardlab.backends`` entry-point
group). Heavy libraries (openai, torch, transformers) are imported inside methods."""
