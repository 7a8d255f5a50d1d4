"""Train a token-classification PRM on step-labelled solutions, with plain ``transformers``.

Step labels come from :class:`~rewardlab.evaluate.prm.LabelledSolution` (PRMBench error steps,
ProcessBench first errors, or your own). Inputs use the layout of :mod:`rewardlab.prm.layout`
(``[bos] prompt step_1 sep step_2 sep ...``, each step's label on the last token of
``step + sep``), the same code the ``prm`` reward scores with; solutions longer than
``max_length`` are cut into the same windows the scorer uses, so no step is dropped.

Label imbalance: in PRMBench about 9 in 10 steps are correct, and an unweighted loss learns to
call every step correct (error-step F1 0). ``imbalance`` counters it:

* ``sample`` (default): solutions (windows) drawn with replacement in proportion to the mean
  inverse class frequency of their step labels, so error-heavy solutions come up more often;
* ``weight``: cross-entropy with per-class weights ``n / (2 n_class)``;
* ``none``: the plain loss (the degenerate baseline).

``docs/prm.md`` gives the measurement that chose the default.

The trained folder holds the model, its tokenizer and ``rewardlab_prm.json`` (layout, step
separator, max_length, label meaning, class counts and weights, per-class training metrics,
training time); it loads straight into the ``prm`` reward with
``backend: token_classification``, which uses those settings unless the spec overrides them.
No TRL: its ``PRMTrainer`` no longer exists in current releases.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.evaluate.prm import LabelledSolution, step_metrics

log = logging.getLogger(__name__)

Imbalance = Literal["weight", "sample", "none"]
IGNORE = -100  # label of tokens that are not a step's scoring position
LABELS = {0: "error", 1: "correct"}


def prm_training_rows(solutions: Sequence[LabelledSolution]) -> list[dict[str, Any]]:
    """Rows in the stepwise-supervision format (``prompt``, ``completions``, ``labels``) that
    TRL and Hugging Face datasets use, for exporting training data."""
    return [
        {"prompt": s.question, "completions": list(s.steps), "labels": list(s.labels)}
        for s in solutions
    ]


def split_solutions(
    solutions: Sequence[LabelledSolution], eval_fraction: float, seed: int = 0
) -> tuple[list[LabelledSolution], list[LabelledSolution]]:
    """Shuffle-split solutions into (train, eval), keeping a record's variants together.

    Solutions whose ids share the part before ``/`` (a PRMBench record and its ``/original``)
    go to the same side, so the evaluation never sees a training problem.
    """
    if not 0 <= eval_fraction < 1:
        raise ValueError("eval_fraction must be in [0, 1)")
    groups: dict[str, list[LabelledSolution]] = {}
    for s in solutions:
        groups.setdefault(s.id.split("/", 1)[0], []).append(s)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_eval = round(len(keys) * eval_fraction)
    eval_keys = set(keys[:n_eval])
    train = [s for k in keys if k not in eval_keys for s in groups[k]]
    held = [s for k in keys if k in eval_keys for s in groups[k]]
    return train, held


@dataclass
class TrainingRow:
    """One model input: token ids, per-token labels (``IGNORE`` off the step positions), and
    which solution it came from."""

    input_ids: list[int]
    labels: list[int]
    solution: int


def encode_rows(
    tokenizer: Any, solutions: Sequence[LabelledSolution], step_separator: str,
    max_length: int | None, skipped: list[dict[str, str]] | None = None,
) -> list[TrainingRow]:
    """Model inputs for training, in the scorer's layout and windows.

    A solution with a step that alone does not fit ``max_length`` cannot be learned from
    whole: it is left out and listed in ``skipped`` (id, reason) when a list is given, else it
    raises ``ValueError`` naming the solution.
    """
    from rewardlab.prm.layout import step_chunks, windows

    rows = []
    for n, sol in enumerate(solutions):
        prompt_ids, chunks = step_chunks(tokenizer, sol.question, list(sol.steps), step_separator)
        try:
            parts = windows(prompt_ids, chunks, max_length)
        except ValueError as exc:
            if skipped is None:
                raise ValueError(f"solution {sol.id!r}: {exc}") from None
            skipped.append({"id": sol.id, "reason": str(exc)})
            continue
        for ids, positions, owners in parts:
            labels = [IGNORE] * len(ids)
            for pos, step in zip(positions, owners, strict=True):
                labels[pos] = int(sol.labels[step])
            rows.append(TrainingRow(ids, labels, n))
    return rows


def class_counts(rows: Sequence[TrainingRow]) -> dict[str, int]:
    """Step labels per class over training rows."""
    flat = [x for r in rows for x in r.labels if x != IGNORE]
    return {LABELS[c]: sum(x == c for x in flat) for c in (0, 1)}


def class_weights(counts: dict[str, int]) -> list[float]:
    """Balanced cross-entropy weights ``n / (2 n_class)`` for (error, correct); a class with no
    examples gets weight 0."""
    total = sum(counts.values())
    return [total / (2 * counts[LABELS[c]]) if counts[LABELS[c]] else 0.0 for c in (0, 1)]


def row_sampling_weights(rows: Sequence[TrainingRow], weights: Sequence[float]) -> list[float]:
    """Per-row draw probabilities for balanced sampling: the mean class weight of its labels."""
    out = []
    for r in rows:
        labelled = [weights[x] for x in r.labels if x != IGNORE]
        out.append(sum(labelled) / len(labelled) if labelled else 0.0)
    return out


@dataclass
class PRMTrainingResult:
    """Where the model went and what training measured."""

    output_dir: Path
    train_loss: float | None
    steps: int
    seconds: float = 0.0
    imbalance: str = "sample"
    class_counts: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    train_metrics: dict[str, Any] = field(default_factory=dict)
    log_history: list[dict[str, Any]] = field(default_factory=list)


def _collate(rows: Sequence[TrainingRow], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, r in enumerate(rows):  # right padding, as the scorer pads
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(r.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _order(rows: Sequence[TrainingRow], imbalance: Imbalance, weights: list[float],
           generator: Any) -> list[int]:
    """One epoch's row order: a shuffle, or a weighted draw with replacement (``sample``)."""
    import torch

    if imbalance == "sample":
        probs = torch.tensor(row_sampling_weights(rows, weights), dtype=torch.double)
        if probs.sum() > 0:
            return torch.multinomial(probs, len(rows), replacement=True,
                                     generator=generator).tolist()
    return torch.randperm(len(rows), generator=generator).tolist()


def train_prm(
    base_model: str | Path,
    train: Sequence[LabelledSolution],
    output_dir: str | Path,
    *,
    step_separator: str = "\n",
    learning_rate: float = 5e-5,
    epochs: float = 1.0,
    max_steps: int = -1,
    batch_size: int = 4,
    max_length: int | None = None,
    imbalance: Imbalance = "sample",
    seed: int = 0,
    threads: int | None = None,
    progress: bool = False,
) -> PRMTrainingResult:
    """Fine-tune ``base_model`` with a two-class token head (0 error, 1 correct) as a PRM.

    Args:
        base_model: A model folder or hub name loadable by ``AutoModelForTokenClassification``
            (an encoder such as MiniLM, or a decoder such as Gemma).
        train: Step-labelled training solutions.
        output_dir: Where the trained model, tokenizer and ``rewardlab_prm.json`` go.
        step_separator: Appended after each step in the model input.
        learning_rate: AdamW learning rate (linear decay to 0).
        epochs: Passes over the data (ignored when ``max_steps`` > 0).
        max_steps: Optimizer steps; -1 runs ``epochs``.
        batch_size: Inputs (solution windows) per step.
        max_length: Window length in tokens (default: the model's context, at most 1024).
        imbalance: ``sample`` (default), ``weight`` or ``none`` (see the module docs).
        seed: Random seed (initialization and order).
        threads: torch CPU threads (default: torch's choice).
        progress: Show a progress bar.

    Returns:
        The output folder, training loss, steps, time, class counts and per-class metrics of
        the trained model on its training data.

    Raises:
        ValueError: no training solutions, a bad setting, or a step longer than ``max_length``.
    """
    if not train:
        raise ValueError("no training solutions")
    if imbalance not in ("weight", "sample", "none"):
        raise ValueError(f"imbalance must be weight, sample or none; got {imbalance!r}")
    if batch_size < 1 or learning_rate <= 0 or (max_steps <= 0 and epochs <= 0):
        raise ValueError("batch_size, learning_rate and epochs (or max_steps) must be positive")
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    from rewardlab.local.causal_lm import set_threads
    from rewardlab.reward_models.paths import resolve_model

    started = time.perf_counter()
    set_threads(threads)
    torch.manual_seed(seed)
    base = resolve_model(base_model, "base model")
    output_dir = Path(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=2, id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()},
        dtype=torch.float32,
    )
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if max_length is None:
        limit = getattr(model.config, "max_position_embeddings", None) or 1024
        tok_limit = tokenizer.model_max_length if tokenizer.model_max_length < 1_000_000 else limit
        max_length = int(min(limit, tok_limit, 1024))
    skipped: list[dict[str, str]] = []
    rows = encode_rows(tokenizer, train, step_separator, max_length, skipped)
    if skipped:
        log.warning("PRM training: %d solutions have a step longer than max_length=%d and are "
                    "left out (listed in rewardlab_prm.json)", len(skipped), max_length)
    if not rows:
        raise ValueError(f"no solution fits max_length={max_length}")
    counts = class_counts(rows)
    weights = class_weights(counts)
    log.info("PRM training: %d rows, step labels %s, class weights %s", len(rows), counts,
             weights)
    per_epoch = math.ceil(len(rows) / batch_size)
    total = max_steps if max_steps > 0 else max(1, math.ceil(per_epoch * epochs))
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, 0, total)
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(weights) if imbalance == "weight" else None, ignore_index=IGNORE
    )
    generator = torch.Generator().manual_seed(seed)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    history: list[dict[str, Any]] = []
    from tqdm.auto import tqdm

    model.train()
    step, order, losses = 0, [], []
    with tqdm(total=total, disable=not progress, desc="PRM training", unit="step") as bar:
        while step < total:
            if not order:
                order = _order(rows, imbalance, weights, generator)
            picked, order = order[:batch_size], order[batch_size:]
            batch = _collate([rows[i] for i in picked], pad)
            labels = batch.pop("labels")
            logits = model(**batch).logits
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(loss.item())
            history.append({"step": step, "loss": losses[-1], "lr": schedule.get_last_lr()[0]})
            bar.update(1)
    model.eval()
    # per-class figures on (at most 256 of) the training rows: a check that the model learned
    # both classes, kept cheap; held-out figures come from the evaluation
    sample_rows = random.Random(seed).sample(rows, min(len(rows), 256))
    train_metrics = _per_class_metrics(model, sample_rows, pad, batch_size)
    train_metrics["rows"] = len(sample_rows)
    seconds = time.perf_counter() - started
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    record = {
        "format": "token_classification",
        "layout": "[bos] prompt step_1 sep step_2 sep ...; label on each step's last token",
        "step_separator": step_separator,
        "max_length": max_length,
        "positive_label": 1,
        "labels": {str(k): v for k, v in LABELS.items()},
        "base_model": str(base_model),
        "train_solutions": len(train),
        "train_rows": len(rows),
        "skipped_solutions": skipped,
        "imbalance": imbalance,
        "class_counts": counts,
        "class_weights": dict(zip(("error", "correct"), weights, strict=True)),
        "steps": step,
        "train_loss": sum(losses) / len(losses) if losses else None,
        "train_metrics": train_metrics,
        "seconds": round(seconds, 1),
    }
    (output_dir / "rewardlab_prm.json").write_text(json.dumps(record, indent=2),
                                                   encoding="utf-8")
    return PRMTrainingResult(
        output_dir=output_dir, train_loss=record["train_loss"], steps=step, seconds=seconds,
        imbalance=imbalance, class_counts=counts, skipped=skipped, train_metrics=train_metrics,
        log_history=history,
    )


def _per_class_metrics(model: Any, rows: Sequence[TrainingRow], pad: int,
                       batch_size: int) -> dict[str, Any]:
    """Per-class step metrics (F1, recall of each class) of the model on ``rows`` at 0.5."""
    import torch

    labels: list[list[bool]] = []
    scores: list[list[float]] = []
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = _collate(chunk, pad)
            gold = batch.pop("labels")
            probs = model(**batch).logits.float().softmax(-1)[..., 1]
            for r in range(len(chunk)):
                keep = gold[r] != IGNORE
                labels.append([bool(x) for x in gold[r][keep].tolist()])
                scores.append(probs[r][keep].tolist())
    metrics = step_metrics(labels, scores, 0.5)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in metrics.items()}
