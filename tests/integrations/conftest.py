"""Fixtures for the trainer tests: a tiny local causal LM (no model hub) and spec files."""

from __future__ import annotations

import pytest

WORDS = ["[PAD]", "[UNK]", "[EOS]", "paris", "rome", "london", "four", "five"]


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    """A tiny randomly initialised Llama over a word-level tokenizer built offline.

    The vocabulary is a handful of answers, so a random policy sometimes answers right and the
    rewards vary within a group (otherwise every advantage, and so every gradient, is zero).
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        pad_token="[PAD]", eos_token="[EOS]",
                                        padding_side="left")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=64, pad_token_id=0, eos_token_id=2,
                         bos_token_id=None)
    path = tmp_path_factory.mktemp("tiny_lm")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)
