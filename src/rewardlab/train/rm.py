"""Train a scalar (Bradley-Terry) reward model with TRL's ``RewardTrainer``.

Preference data comes in through the evaluation loaders (:func:`rewardlab.evaluate.loaders.
load_items`), so every shape they read trains: chosen/rejected strings with a prompt, HH-RLHF
transcripts, chat-message lists, and annotated pairs with ties (PandaLM votes).

Losses:

* ``bt``: Bradley-Terry, ``-log sigmoid(r_chosen - r_rejected - margin)``, as TRL (margins from
  the data when ``use_margins``), plus TRL's reward-centering term;
* ``davidson``: tie-aware Bradley-Terry (Davidson, 1970):
  ``P(a > b) = e^ra / (e^ra + e^rb + nu e^((ra+rb)/2))`` and
  ``P(tie) = nu e^((ra+rb)/2) / (same)``, so tied pairs teach "equal" instead of being dropped.

Inputs are tokenized with :class:`rewardlab.reward_models.scalar_rm.RMInputEncoder`, the same code
``scalar_rm`` uses, so the saved model scores exactly the format it learned; the saved folder
loads directly as ``{"name": "scalar_rm", "model": <output_dir>}``. Held-out accuracy is
measured through ``scalar_rm`` on the saved model, with a bootstrap confidence interval.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.types import Message

log = logging.getLogger(__name__)

Loss = Literal["bt", "davidson"]


@dataclass(frozen=True)
class PreferencePair:
    """Two responses to one prompt and which is better.

    Args:
        chosen: The preferred response (for a tie: either one).
        rejected: The other response.
        prompt: Prompt text or chat messages.
        tie: The two are judged equally good.
        margin: How much better ``chosen`` is (ordinal strength), if the data says.
        id: Identifier from the data.
    """

    chosen: str
    rejected: str
    prompt: str | Sequence[Message] | None = None
    tie: bool = False
    margin: float | None = None
    id: str = ""


def preference_pairs(
    source: str | Path, format: str = "auto", *, fields: dict[str, str] | None = None,
    limit: int | None = None, vote_margins: bool = False,
) -> list[PreferencePair]:
    """Read preference pairs from a file or dataset in any format the evaluation loaders know.

    Args:
        source: JSONL/JSON/parquet file, folder, or hub dataset name.
        format: ``auto``, ``hh_rlhf``, ``preference``, ``pandalm``, ``llmbar``, ... (see
            ``rewardlab.evaluate.loaders.available_formats``).
        fields: Field-name overrides, e.g. ``{"prompt": "question"}``.
        limit: Read at most this many records.
        vote_margins: For annotated pairs, set ``margin`` to the share of annotators agreeing
            with the majority (an ordinal strength usable by the ``bt`` loss).

    Raises:
        rewardlab.evaluate.loaders.DataError: unreadable data, or items that are not pairs.
    """
    from rewardlab.evaluate.loaders import DataError, load_items, majority_vote

    pairs = []
    for item in load_items(source, format, fields=fields, limit=limit):
        if item.kind == "pairwise":
            good = item.labels.index(1)
            pairs.append(PreferencePair(item.responses[good], item.responses[1 - good],
                                        item.prompt, id=item.id))
        elif item.kind == "annotated":
            votes = item.votes or ()
            winner = majority_vote(votes)
            first, second = item.responses
            chosen, rejected = (second, first) if winner == 2 else (first, second)
            margin = None
            if vote_margins and winner:
                margin = sum(v == winner for v in votes) / len(votes)
            pairs.append(PreferencePair(chosen, rejected, item.prompt, tie=winner == 0,
                                        margin=margin, id=item.id))
        else:
            raise DataError(f"item {item.id}: {item.kind} items are not preference pairs")
    return pairs


def split_pairs(
    pairs: Sequence[PreferencePair], eval_fraction: float, seed: int = 0
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Seeded shuffle-split into (train, held-out); pairs sharing a prompt stay together."""
    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be in [0, 1), got {eval_fraction}")

    def key(p: PreferencePair) -> str:
        return json.dumps(p.prompt, sort_keys=True, default=str)

    keys = sorted({key(p) for p in pairs})
    random.Random(seed).shuffle(keys)
    held = set(keys[: round(len(keys) * eval_fraction)])
    return [p for p in pairs if key(p) not in held], [p for p in pairs if key(p) in held]


@dataclass
class RMTrainConfig:
    """Settings of :func:`train_reward_model`.

    Args:
        model: Base model folder (encoder or decoder); a fresh scalar head is added.
        output_dir: Where the trained model goes (checkpoints in ``checkpoints/`` inside).
        loss: ``bt`` or ``davidson`` (tie-aware).
        tie_strength: Davidson's ``nu`` (> 0): how likely ties are a priori.
        use_margins: Use the data's margins in the ``bt`` loss (TRL's margin term).
        center_rewards_coefficient: TRL's centering term (pushes mean reward to 0).
        format: Input format (``auto``, ``chat``, ``pair``, ``plain``), as ``scalar_rm``.
        chat_template: A chat template to train with; saved into the tokenizer.
        max_length: Token limit (inputs lose their start, as in ``scalar_rm``).
        learning_rate: Peak learning rate.
        epochs: Passes over the training pairs.
        max_steps: Stop after this many optimizer steps (-1: by epochs).
        batch_size: Pairs per step.
        gradient_accumulation_steps: Steps accumulated per update.
        warmup_ratio: Share of steps with a rising learning rate.
        save_steps: Checkpoint every this many steps.
        logging_steps: Log loss and accuracy every this many steps.
        seed: Seed for initialization and shuffling.
        threads: torch CPU threads.
        progress: Show progress bars.
    """

    model: str
    output_dir: str
    loss: Loss = "bt"
    tie_strength: float = 1.0
    use_margins: bool = False
    center_rewards_coefficient: float | None = None
    format: str = "auto"
    chat_template: str | None = None
    max_length: int = 512
    learning_rate: float = 2e-5
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.0
    save_steps: int = 200
    logging_steps: int = 10
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.loss not in ("bt", "davidson"):
            raise ValueError(f"loss must be 'bt' or 'davidson', got {self.loss!r}")
        if not self.tie_strength > 0:
            raise ValueError(f"tie_strength must be > 0, got {self.tie_strength}")
        if self.batch_size < 1 or self.max_length < 8:
            raise ValueError("batch_size must be >= 1 and max_length >= 8")


@dataclass
class RMTrainResult:
    """What :func:`train_reward_model` produced."""

    output_dir: Path
    train_pairs: int
    train_loss: float | None
    heldout: dict[str, Any] = field(default_factory=dict)


def _rows(pairs: Iterable[PreferencePair], encoder: Any, config: RMTrainConfig) -> list[dict]:
    rows = []
    for p in pairs:
        c = encoder.encode(p.prompt, p.chosen)
        r = encoder.encode(p.prompt, p.rejected)
        row: dict[str, Any] = {"chosen_ids": c.input_ids, "rejected_ids": r.input_ids}
        if c.token_type_ids is not None and r.token_type_ids is not None:
            row["chosen_types"], row["rejected_types"] = c.token_type_ids, r.token_type_ids
        if config.use_margins:
            row["margin"] = float(p.margin or 0.0)
        if config.loss == "davidson":
            row["tie"] = bool(p.tie)
        rows.append(row)
    return rows


class _PreferenceCollator:
    """Pads chosen rows then rejected rows on the right (token types, margins, ties too)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        seqs = [e["chosen_ids"] for e in examples] + [e["rejected_ids"] for e in examples]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        out: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "chosen_types" in examples[0]:
            types = torch.zeros_like(ids)
            tseqs = [e["chosen_types"] for e in examples] + [e["rejected_types"] for e in examples]
            for i, t in enumerate(tseqs):
                types[i, : len(t)] = torch.tensor(t)
            out["token_type_ids"] = types
        if "margin" in examples[0]:
            out["margin"] = torch.tensor([e["margin"] for e in examples], dtype=torch.float)
        if "tie" in examples[0]:
            out["tie"] = torch.tensor([bool(e["tie"]) for e in examples])
        return out


def preference_loss(
    chosen: Any, rejected: Any, loss: Loss = "bt", *, margin: Any = None, tie: Any = None,
    log_tie_strength: float = 0.0,
) -> Any:
    """Mean pairwise loss of reward tensors (one value per pair).

    Args:
        chosen: Rewards of the preferred responses.
        rejected: Rewards of the other responses.
        loss: ``bt`` (Bradley-Terry) or ``davidson`` (tie-aware).
        margin: Optional per-pair margin the chosen reward must clear.
        tie: Optional per-pair booleans (``davidson`` only): the pair is a tie.
        log_tie_strength: ``log(nu)`` of the Davidson model.
    """
    import torch

    lead = chosen - margin if margin is not None else chosen
    if loss == "bt":
        return -torch.nn.functional.logsigmoid(lead - rejected).mean()
    tie_term = log_tie_strength + (chosen + rejected) / 2
    log_z = torch.logsumexp(torch.stack([lead, rejected, tie_term]), dim=0)
    is_tie = tie if tie is not None else torch.zeros_like(chosen, dtype=torch.bool)
    return -torch.where(is_tie, tie_term - log_z, lead - log_z).mean()


def _trainer_class() -> type:
    import torch
    from trl import RewardTrainer

    class PreferenceRewardTrainer(RewardTrainer):
        """TRL's RewardTrainer with a tie-aware (Davidson) option and token-type inputs."""

        def __init__(self, *args: Any, rm_loss: Loss = "bt", tie_strength: float = 1.0,
                     **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.rm_loss = rm_loss
            self.log_tie_strength = math.log(tie_strength)

        def _set_signature_columns_if_needed(self) -> None:
            self._signature_columns = [
                "chosen_ids", "rejected_ids", "chosen_types", "rejected_types", "margin", "tie",
            ]

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mode = "train" if self.model.training else "eval"
            margin = inputs.pop("margin", None)
            tie = inputs.pop("tie", None)
            outputs = model(**inputs)
            chosen, rejected = torch.chunk(outputs.logits.squeeze(-1), chunks=2)
            loss = preference_loss(
                chosen, rejected, self.rm_loss, margin=margin, tie=tie,
                log_tie_strength=self.log_tie_strength,
            )
            if self.args.center_rewards_coefficient is not None:
                loss = loss + self.args.center_rewards_coefficient * torch.mean(
                    (chosen + rejected) ** 2
                )
            with torch.no_grad():
                decided = ~tie if tie is not None else torch.ones_like(chosen, dtype=torch.bool)
                if decided.any():
                    acc = (chosen[decided] > rejected[decided]).float().mean().item()
                    self._metrics[mode]["accuracy"].append(acc)
                self._metrics[mode]["margin"].append((chosen - rejected).mean().item())
                self._metrics[mode]["mean_reward"].append(outputs.logits.mean().item())
            return (loss, outputs) if return_outputs else loss

    return PreferenceRewardTrainer


def train_reward_model(
    train: Sequence[PreferencePair], config: RMTrainConfig,
    heldout: Sequence[PreferencePair] = (),
) -> RMTrainResult:
    """Train a scalar reward model on preference pairs and evaluate it on held-out pairs.

    Args:
        train: Training pairs (ties only count with the ``davidson`` loss; ``bt`` drops them).
        config: Model, output folder, loss and optimization settings.
        heldout: Pairs to measure accuracy on after training (ties excluded from accuracy).

    Returns:
        The output folder, training loss and held-out accuracy with a 95 % bootstrap interval.

    Raises:
        ValueError: no usable training pairs.
    """
    import datasets
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from trl import RewardConfig

    from rewardlab.local.causal_lm import set_threads
    from rewardlab.reward_models.scalar_rm import RMInputEncoder

    pairs = list(train)
    if config.loss == "bt":
        ties = sum(p.tie for p in pairs)
        if ties:
            log.warning("dropping %d tied pairs: the bt loss cannot use ties (try davidson)", ties)
            pairs = [p for p in pairs if not p.tie]
    if not pairs:
        raise ValueError("no training pairs")
    set_threads(config.threads)
    set_seed(config.seed)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = AutoTokenizer.from_pretrained(config.model)
    if config.chat_template:
        tokenizer.chat_template = config.chat_template  # saved with the model for scalar_rm
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(
        config.model, num_labels=1, dtype=torch.float32
    )
    model.config.pad_token_id = tokenizer.pad_token_id
    encoder = RMInputEncoder(tokenizer, config.format, None, "\n\n", config.max_length,
                             name=config.model)
    dataset = datasets.Dataset.from_list(_rows(pairs, encoder, config))

    args = RewardConfig(
        output_dir=str(out / "checkpoints"),
        use_cpu=True, bf16=False, fp16=False,
        max_length=None,  # already truncated (from the left) by the encoder, never dropped
        remove_unused_columns=False,
        center_rewards_coefficient=config.center_rewards_coefficient,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float < 1 is a ratio
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2,
        logging_steps=config.logging_steps,
        report_to=[],
        seed=config.seed,
        disable_tqdm=not config.progress,
        dataloader_num_workers=0,
    )
    trainer = _trainer_class()(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
        data_collator=_PreferenceCollator(tokenizer.pad_token_id),
        rm_loss=config.loss, tie_strength=config.tie_strength,
    )
    result = trainer.train()
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    # What scalar_rm needs to score exactly as trained; written before the held-out evaluation
    # so that evaluation loads the folder the way users will.
    record: dict[str, Any] = {
        "config": asdict(config), "train_pairs": len(pairs),
        "inputs": {"format": encoder.format, "max_length": config.max_length,
                   "separator": "\n\n", "chat_template": bool(config.chat_template)},
        "labels": {"output": "a single scalar reward, higher means preferred",
                   "loss": config.loss},
    }
    (out / "rewardlab_rm.json").write_text(json.dumps(record, indent=2, default=str))
    heldout_metrics = evaluate_pairs(str(out), heldout) if heldout else {}
    summary = RMTrainResult(out, len(pairs), float(result.training_loss), heldout_metrics)
    record.update(train_loss=summary.train_loss, heldout=heldout_metrics)
    (out / "rewardlab_rm.json").write_text(json.dumps(record, indent=2, default=str))
    return summary


def evaluate_pairs(
    model_dir: str, pairs: Sequence[PreferencePair], config: RMTrainConfig | None = None
) -> dict[str, Any]:
    """Held-out accuracy of a saved reward model through ``scalar_rm``, with a 95 % CI.

    Ties are excluded from accuracy; a pair counts 0.5 when both scores are equal.

    Args:
        model_dir: A reward-model folder.
        pairs: Preference pairs.
        config: Settings overriding the folder's ``rewardlab_rm.json`` (format, max_length).
    """
    from rewardlab.evaluate.metrics import mean_with_ci
    from rewardlab.reward_models.scalar_rm import ScalarRM
    from rewardlab.types import Sample

    decided = [p for p in pairs if not p.tie]
    # without a config, the folder's own rewardlab_rm.json settings apply (as for users)
    rm = ScalarRM(
        model_dir, format=config.format if config else "auto",
        max_length=config.max_length if config else None,
    )
    samples = [Sample(response=r, prompt=p.prompt) for p in decided for r in (p.chosen, p.rejected)]
    outcomes = rm.score(samples)
    wins = []
    failed = 0
    for i in range(len(decided)):
        a, b = outcomes[2 * i], outcomes[2 * i + 1]
        if not (a.is_ok and b.is_ok):
            failed += 1
            continue
        wins.append(1.0 if a.score > b.score else 0.5 if a.score == b.score else 0.0)
    stats = mean_with_ci(wins)
    return {"accuracy": stats["mean"], "ci95": [stats["low"], stats["high"]],
            "pairs": stats["n"], "failed": failed, "ties_skipped": len(pairs) - len(decided)}
