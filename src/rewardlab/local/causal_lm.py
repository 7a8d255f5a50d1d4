"""Per-token log-probabilities of a continuation given a context, with a local causal LM.

This is the shared building block of likelihood rewards (implicit DPO rewards, log-prob
rewards, PRM heads on decoders). It is not itself a registered reward.

    >>> lm = load_causal_lm("/path/to/hf-model", dtype="float32")
    >>> lps = continuation_logprobs(lm, ["Question: 2+2?\\nAnswer:"], [" 4"])
    >>> sum_logprobs(lps[0]), mean_logprobs(lps[0])

Batching pads on the right with an attention mask, so a causal model's log-probs for a row
do not depend on which other rows share the batch (up to float rounding).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_DTYPES = ("float32", "bfloat16", "float16", "auto")


def torch_dtype(name: str) -> Any:
    """Map a dtype name (``float32``, ``bfloat16``, ``float16``, ``auto``) to a torch dtype.

    Args:
        name: The dtype name; ``auto`` keeps the checkpoint's own dtype.

    Raises:
        ValueError: unknown name.
    """
    import torch

    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}; got {name!r}")
    return "auto" if name == "auto" else getattr(torch, name)


def set_threads(num_threads: int | None) -> None:
    """Set torch's intra-op thread count for this process (``None`` leaves it alone).

    Args:
        num_threads: Number of CPU threads torch may use for one operation.
    """
    if num_threads is None:
        return
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    import torch

    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)


@dataclass
class CausalLM:
    """A loaded causal LM and its tokenizer (shared per process, see :func:`load_causal_lm`).

    Args:
        model: The ``transformers`` causal LM, in eval mode.
        tokenizer: Its tokenizer.
        path: Where it was loaded from.
        lock: Serializes forward passes: torch already uses every thread for one batch.
        tokenizer_lock: Held around tokenizer calls: a fast tokenizer keeps mutable settings
            (truncation, padding) that concurrent callers of this shared tokenizer would race on.
    """

    model: Any
    tokenizer: Any
    path: str
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    tokenizer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def max_length(self) -> int:
        """The longest sequence the model accepts (its position limit, capped at 1M)."""
        config = self.model.config
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        limit = getattr(text_config, "max_position_embeddings", None) or 1 << 20
        return int(min(limit, 1 << 20))


_cache: dict[tuple[str, str, str], CausalLM] = {}
_failures: dict[tuple[str, str, str], Exception] = {}  # a failed load is not retried per call
_cache_lock = threading.Lock()


def load_causal_lm(path: str | Path, dtype: str = "float32", device: str = "cpu") -> CausalLM:
    """Load a local Hugging Face causal LM once per process (cached by path, dtype and device).

    Args:
        path: A model folder (or hub id where a hub is reachable).
        dtype: ``float32`` (default: exact on CPU), ``bfloat16``, ``float16`` or ``auto``.
        device: A torch device string.

    Raises:
        FileNotFoundError: a path-like ``path`` that does not exist.
    """
    from rewardlab.reward_models.paths import ModelNotFoundError, looks_local

    key = (str(path), dtype, device)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if key in _failures:  # fail fast: a load that failed once fails the same way again
            raise _failures[key]
        local = Path(path).expanduser()
        if not local.exists() and looks_local(str(path)):
            raise FileNotFoundError(
                f"model folder not found: {path} (looked in {local.resolve()})"
            )
        from transformers import AutoModelForCausalLM, AutoTokenizer

        resolved = str(local) if local.exists() else str(path)  # else a hub id
        try:
            tokenizer = AutoTokenizer.from_pretrained(resolved)
            model = AutoModelForCausalLM.from_pretrained(resolved, dtype=torch_dtype(dtype))
        except Exception as exc:
            failure = ModelNotFoundError(f"cannot load causal LM {path}: {exc}")
            _failures[key] = failure
            raise failure from exc
        model.to(device)
        model.eval()
        lm = CausalLM(model=model, tokenizer=tokenizer, path=resolved)
        _cache[key] = lm
        return lm


def _context_ids(tokenizer: Any, context: str) -> list[int]:
    """Token ids of the context, with the tokenizer's own leading special tokens (BOS)."""
    ids = tokenizer(context, add_special_tokens=True)["input_ids"]
    # Drop trailing specials (an EOS some tokenizers append): the continuation follows directly.
    specials = set(tokenizer.all_special_ids)
    bos = tokenizer.bos_token_id
    while ids and ids[-1] in specials and not (len(ids) == 1 and ids[0] == bos):
        ids = ids[:-1]
    if not ids:
        start = bos if bos is not None else tokenizer.eos_token_id
        if start is None:
            raise ValueError("an empty context needs a tokenizer with a BOS or EOS token")
        ids = [start]
    return list(ids)


def encode_pair(
    tokenizer: Any, context: str, continuation: str, max_length: int
) -> tuple[list[int], int, bool]:
    """Token ids for ``context + continuation`` and where the continuation starts.

    The two parts are tokenized separately, so the continuation's tokens are exactly its own.
    Too-long inputs lose the start of the context first (the continuation is what is scored);
    a continuation longer than the limit raises.

    Args:
        tokenizer: A Hugging Face tokenizer.
        context: Text before the continuation (may be empty: BOS is then the context).
        continuation: Text whose tokens are scored.
        max_length: The longest sequence allowed.

    Returns:
        ``(ids, start, truncated)``: continuation tokens are ``ids[start:]``.

    Raises:
        ValueError: the continuation is empty or alone exceeds ``max_length``.
    """
    ctx = _context_ids(tokenizer, context)
    cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
    if not cont:
        raise ValueError("the continuation is empty: there is nothing to score")
    truncated = False
    if len(ctx) + len(cont) > max_length:
        keep = max_length - len(cont)
        if keep < 1:
            raise ValueError(
                f"the continuation alone has {len(cont)} tokens, over the limit of {max_length}"
            )
        truncated = True
        # Keep the leading BOS (models expect it) and the end of the context.
        head = ctx[:1] if ctx[0] == tokenizer.bos_token_id else []
        ctx = head + ctx[len(ctx) - (keep - len(head)) :] if keep > len(head) else ctx[-keep:]
    return ctx + cont, len(ctx), truncated


def continuation_logprobs(
    lm: CausalLM,
    contexts: Sequence[str],
    continuations: Sequence[str],
    *,
    token_budget: int = 8192,
    max_batch_size: int = 32,
    max_length: int | None = None,
    progress: bool = False,
) -> list[list[float]]:
    """Log-probabilities of each continuation token given its context.

    Rows are sorted by length and packed into batches of at most ``token_budget`` padded
    tokens; padding is on the right with an attention mask, so results do not depend on the
    batch size or order.

    Args:
        lm: A model from :func:`load_causal_lm`.
        contexts: One context per row.
        continuations: One continuation per row (non-empty).
        token_budget: Maximum of ``rows x padded length`` per forward pass.
        max_batch_size: Maximum rows per forward pass.
        max_length: Sequence limit (default: the model's); the context start is cut first.
        progress: Show a progress bar.

    Returns:
        For each row, the log-probability of every continuation token, in order.

    Raises:
        ValueError: mismatched lengths, an empty continuation, or one over the limit.
    """
    if len(contexts) != len(continuations):
        raise ValueError(
            f"got {len(contexts)} contexts and {len(continuations)} continuations"
        )
    limit = max_length or lm.max_length
    pairs = zip(contexts, continuations, strict=True)
    with lm.tokenizer_lock:  # the tokenizer is shared by every caller of this model
        encoded = [encode_pair(lm.tokenizer, c, y, limit) for c, y in pairs]
    n_truncated = sum(t for _, _, t in encoded)
    if n_truncated:
        log.warning(
            "%d of %d contexts were cut from the left to fit %d tokens", n_truncated,
            len(encoded), limit,
        )
    lengths = [len(ids) for ids, _, _ in encoded]
    results: list[list[float]] = [[] for _ in encoded]
    batches = length_buckets(lengths, token_budget=token_budget, max_batch_size=max_batch_size)
    import torch

    pad_id = lm.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = lm.tokenizer.eos_token_id or 0
    bar = _progress(len(encoded), progress, "log-probs")
    with lm.lock, torch.inference_mode():
        for rows in batches:
            width = max(lengths[i] for i in rows)
            input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                ids = encoded[i][0]
                input_ids[r, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                attention[r, : len(ids)] = 1
            device = next(lm.model.parameters()).device
            logits = lm.model(
                input_ids=input_ids.to(device), attention_mask=attention.to(device)
            ).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1, :], dim=-1)
            targets = input_ids[:, 1:].to(device).unsqueeze(-1)
            token_lp = logprobs.gather(-1, targets).squeeze(-1).cpu()
            for r, i in enumerate(rows):
                ids, start, _ = encoded[i]
                # logits at position t predict token t+1, hence the shift by one.
                results[i] = token_lp[r, start - 1 : len(ids) - 1].tolist()
            bar.update(len(rows))
    bar.close()
    return results


def sum_logprobs(token_logprobs: Sequence[float]) -> float:
    """Total log-probability of a continuation (log p(y|x))."""
    return float(sum(token_logprobs))


def mean_logprobs(token_logprobs: Sequence[float]) -> float:
    """Average log-probability per token (0 tokens raises ``ValueError``)."""
    if not token_logprobs:
        raise ValueError("no tokens to average")
    return float(sum(token_logprobs)) / len(token_logprobs)


def length_buckets(
    lengths: Sequence[int], *, token_budget: int, max_batch_size: int
) -> list[list[int]]:
    """Group row indices into batches of similar length under a padded-token budget.

    Rows are sorted by length (longest first, so the first batch shows the peak memory) and
    cut greedily so that ``len(batch) * longest_in_batch <= token_budget`` (a row longer than
    the budget gets a batch of its own) and ``len(batch) <= max_batch_size``.

    Args:
        lengths: Token count of each row.
        token_budget: Padded tokens allowed per batch.
        max_batch_size: Rows allowed per batch.
    """
    if token_budget < 1 or max_batch_size < 1:
        raise ValueError("token_budget and max_batch_size must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        new_width = max(width, lengths[i])
        if current and (
            len(current) >= max_batch_size or (len(current) + 1) * new_width > token_budget
        ):
            batches.append(current)
            current, new_width = [], lengths[i]
        current.append(i)
        width = new_width
    if current:
        batches.append(current)
    return batches


def _progress(total: int, enabled: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="row")
