"""Length rewards: ``soft_overlong`` (DAPO) and ``repetition_penalty``, and the length meter.

``cosine_length`` scales a child reward by length, so it is a combinator and lives in
:mod:`rewardlab.compose.cosine_length` (it measures with :class:`LengthMeter` from here).

Lengths are counted in ``tokens`` (the sample's ``metadata[length_key]`` when the trainer passes
it, else a Hugging Face tokenizer named by ``tokenizer``), ``words`` (whitespace-separated) or
``chars``.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status

Unit = Literal["tokens", "words", "chars"]


@functools.lru_cache(maxsize=4)
def _load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


class LengthMeter:
    """Counts a response's length in tokens, words or characters.

    Args:
        unit: ``tokens``, ``words`` or ``chars``.
        tokenizer: A Hugging Face tokenizer name or local path (for ``tokens`` when the sample
            carries no count).
        length_key: Metadata key holding a token count supplied by the trainer.
    """

    def __init__(self, unit: Unit = "tokens", tokenizer: str | None = None,
                 length_key: str = "num_tokens") -> None:
        if unit not in ("tokens", "words", "chars"):
            raise ValueError(f"unit must be tokens, words or chars, got {unit!r}")
        self.unit, self.tokenizer, self.length_key = unit, tokenizer, length_key

    def measure(self, sample: Sample) -> int | str:
        """The length, or a reason string when it cannot be measured."""
        if self.unit == "chars":
            return len(sample.response)
        if self.unit == "words":
            return len(sample.response.split())
        given = sample.metadata.get(self.length_key) if sample.metadata else None
        if given is not None:
            if isinstance(given, bool) or not isinstance(given, int) or given < 0:
                return f"metadata.{self.length_key} must be a non-negative integer, got {given!r}"
            return given
        if self.tokenizer is None:
            return (f"no token count: pass metadata.{self.length_key} or set 'tokenizer' "
                    "(or use unit: words/chars)")
        tokenizer = _load_tokenizer(self.tokenizer)
        return len(tokenizer(sample.response, add_special_tokens=False)["input_ids"])


@register("soft_overlong")
class SoftOverlong(CpuReward):
    """DAPO's soft overlong punishment (Yu et al. 2025, eq. 13).

    With L the response length, L_max = ``max_length`` and L_cache = ``cache_length``::

        R(L) = 0                                  if L <= L_max - L_cache
        R(L) = ((L_max - L_cache) - L) / L_cache  if L_max - L_cache < L <= L_max
        R(L) = -1                                 if L > L_max

    Meant to be added to a correctness reward (e.g. in a ``weighted_sum``).

    Args:
        max_length: L_max, the generation budget.
        cache_length: L_cache, the soft band before L_max where the penalty ramps to -1 (0: no
            band, as TRL's ``soft_punish_cache=0``).
        unit: ``tokens``, ``words`` or ``chars``.
        tokenizer: Tokenizer name or path used for ``tokens`` when no count is given.
        length_key: Metadata key with a token count from the trainer.
    """

    default_isolation = "inline"

    def __init__(
        self,
        max_length: int,
        cache_length: int,
        unit: Unit = "tokens",
        tokenizer: str | None = None,
        length_key: str = "num_tokens",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        if not 0 <= cache_length <= max_length:
            # 0 is TRL's "no soft band": 0 up to max_length, -1 beyond (no division happens)
            raise ValueError("cache_length must be in [0, max_length]")
        self.max_length, self.cache_length = max_length, cache_length
        self.meter = LengthMeter(unit, tokenizer, length_key)

    def compute(self, sample: Sample) -> Outcome:
        length = self.meter.measure(sample)
        if isinstance(length, str):
            return Outcome.fail(Status.ERROR, length)
        soft_start = self.max_length - self.cache_length
        if length <= soft_start:
            value = 0.0
        elif length <= self.max_length:
            value = (soft_start - length) / self.cache_length
        else:
            value = -1.0
        return Outcome.ok(value, "", length=length)


@register("repetition_penalty")
class RepetitionPenalty(CpuReward):
    """N-gram repetition penalty (Yeo et al. 2025, appendix C.2).

    With the response's T n-grams, U of them distinct::

        R = max_penalty * (1 - U / T)      (0 when the response has fewer than n units)

    A response that never repeats an n-gram scores 0; one that is the same n-gram over and over
    approaches ``max_penalty``. The unit decides what is repeated:

    * ``words`` (default): lower-cased whitespace-separated words, open-r1's form.
    * ``tokens``: token ids, TRL's form (``trl.rewards.get_repetition_penalty_reward``, which
      counts the ``completion_ids`` the trainer generated). The ids are read from
      ``metadata[ids_key]`` when the trainer passes them (exact parity with TRL), else the
      response is tokenized with ``tokenizer`` (no special tokens added; TRL's ids can end with
      the EOS token, which this cannot know).

    Args:
        ngram_size: n.
        max_penalty: The most negative reward (must be <= 0).
        unit: ``words`` or ``tokens``.
        tokenizer: Hugging Face tokenizer name or path for ``tokens`` without ids in metadata.
        ids_key: Metadata key holding the completion's token ids.
    """

    default_isolation = "inline"

    def __init__(
        self,
        ngram_size: int = 3,
        max_penalty: float = -1.0,
        unit: Literal["words", "tokens"] = "words",
        tokenizer: str | None = None,
        ids_key: str = "completion_ids",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        if ngram_size < 1:
            raise ValueError("ngram_size must be >= 1")
        if max_penalty > 0:
            raise ValueError("max_penalty must be <= 0")
        if unit not in ("words", "tokens"):
            raise ValueError(f"unit must be words or tokens, got {unit!r}")
        self.ngram_size, self.max_penalty = ngram_size, max_penalty
        self.unit, self.tokenizer, self.ids_key = unit, tokenizer, ids_key

    def _units(self, sample: Sample) -> list[Any] | str:
        if self.unit == "words":
            return sample.response.lower().split()
        ids = sample.metadata.get(self.ids_key) if sample.metadata else None
        if ids is not None:
            if not isinstance(ids, list | tuple) or not all(
                    isinstance(t, int) and not isinstance(t, bool) for t in ids):
                return f"metadata.{self.ids_key} must be a list of token ids, got {ids!r}"[:200]
            return list(ids)
        if self.tokenizer is None:
            return (f"unit tokens needs token ids: pass metadata.{self.ids_key} or set "
                    "'tokenizer'")
        tokenizer = _load_tokenizer(self.tokenizer)
        return list(tokenizer(sample.response, add_special_tokens=False)["input_ids"])

    def compute(self, sample: Sample) -> Outcome:
        units = self._units(sample)
        if isinstance(units, str):
            return Outcome.fail(Status.ERROR, units)
        n = self.ngram_size
        if len(units) < n:
            return Outcome.ok(0.0, "", ngrams=0, unique_ngrams=0)
        ngrams = [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]
        unique = len(set(ngrams))
        value = self.max_penalty * (1.0 - unique / len(ngrams))
        return Outcome.ok(value + 0.0, "", ngrams=len(ngrams), unique_ngrams=unique)
