"""The token layout of a token-classification PRM, shared by training and scoring.

A solution becomes ``[bos] prompt step_1 sep step_2 sep ...`` (the layout TRL's former
``PRMTrainer`` used, so PRMs trained there load too); each step's label sits on the last token
of ``step + sep``. Training (:mod:`rewardlab.train.prm`) and scoring
(:class:`rewardlab.prm.scorers.hf_scorers.TokenClassificationScorer`) both call
:func:`step_chunks` and :func:`windows`, so a trained model is scored on exactly the inputs
it learned from.

An empty step is a step: when ``step + sep`` tokenizes to nothing (an empty step, with a
separator such as ``"\\n"`` that an uncased BERT tokenizer drops), one placeholder token (the
tokenizer's ``unk``, else ``sep``, ``eos`` or ``pad`` token) stands in for it, so the step
still has a position to be labelled and scored at.
"""

from __future__ import annotations

from typing import Any


def placeholder_id(tokenizer: Any) -> int:
    """The token that stands in for a step that tokenizes to nothing."""
    for name in ("unk_token_id", "sep_token_id", "eos_token_id", "pad_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    raise ValueError("the tokenizer has no unk/sep/eos/pad token to stand in for an empty step")


def step_chunks(
    tokenizer: Any, prompt: str, steps: list[str], separator: str
) -> tuple[list[int], list[list[int]]]:
    """Token ids of the prompt (with BOS when the tokenizer has one) and of each ``step + sep``.

    Not thread-safe on a shared tokenizer: callers hold the tokenizer's lock.
    """
    prompt_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if tokenizer.bos_token_id is not None:
        prompt_ids = [tokenizer.bos_token_id, *prompt_ids]
    sep_ids = list(tokenizer.encode(separator, add_special_tokens=False))
    chunks = []
    for step in steps:
        chunk = list(tokenizer(step, add_special_tokens=False)["input_ids"]) + sep_ids
        chunks.append(chunk or [placeholder_id(tokenizer)])
    return prompt_ids, chunks


def windows(
    prompt_ids: list[int], chunks: list[list[int]], max_length: int | None
) -> list[tuple[list[int], list[int], list[int]]]:
    """Model inputs for one solution: ``[(token ids, scored positions, step indices), ...]``.

    One window when the solution fits ``max_length``. Otherwise each window repeats the end of
    the prompt (at most ``max_length // 4`` tokens) and continues with the next steps that fit,
    so every step is scored once with as much of the solution before it as fits; a step too
    long for that keeps less of the prompt. Nothing is truncated away.

    Raises:
        ValueError: a single step alone does not fit ``max_length``.
    """
    total = len(prompt_ids) + sum(len(c) for c in chunks)
    if max_length is None or total <= max_length:
        ids, positions = list(prompt_ids), []
        for chunk in chunks:
            ids.extend(chunk)
            positions.append(len(ids) - 1)
        return [(ids, positions, list(range(len(chunks))))]
    head = prompt_ids[-(max_length // 4) :] if prompt_ids else []
    out: list[tuple[list[int], list[int], list[int]]] = []
    ids, positions, owners = list(head), [], []
    for i, chunk in enumerate(chunks):
        if len(chunk) > max_length:
            raise ValueError(
                f"step {i} alone is {len(chunk)} tokens, over max_length={max_length}"
            )
        if len(ids) + len(chunk) > max_length:
            if positions:
                out.append((ids, positions, owners))
            # a long step gets less of the prompt's end rather than failing
            room = max_length - len(chunk)
            ids, positions, owners = list(head[max(0, len(head) - room) :]) if room else [], [], []
        ids.extend(chunk)
        positions.append(len(ids) - 1)
        owners.append(i)
    out.append((ids, positions, owners))
    return out
