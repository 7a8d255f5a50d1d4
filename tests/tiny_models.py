"""Tiny randomly initialised Llama models over a word-level tokenizer, built offline in tests.

Real ``transformers`` models (so trainers run their own code paths), small enough to train a
step on CPU in a second.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_WORDS = ("[PAD]", "[UNK]", "[EOS]", "paris", "rome", "london", "four", "five")


def build_tiny_llama(path: Path, words: tuple[str, ...] = DEFAULT_WORDS,
                     sequence_classifier: bool = False) -> str:
    """Save a 2-layer Llama (causal LM, or a 1-label sequence classifier) and its tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        LlamaForSequenceClassification,
        PreTrainedTokenizerFast,
    )

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        pad_token="[PAD]", eos_token="[EOS]",
                                        padding_side="left")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(words), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=128, pad_token_id=0, eos_token_id=2,
                         bos_token_id=None, num_labels=1)
    model_cls = LlamaForSequenceClassification if sequence_classifier else LlamaForCausalLM
    model_cls(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)
