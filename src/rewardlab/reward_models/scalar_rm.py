"""``scalar_rm``: a local Hugging Face sequence-classification reward model (Bradley-Terry RM).

What it gets right that a plain ``pipeline`` loop does not:

* **Formatting**: the reward model's own chat template is applied to prompt + response (or a
  template you pass); a model without one falls back, visibly, to the tokenizer's sentence-pair
  encoding (encoders such as BERT) or to ``prompt + separator + response``. ``details.format``
  says which was used.
* **Truncation**: never silent. Too-long inputs lose tokens from the *start* (the prompt first),
  so the end of the response, where a decoder RM reads its score, is always kept; the outcome's
  details record ``truncated``, ``tokens`` and ``tokens_kept``, and a warning is logged.
* **Speed without drift**: inputs are sorted by length and packed into batches under a padded
  token budget; padding is on the right with attention masks, so a score does not depend on
  batch size or order (equal within float rounding).
* The model loads once per process (cached by path, dtype and device).
* **Safe under concurrency**: the cached tokenizer is shared by every caller, so it is never
  reconfigured (no ``truncation_side``, no tokenizer-side truncation: inputs are cut from the
  token ids) and every use of it holds the model's tokenizer lock; forward passes hold the model
  lock. Concurrent callers (event loop, threads, the server) get exactly the sequential scores.
* **Trained settings travel with the model**: a folder written by ``rewardlab train rm`` has a
  ``rewardlab_rm.json`` whose ``max_length``, input format and separator are used unless the
  spec sets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import Reward, error_outcome
from rewardlab.types import Outcome, Sample

log = logging.getLogger(__name__)

Format = Literal["auto", "chat", "pair", "plain"]

_MAX_SANE_LENGTH = 1 << 20


@dataclass
class SequenceClassifier:
    """A loaded sequence-classification model and its tokenizer (shared per process)."""

    model: Any
    tokenizer: Any
    path: str
    pad_id: int
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    tokenizer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Held for every tokenizer call: fast tokenizers keep mutable state (truncation and
    padding settings) that concurrent calls would otherwise race on."""

    @property
    def num_outputs(self) -> int:
        """How many scores the head produces per input."""
        return int(self.model.config.num_labels)

    @property
    def max_length(self) -> int:
        """The longest input the model accepts."""
        tok_limit = getattr(self.tokenizer, "model_max_length", None) or _MAX_SANE_LENGTH
        config = self.model.config
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        pos_limit = getattr(text_config, "max_position_embeddings", None) or _MAX_SANE_LENGTH
        return int(min(tok_limit, pos_limit, _MAX_SANE_LENGTH))


_cache: dict[tuple[str, str, str], SequenceClassifier] = {}
_failures: dict[tuple[str, str, str], Exception] = {}  # a failed load is not retried per batch
_cache_lock = threading.Lock()

RM_CONFIG_FILE = "rewardlab_rm.json"
"""Written next to a reward model trained by rewardlab: its training and input settings."""


def read_rm_settings(model: str | Path) -> dict[str, Any]:
    """Input settings a trained reward-model folder records: ``max_length``, ``format``,
    ``separator``, ``chat_template`` (empty for folders not written by rewardlab)."""
    path = Path(model) / RM_CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable training record ({exc})") from None
    # "inputs" is what the encoder resolved at training time; older folders only have "config"
    inputs = dict(record.get("inputs") or {})
    config = record.get("config") or {}
    for key in ("max_length", "format", "separator"):
        if key not in inputs and config.get(key) is not None:
            inputs[key] = config[key]
    return {k: v for k, v in inputs.items() if v is not None}


def load_sequence_classifier(
    path: str | Path, dtype: str = "float32", device: str = "cpu"
) -> SequenceClassifier:
    """Load a sequence-classification reward model once per process.

    Args:
        path: Model folder (or hub id where a hub is reachable).
        dtype: ``float32``, ``bfloat16``, ``float16`` or ``auto``.
        device: A torch device string.
    """
    key = (str(path), dtype, device)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if key in _failures:  # fail fast: a load that failed once fails the same way again
            raise _failures[key]
        try:
            clf = _load(path, dtype, device)
        except Exception as exc:
            _failures[key] = exc
            raise
        _cache[key] = clf
        return clf


def _load(path: str | Path, dtype: str, device: str) -> SequenceClassifier:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardlab.local.causal_lm import torch_dtype

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(path), dtype=torch_dtype(dtype)
    )
    model.to(device)
    model.eval()
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = model.config.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id
    if pad_id is None:
        raise ValueError(f"{path}: the tokenizer has no pad or EOS token to pad batches with")
    # Decoder heads find each row's last real token through config.pad_token_id.
    text_config = model.config.get_text_config()
    if text_config.pad_token_id is None:
        text_config.pad_token_id = pad_id
        model.config.pad_token_id = pad_id
    pad_id = text_config.pad_token_id
    return SequenceClassifier(model=model, tokenizer=tokenizer, path=str(path), pad_id=pad_id)


@dataclass
class Encoded:
    """One sample ready for the model."""

    input_ids: list[int]
    token_type_ids: list[int] | None
    format: str
    tokens: int
    truncated: bool


class RMInputEncoder:
    """Formats and tokenizes (prompt, response) for a sequence-classification reward model.

    Shared by ``scalar_rm`` and reward-model training, so a trained model sees at inference
    exactly the format and truncation it was trained on.

    Args:
        tokenizer: The reward model's tokenizer.
        format: ``auto``, ``chat``, ``pair`` or ``plain`` (see :class:`ScalarRM`).
        chat_template: A Jinja chat template to use instead of the tokenizer's.
        separator: Between prompt and response in ``plain`` format.
        max_length: Token limit; longer inputs lose their start.
        name: Model name for messages.
        lock: Held around every tokenizer call (pass the lock of a tokenizer shared between
            threads; default: no locking, for a tokenizer this encoder owns).
    """

    def __init__(
        self, tokenizer: Any, format: str = "auto", chat_template: str | None = None,
        separator: str = "\n\n", max_length: int = 512, name: str = "reward model",
        lock: threading.Lock | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.lock = lock
        self.chat_template = chat_template
        self.separator = separator
        self.max_length = max_length
        self.name = name
        if format == "auto":
            if chat_template or getattr(tokenizer, "chat_template", None):
                format = "chat"
            else:
                format = "pair" if _pair_inserts_separator(tokenizer) else "plain"
                log.warning(
                    "%s has no chat template: formatting prompt and response as %s", name,
                    "a sentence pair" if format == "pair" else "plain text",
                )
        self.format = format
        self._specials = set(tokenizer.all_special_ids)

    def encode(self, prompt: str | Sequence[Any] | None, response: str) -> Encoded:
        """Tokenize one (prompt, response) with the format and truncation policy."""
        with self.lock if self.lock is not None else contextlib.nullcontext():
            return self._encode(prompt, response)

    def _encode(self, prompt: str | Sequence[Any] | None, response: str) -> Encoded:
        sample = Sample(response=response, prompt=prompt)
        tok = self.tokenizer
        if self.format == "pair":
            return _encode_pair(tok, sample.prompt_text, sample.response, self.max_length)
        if self.format == "chat":
            if self.chat_template is None and not getattr(tok, "chat_template", None):
                raise ValueError(f"{self.name} has no chat template; pass chat_template")
            messages = [*sample.messages, {"role": "assistant", "content": sample.response}]
            text = tok.apply_chat_template(
                messages, tokenize=False, chat_template=self.chat_template
            )
            # Templates of decoders start with BOS themselves; encoders (BERT-style) still need
            # their [CLS]/[SEP], which the tokenizer adds.
            bos = tok.bos_token
            add_special = not (bos and text.startswith(bos))
            ids = tok(text, add_special_tokens=add_special)["input_ids"]
        else:
            prompt_text = sample.prompt_text
            text = f"{prompt_text}{self.separator}{response}" if prompt_text else response
            ids = tok(text, add_special_tokens=True)["input_ids"]
        return _truncate_left(list(ids), self.max_length, self._specials, self.format)


@register("scalar_rm")
class ScalarRM(Reward):
    """Score responses with a local sequence-classification reward model.

    Args:
        model: Model folder (a ``*ForSequenceClassification`` checkpoint; one or several outputs).
        format: ``auto`` (chat template if the RM has one, else sentence pair for encoders, else
            plain text), ``chat``, ``pair`` or ``plain``.
        chat_template: A Jinja chat template to use instead of the tokenizer's own.
        separator: Between prompt and response in ``plain`` format.
        max_length: Token limit (default: the one it was trained with, from
            ``rewardlab_rm.json``, else the model's); longer inputs lose their start.
        token_budget: Padded tokens per forward pass (rows x longest row). The default suits
            CPUs (smaller batches stay in cache); raise it on a GPU.
        max_batch_size: Rows per forward pass.
        output_index: Which output is the reward when the head has several.
        output_weights: Or: the reward is this weighted sum of the outputs.
        dtype: ``float32`` (default), ``bfloat16``, ``float16`` or ``auto``.
        num_threads: torch CPU threads for this process (default: leave as is).
        device: torch device.
        progress: Show a progress bar while scoring.
    """

    def __init__(
        self,
        model: str,
        format: Format = "auto",
        chat_template: str | None = None,
        separator: str = "\n\n",
        max_length: int | None = None,
        token_budget: int = 4096,
        max_batch_size: int = 64,
        output_index: int | None = None,
        output_weights: list[float] | None = None,
        dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32",
        num_threads: int | None = None,
        device: str = "cpu",
        progress: bool = False,
    ) -> None:
        if format not in ("auto", "chat", "pair", "plain"):
            raise ValueError(f"format must be auto, chat, pair or plain; got {format!r}")
        from rewardlab.reward_models.paths import resolve_model

        if max_length is not None and max_length < 8:
            raise ValueError(f"max_length must be >= 8, got {max_length}")
        if token_budget < 1 or max_batch_size < 1:
            raise ValueError("token_budget and max_batch_size must be >= 1")
        if output_index is not None and output_weights is not None:
            raise ValueError("give output_index or output_weights, not both")
        self.model_path = resolve_model(model, "reward model")
        # settings the model was trained with apply unless the spec gives its own
        trained = read_rm_settings(self.model_path) if Path(self.model_path).is_dir() else {}
        self.trained_settings = trained
        if format == "auto" and trained.get("format") in ("chat", "pair", "plain"):
            format = trained["format"]
        if separator == "\n\n" and isinstance(trained.get("separator"), str):
            separator = trained["separator"]
        if max_length is None and isinstance(trained.get("max_length"), int):
            max_length = trained["max_length"]
        self.format = format
        self.chat_template = chat_template
        self.separator = separator
        self.max_length = max_length
        self.token_budget = token_budget
        self.max_batch_size = max_batch_size
        self.output_index = output_index
        self.output_weights = output_weights
        self.dtype = dtype
        self.num_threads = num_threads
        self.device = device
        self.progress = progress
        self._clf: SequenceClassifier | None = None
        self._encoder: RMInputEncoder | None = None

    def describe(self) -> str:
        return f"scalar_rm({Path(self.model_path).name})"

    @property
    def classifier(self) -> SequenceClassifier:
        """The loaded model (loaded on first use, shared by every ScalarRM on the same path)."""
        if self._clf is None:
            from rewardlab.local.causal_lm import set_threads

            set_threads(self.num_threads)
            clf = load_sequence_classifier(self.model_path, self.dtype, self.device)
            n = clf.num_outputs
            if n > 1 and self.output_index is None and self.output_weights is None:
                raise ValueError(
                    f"{self.model_path} has {n} outputs: set output_index or output_weights"
                )
            if self.output_weights is not None and len(self.output_weights) != n:
                raise ValueError(f"output_weights has {len(self.output_weights)} values for {n}")
            if self.output_index is not None and not -n <= self.output_index < n:
                raise ValueError(f"output_index {self.output_index} out of range for {n} outputs")
            self._clf = clf
        return self._clf

    # ----------------------------------------------------------------- formatting
    @property
    def encoder(self) -> RMInputEncoder:
        """The input formatter for this model (built on first use)."""
        if self._encoder is None:
            clf = self.classifier
            limit = min(self.max_length or clf.max_length, clf.max_length)
            self._encoder = RMInputEncoder(
                clf.tokenizer, self.format, self.chat_template, self.separator, limit,
                name=self.model_path, lock=clf.tokenizer_lock,
            )
        return self._encoder

    def encode(self, sample: Sample) -> Encoded:
        """Tokenize one sample with the chosen format and truncation policy."""
        return self.encoder.encode(sample.prompt, sample.response)

    # ----------------------------------------------------------------- scoring
    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        return await asyncio.to_thread(self.score_sync, samples)

    def score_sync(self, samples: Sequence[Sample]) -> list[Outcome]:
        """Score samples in the calling thread (what :meth:`score_batch` runs off the loop)."""
        _ = self.classifier  # load first: a misconfigured model fails the whole batch
        outcomes: list[Outcome | None] = [None] * len(samples)
        encoded: dict[int, Encoded] = {}
        for i, s in enumerate(samples):
            try:
                encoded[i] = self.encode(s)
            except Exception as exc:  # one unformattable sample must not sink the batch
                outcomes[i] = error_outcome(exc, self.describe())
        truncated = [i for i, e in encoded.items() if e.truncated]
        if truncated:
            worst = max(encoded[i].tokens for i in truncated)
            log.warning(
                "%s: %d of %d inputs exceeded the token limit and lost their start "
                "(longest had %d tokens)", self.describe(), len(truncated), len(samples), worst,
            )
        raw = self.forward(list(encoded.values()))
        for (i, enc), logits in zip(encoded.items(), raw, strict=True):
            details: dict[str, Any] = {
                "format": enc.format, "tokens": enc.tokens, "truncated": enc.truncated,
            }
            if enc.truncated:
                details["tokens_kept"] = len(enc.input_ids)
            if len(logits) > 1:
                details["outputs"] = logits
            outcomes[i] = Outcome.ok(self._select(logits), **details)
        return [o for o in outcomes if o is not None]

    def _select(self, logits: list[float]) -> float:
        if self.output_weights is not None:
            return float(sum(w * x for w, x in zip(self.output_weights, logits, strict=True)))
        return float(logits[self.output_index or 0])

    def forward(self, items: Sequence[Encoded]) -> list[list[float]]:
        """Raw head outputs for encoded inputs, length-bucketed under the token budget."""
        import torch

        from rewardlab.local.causal_lm import _progress, length_buckets

        clf = self.classifier
        lengths = [len(e.input_ids) for e in items]
        results: list[list[float]] = [[] for _ in items]
        batches = length_buckets(
            lengths, token_budget=self.token_budget, max_batch_size=self.max_batch_size
        )
        bar = _progress(len(items), self.progress, "reward model")
        device = next(clf.model.parameters()).device
        with clf.lock, torch.inference_mode():
            for rows in batches:
                width = max(lengths[i] for i in rows)
                ids = torch.full((len(rows), width), clf.pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                types = None
                if items[rows[0]].token_type_ids is not None:
                    types = torch.zeros((len(rows), width), dtype=torch.long)
                for r, i in enumerate(rows):
                    e = items[i]
                    n = len(e.input_ids)
                    ids[r, :n] = torch.tensor(e.input_ids, dtype=torch.long)
                    mask[r, :n] = 1
                    if types is not None and e.token_type_ids is not None:
                        types[r, :n] = torch.tensor(e.token_type_ids, dtype=torch.long)
                inputs = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
                if types is not None:
                    inputs["token_type_ids"] = types.to(device)
                logits = clf.model(**inputs).logits.float().cpu()
                for r, i in enumerate(rows):
                    results[i] = logits[r].tolist()
                bar.update(len(rows))
        bar.close()
        return results


def _pair_inserts_separator(tokenizer: Any) -> bool:
    """True for tokenizers with a real sentence-pair encoding (BERT-style ``[SEP]``)."""
    try:
        return tokenizer.num_special_tokens_to_add(pair=True) > tokenizer.num_special_tokens_to_add(
            pair=False
        )
    except (AttributeError, NotImplementedError):
        return False


def _encode_pair(tokenizer: Any, prompt: str, response: str, limit: int) -> Encoded:
    """Sentence-pair encoding that cuts the prompt's start first, then the response's start.

    The tokenizer's own pair encoding, cut from the left as token ids (by each token's
    sequence id), which is what ``truncation="only_first"`` with ``truncation_side="left"``
    would keep. The tokenizer is never reconfigured: ``truncation_side`` and truncation
    settings are state shared by every thread using a cached tokenizer.
    """
    if prompt:
        full = tokenizer(prompt, response, verbose=False)  # too long is fine: we cut below
        total = len(full["input_ids"])
        excess = total - limit
        if excess <= 0:
            return _encoded(full, None, 0, total)
        prompt_tokens = sum(1 for s in full.sequence_ids(0) if s == 0)
        if excess < prompt_tokens:  # cutting the prompt's start is enough
            return _encoded(full, 0, excess, total)
    # no prompt, or the response alone fills the window: keep the response's end only
    single = tokenizer(response, verbose=False)
    total_single = len(single["input_ids"])
    total = len(full["input_ids"]) if prompt else total_single
    return _encoded(single, 0, max(0, total_single - limit), total)


def _encoded(enc: Any, seq: int | None, cut: int, total: int) -> Encoded:
    """``enc`` without the first ``cut`` tokens of sequence ``seq`` (special tokens stay)."""
    ids = list(enc["input_ids"])
    types = enc.get("token_type_ids")
    types = list(types) if types is not None else None
    if cut:
        drop, seen = set(), 0
        for i, s in enumerate(enc.sequence_ids(0)):
            if s == seq and seen < cut:
                drop.add(i)
                seen += 1
        ids = [x for i, x in enumerate(ids) if i not in drop]
        if types is not None:
            types = [x for i, x in enumerate(types) if i not in drop]
    return Encoded(ids, types, "pair", total, cut > 0 or total > len(ids))


def _truncate_left(ids: list[int], limit: int, specials: set[int], fmt: str) -> Encoded:
    """Keep the leading special tokens (BOS/CLS) and the last tokens that fit."""
    total = len(ids)
    if total <= limit:
        return Encoded(ids, None, fmt, total, False)
    head = 0
    while head < min(len(ids), 4) and ids[head] in specials:
        head += 1
    kept = ids[:head] + ids[total - (limit - head) :]
    return Encoded(kept, None, fmt, total, True)
