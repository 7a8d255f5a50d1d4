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
    from tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny_lm"), tuple(WORDS))
