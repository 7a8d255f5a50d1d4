"""``exact_match``: normalized string equality against the reference."""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCT_TABLE = str.maketrans("", "", string.punctuation)


def normalize_text(
    text: str,
    *,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = True,
) -> str:
    """Normalize text for comparison (Unicode NFKC first, then the chosen folds)."""
    text = unicodedata.normalize("NFKC", text)
    if ignore_case:
        text = text.casefold()
    if ignore_punctuation:
        text = text.translate(_PUNCT_TABLE)
    if ignore_articles:
        text = _ARTICLES.sub(" ", text)
    if collapse_whitespace:
        text = " ".join(text.split())
    return text


_SQUAD_PUNCTUATION = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """The SQuAD v1.1 evaluation script's ``normalize_answer``, step for step.

    ``str.lower`` (no casefold, no Unicode normalization), drop the characters of
    ``string.punctuation`` (ASCII only: "…" and "«" stay), replace the words a/an/the (``\b``
    as Python's ``re`` defines it) by spaces, then collapse whitespace.
    """
    text = "".join(ch for ch in text.lower() if ch not in _SQUAD_PUNCTUATION)
    return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())


@register("exact_match")
class ExactMatch(CpuReward):
    """1.0 when the normalized response equals the normalized reference (or any of a list).

    Args:
        ignore_case: Compare case-insensitively (Unicode casefold).
        ignore_punctuation: Drop ASCII punctuation before comparing.
        ignore_articles: Drop English articles (a, an, the), as SQuAD's normalizer does.
        collapse_whitespace: Strip and collapse runs of whitespace.
        squad: Compare exactly as the SQuAD v1.1 evaluation script's ``exact_match_score``
            (its ``normalize_answer``: ``str.lower``, ASCII punctuation dropped, a/an/the
            removed, whitespace collapsed; no Unicode normalization or casefolding). The
            other options are then ignored.
        timeout: Per-sample deadline in seconds (process isolation only).
        isolation: ``"inline"`` (default: the work is linear-time) or ``"process"``.
    """

    default_isolation = "inline"

    def __init__(
        self,
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        ignore_articles: bool = False,
        collapse_whitespace: bool = True,
        squad: bool = False,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        self.squad = squad
        self.options = {
            "ignore_case": ignore_case,
            "ignore_punctuation": ignore_punctuation,
            "ignore_articles": ignore_articles,
            "collapse_whitespace": collapse_whitespace,
        }

    def compute(self, sample: Sample) -> Outcome:
        ref = sample.reference
        refs = ref if isinstance(ref, list | tuple) else [ref]
        if not refs or not all(isinstance(r, str | int | float) and not isinstance(r, bool)
                               for r in refs):
            return Outcome.fail(
                Status.BAD_REFERENCE,
                f"exact_match needs a string reference (or a list of them), got {ref!r}"[:200],
            )
        if self.squad:
            response = squad_normalize(sample.response)
            normalized = [squad_normalize(str(r)) for r in refs]
        else:
            response = normalize_text(sample.response, **self.options)
            normalized = [normalize_text(str(r), **self.options) for r in refs]
        hit = response in normalized
        return Outcome.ok(1.0 if hit else 0.0, "" if hit else "response differs from reference")
