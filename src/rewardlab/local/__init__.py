"""Local-model plumbing, kept out of the API: loading a causal LM (:mod:`.causal_lm`), converting
a checkpoint to GGUF (:mod:`.gguf_convert`) and running a llama.cpp server (:mod:`.llama_server`).
Used by the transformers backend and by tests; registers no reward."""
