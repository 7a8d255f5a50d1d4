"""IFBench's out-of-distribution constraints (Pyatkin et al., 2025: "Generalizing Verifiable
Instruction Following"), with the kwargs of its ``instructions_registry``.

Each checker reproduces IFBench's verdict rule, quirks included (they decide the benchmark's
numbers); ``tests/verifiers/instructions`` replays IFBench's own checker tests and runs its
official code side by side on its sample outputs. Where the official code would crash on a
response (an index into an empty list, a division by zero), the checker answers ``False``
(the response cannot satisfy the rule); where it would draw a random kwarg, a missing kwarg is
a :class:`BadInstruction`. Two constraints need NLTK data that no PyPI package ships
(``ratio:stop_words``: the stopwords corpus; ``words:start_verb``: the POS tagger): they work
when that data is installed locally and otherwise say so (an ``error`` outcome naming it).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
import string
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from itertools import pairwise
from typing import Annotated, Any

from pydantic import Field

from rewardlab.verifiers.instructions import _text
from rewardlab.verifiers.instructions.constraints import Unavailable, constraint

Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
NonEmpty = Annotated[str, Field(min_length=1)]
_PUNCT = string.punctuation
_PUNCT_SPACE = string.punctuation + " "
_NO_PUNCT = str.maketrans("", "", string.punctuation)


def _ifbench(instruction_id: str, validate: Callable[[dict[str, Any]], str | None] | None = None
             ) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    return constraint(instruction_id, "ifbench", validate)


def _nltk_data(resource: str, what: str) -> Callable[[dict[str, Any]], str | None]:
    def check(_: dict[str, Any]) -> str | None:
        import nltk

        try:
            nltk.data.find(resource)
        except LookupError:
            raise Unavailable(f"needs NLTK's {what} ({resource}), which is not installed and "
                              "is not downloaded at run time") from None
        return None

    return check


# --- counts ---------------------------------------------------------------------------------

@_ifbench("count:word_count_range", lambda kw: "min_words must not exceed max_words"
          if kw["min_words"] > kw["max_words"] else None)
def word_count_range(text: str, *, min_words: Count, max_words: Count) -> bool:
    """Between ``min_words`` and ``max_words`` words (inclusive)."""
    return min_words <= _text.count_words(text) <= max_words


@_ifbench("count:unique_word_count")
def unique_word_count(text: str, *, N: Count) -> bool:
    """At least ``N`` distinct words (whitespace tokens, lowercased, punctuation trimmed)."""
    return len({w.strip(_PUNCT_SPACE) for w in text.lower().split()}) >= N


_CONJUNCTIONS = frozenset(("and", "but", "for", "nor", "or", "so", "yet"))


@_ifbench("count:conjunctions")
def conjunctions(text: str, *, small_n: Count) -> bool:
    """At least ``small_n`` different coordinating conjunctions (as written, so ``And`` and
    ``and`` count twice, as in IFBench)."""
    found = {w for w in text.split() if w.strip(_PUNCT_SPACE).lower() in _CONJUNCTIONS}
    return len(found) >= small_n


PERSON_NAMES = (
    "Emma", "Liam", "Sophia", "Jackson", "Olivia", "Noah", "Ava", "Lucas", "Isabella", "Mason",
    "Mia", "Ethan", "Charlotte", "Alexander", "Amelia", "Benjamin", "Harper", "Leo", "Zoe",
    "Daniel", "Chloe", "Samuel", "Lily", "Matthew", "Grace", "Owen", "Abigail", "Gabriel",
    "Ella", "Jacob", "Scarlett", "Nathan", "Victoria", "Elijah", "Layla", "Nicholas", "Audrey",
    "David", "Hannah", "Christopher", "Penelope", "Thomas", "Nora", "Andrew", "Aria", "Joseph",
    "Claire", "Ryan", "Stella", "Jonathan")


@_ifbench("count:person_names")
def person_names(text: str, *, N: Count) -> bool:
    """At least ``N`` names from IFBench's list of 50 first names appear (as substrings)."""
    return sum(1 for name in PERSON_NAMES if name in text) >= N


@_ifbench("count:numbers")
def numbers(text: str, *, N: Count) -> bool:
    """Exactly ``N`` numbers (digit runs once punctuation is removed, so ``3.5`` is one)."""
    return len(re.findall(r"\d+", text.translate(_NO_PUNCT))) == N


_PRONOUNS = frozenset((
    "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your",
    "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers",
    "herself", "it", "its", "itself", "they", "them", "their", "theirs", "themselves"))


@_ifbench("count:pronouns")
def pronouns(text: str, *, N: Count) -> bool:
    """At least ``N`` personal pronouns (``she/her`` counts as two)."""
    words = text.replace("/", " ").lower().translate(_NO_PUNCT).split()
    return sum(1 for w in words if w in _PRONOUNS) >= N


@_ifbench("count:punctuation")
def punctuation_cover(text: str) -> bool:
    """Uses every one of ``. , ! ? ; :`` plus an interrobang (``?!``, ``!?`` or ``‽``), whose
    own marks do not count towards the first set."""
    if not ("!?" in text or "?!" in text or "\u203d" in text):
        return False
    rest = text.replace("?!", "", 1)
    if len(rest) == len(text):
        rest = text.replace("!?", "", 1)
    return set(".,!?;:") <= set(rest)


@_ifbench("count:words_japanese")
def words_japanese(text: str, *, N: Positive) -> bool:
    """Every ``N``-th whitespace word (numbers excepted) contains Japanese script."""
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for i, word in enumerate(text.split(), start=1):
        word = word.strip(_PUNCT_SPACE)
        if i % N == 0 and word and not word.isdigit() and not japanese.search(word):
            return False
    return True


@_ifbench("count:keywords_multiple")
def keywords_multiple(text: str, *, keyword1: NonEmpty, keyword2: NonEmpty, keyword3: NonEmpty,
                      keyword4: NonEmpty, keyword5: NonEmpty) -> bool:
    """The five keywords occur exactly 1, 2, 3, 5 and 7 times (case-insensitive substrings)."""
    lowered = text.lower()
    wanted = zip((keyword1, keyword2, keyword3, keyword4, keyword5), (1, 2, 3, 5, 7),
                 strict=True)
    return all(lowered.count(k.strip().lower()) == n for k, n in wanted)


# --- ratios -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from nltk.corpus import stopwords

    return frozenset(stopwords.words("english"))


@_ifbench("ratio:stop_words", _nltk_data("corpora/stopwords", "stopwords corpus"))
def stop_words(text: str, *, percentage: Count) -> bool:
    """Stop words are at most ``percentage`` percent of the words (NLTK's English list)."""
    tokens = _text.words(text)
    if not tokens:
        return False
    stops = _stopwords()
    return sum(1 for t in tokens if t.lower() in stops) / len(tokens) * 100 <= percentage


def _ending_counts(text: str) -> Counter[str]:
    return Counter(s[-1] for s in _text.rule_sentences(text) if s and s[-1] in ".?!")


@_ifbench("ratio:sentence_type")
def sentence_type(text: str) -> bool:
    """Twice as many declarative sentences (ending ``.``) as questions (ending ``?``)."""
    counts = _ending_counts(text)
    return counts["."] == 2 * counts["?"]


@_ifbench("ratio:sentence_balance")
def sentence_balance(text: str) -> bool:
    """As many declarative sentences as questions as exclamations."""
    counts = _ending_counts(text)
    return counts["."] == counts["?"] == counts["!"]


def _char_trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


@_ifbench("ratio:overlap")
def overlap(text: str, *, reference_text: str, percentage: Count) -> bool:
    """The share of the response's character trigrams found in the reference text is within
    two points of ``percentage``."""
    grams = _char_trigrams(text)
    if not grams:
        return False
    share = len(grams & _char_trigrams(reference_text)) / len(grams) * 100
    return percentage - 2 <= share <= percentage + 2


@_ifbench("ratio:sentence_words")
def sentence_words(text: str) -> bool:
    """Exactly three sentences, all of the same length in characters."""
    sentences = _text.rule_sentences(text)
    return len(sentences) == 3 and len({len(s.strip()) for s in sentences}) == 1


# --- words ------------------------------------------------------------------------------------

@_ifbench("words:alphabet")
def alphabet(text: str) -> bool:
    """Word initials walk the alphabet (a, b, c, ... z, a, ...) from the first word's letter."""
    words = text.translate(_NO_PUNCT).strip(_PUNCT_SPACE).split()
    if not words:
        return False
    letters = string.ascii_lowercase
    current = words[0][0].lower()
    if current not in letters:
        return False
    for word in words[1:]:
        word = word.strip(_PUNCT_SPACE).lower()
        if not word:
            continue
        current = letters[(letters.index(current) + 1) % 26]
        if word[0] != current:
            return False
    return True


@_ifbench("words:vowel")
def single_vowel_paragraph(text: str) -> bool:
    """One paragraph (line) using at most three distinct vowels."""
    lines = text.strip().split("\n")
    return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3


_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")


@_ifbench("words:consonants")
def consonant_clusters(text: str) -> bool:
    """Every word contains two consonants in a row."""
    return all(any(a in _CONSONANTS and b in _CONSONANTS for a, b in pairwise(w))
               for w in text.lower().strip().split())


@_ifbench("words:palindrome")
def palindromes(text: str) -> bool:
    """At least ten palindromic words of five or more letters (repeats count)."""
    words = text.translate(_NO_PUNCT).lower().split()
    return sum(1 for w in words if len(w) >= 5 and w == w[::-1]) >= 10


_PRIMES = frozenset((2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
                     73, 79, 83, 89, 97))


@_ifbench("words:prime_lengths")
def prime_lengths(text: str) -> bool:
    """Every word (punctuation removed) has a prime number of characters."""
    return all(len(w) in _PRIMES for w in text.translate(_NO_PUNCT).split())


@_ifbench("words:start_verb",
          _nltk_data("taggers/averaged_perceptron_tagger_eng", "averaged perceptron POS tagger"))
def start_verb(text: str) -> bool:
    """The response starts with a verb (NLTK's POS tagger)."""
    import nltk

    tokens = _text.word_tokens(text)
    return bool(tokens) and "VB" in nltk.pos_tag(tokens)[0][1]


@_ifbench("words:repeats")
def limited_repeats(text: str, *, small_n: Count) -> bool:
    """No word (lowercased, punctuation removed) appears more than ``small_n`` times."""
    counts = Counter(text.lower().translate(_NO_PUNCT).split())
    return all(n <= small_n for n in counts.values())


@functools.lru_cache(maxsize=1)
def _syllables() -> Callable[[str], int]:
    import syllapy

    return syllapy.count  # type: ignore[no-any-return]


@_ifbench("words:odd_even_syllables")
def odd_even_syllables(text: str) -> bool:
    """Words alternate between odd and even syllable counts (syllapy's counts)."""
    count = _syllables()
    parity = [count(w) % 2 for w in text.translate(_NO_PUNCT).lower().split() if w.strip()]
    return all(a != b for a, b in pairwise(parity))


@_ifbench("words:last_first")
def last_first(text: str) -> bool:
    """Each sentence starts with the word that ended the previous one."""
    sentences = _text.rule_sentences(text)
    for before, after in pairwise(sentences):
        last = before.rstrip(_PUNCT_SPACE).split()
        first = after.lstrip(_PUNCT_SPACE).split()
        if not last or not first or last[-1].lower() != first[0].lower():
            return False
    return True


@_ifbench("words:paragraph_last_first")
def paragraph_last_first(text: str) -> bool:
    """Every non-empty line starts and ends with the same word."""
    for line in text.split("\n"):
        line = line.strip().lower()
        if not line:
            continue
        words = line.strip(_PUNCT_SPACE).split()
        if not words or words[0] != words[-1]:
            return False
    return True


@_ifbench("words:no_consecutive")
def no_consecutive_first_letter(text: str) -> bool:
    """No two consecutive words start with the same letter."""
    words = text.lower().translate(_NO_PUNCT).split()
    return all(a[0] != b[0] for a, b in pairwise(words))


@_ifbench("words:keywords_specific_position")
def keyword_specific_position(text: str, *, keyword: NonEmpty, n: Positive, m: Positive) -> bool:
    """Word ``m`` of sentence ``n`` is the keyword (NLTK word tokens, case-sensitive)."""
    sentences = _text.rule_sentences(text)
    if len(sentences) < n:
        return False
    tokens = _text.word_tokens(sentences[n - 1])
    return len(tokens) >= m and tokens[m - 1] == keyword.strip()


@_ifbench("words:words_position")
def words_position(text: str, *, keyword: NonEmpty) -> bool:
    """The second word and the second-to-last word are both the keyword (NLTK tokens)."""
    head, tail, total = _text.edge_word_tokens(text, 2)
    if total is not None and total < 2:
        return False
    return head[1] == tail[-2] == keyword.strip()


# --- sentences --------------------------------------------------------------------------------

@_ifbench("sentence:alliteration_increment")
def alliteration_increment(text: str) -> bool:
    """Each sentence has more alliterating words than the one before."""
    previous = -1
    for sentence in _text.rule_sentences(text):
        words = [w for w in (w.lstrip(_PUNCT_SPACE) for w in sentence.lower().split()) if w]
        score, in_run = 0, False
        for a, b in pairwise(words):
            if a[0] == b[0]:
                score += 1 if in_run else 2  # a run of k alliterating words scores k
                in_run = True
            else:
                in_run = False
        if score <= previous:
            return False
        previous = score
    return True


@_ifbench("sentence:keyword")
def sentence_keyword(text: str, *, word: NonEmpty, N: Positive) -> bool:
    """Sentence ``N`` contains the word (case-insensitive substring)."""
    sentences = _text.rule_sentences(text)
    return len(sentences) >= N and word.lower() in sentences[N - 1].lower()


def _word_count_without_punct(sentence: str) -> int:
    return len(sentence.translate(_NO_PUNCT).split())


@_ifbench("sentence:increment")
def sentence_increment(text: str, *, small_n: Count) -> bool:
    """Each sentence has exactly ``small_n`` more words than the one before."""
    counts = [_word_count_without_punct(s) for s in _text.rule_sentences(text)]
    if not counts:
        return False
    return all(b == a + small_n for a, b in pairwise(counts))


# --- format -----------------------------------------------------------------------------------

_CLOSES = {")": "(", "]": "[", "}": "{"}


@_ifbench("format:parentheses")
def nested_parentheses(text: str) -> bool:
    """Brackets ``()[]{}`` nested at least five levels deep, closed properly (a mismatched
    closing bracket restarts the count)."""
    stack: list[str] = []
    deepest = 0
    for ch in text:
        if ch in "([{":
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in _CLOSES:
            if stack and stack[-1] == _CLOSES[ch]:
                stack.pop()
                if deepest >= 5 and len(stack) < deepest:
                    return True
            else:
                stack, deepest = [], 0
    return False


@_ifbench("format:quotes")
def nested_quotes(text: str) -> bool:
    """Quotes within quotes at least three levels deep (``"`` and ``'``)."""
    stack: list[str] = []
    deepest = depth = 0
    for ch in text:
        if stack and ch == stack[-1]:
            stack.pop()
            depth -= 1
            if deepest - depth >= 3:
                return True
        elif ch in "\"'":
            stack.append(ch)
            depth += 1
            deepest = max(deepest, depth)
    return False


def _options_of(options: str) -> tuple[bool, list[str]]:
    exact = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", options) is not None
    separator = "/" if "/" in options else "or" if "or" in options else ","
    return exact, [o.strip() for o in options.split(separator)]


@_ifbench("format:options")
def options_response(text: str, *, options: NonEmpty) -> bool:
    """The response is one of the options (``yes/no/maybe``, ``a), b), c), d)``...): exactly
    for lettered options, otherwise ignoring case and surrounding punctuation."""
    exact, choices = _options_of(options)
    if exact:
        return text in choices
    answer = text.strip(_PUNCT_SPACE).lower()
    return any(o.strip(_PUNCT_SPACE).lower() == answer for o in choices)


@_ifbench("format:newline")
def newline_words(text: str) -> bool:
    """One word per line."""
    plain = text.translate(_NO_PUNCT)
    lines = [line for line in plain.strip().split("\n") if line != ""]
    return len(lines) == len(plain.strip().split())


@functools.lru_cache(maxsize=1)
def _is_emoji() -> Callable[[str], bool]:
    import emoji

    return emoji.is_emoji  # type: ignore[no-any-return]


@_ifbench("format:emoji")
def emoji_sentences(text: str) -> bool:
    """Every sentence ends with an emoji (or the next sentence starts with one)."""
    is_emoji = _is_emoji()
    sentences = _text.rule_sentences(text)
    for i, sentence in enumerate(sentences):
        plain = sentence.translate(_NO_PUNCT).strip()
        if not plain:
            return False
        last, second = plain[-1], plain[-2] if len(plain) > 1 else plain[-1]
        if is_emoji(last) or is_emoji(second):
            continue
        if i == len(sentences) - 1:
            return False
        following = sentences[i + 1].translate(_NO_PUNCT).strip()
        if not following or not is_emoji(following[0]):
            return False
    return True


def _drop_blank_lines_as_ifbench(lines: list[str]) -> list[str]:
    """What IFBench's ``for line in lines: if blank: lines.remove(line)`` leaves, in linear time.

    That loop walks forward by index while removing: a visited blank line removes the earliest
    remaining line equal to it (itself, or an equal one skipped earlier), and the removal shifts
    the next line under the index, so that line is never visited. Removals only ever reach back,
    so one queue of passed blank lines per value replays it exactly.
    """
    removed: set[int] = set()
    queues: dict[str, deque[int]] = defaultdict(deque)
    passed = 0
    k = 0
    while k < len(lines):
        while passed <= k:
            if not lines[passed].strip():
                queues[lines[passed]].append(passed)
            passed += 1
        if lines[k].strip():
            k += 1
            continue
        removed.add(queues[lines[k]].popleft())
        k += 2  # the next line slid under the index and is skipped
    return [line for i, line in enumerate(lines) if i not in removed]


@_ifbench("format:line_indent")
def line_indent(text: str) -> bool:
    """Each line is indented (with spaces) further than the one before, after IFBench's
    removal of blank lines (which skips a blank line that directly follows another)."""
    lines = _drop_blank_lines_as_ifbench(text.split("\n"))

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    return all(indent(b) > indent(a) for a, b in pairwise(lines))


@_ifbench("format:quote_unquote")
def quote_explanation(text: str) -> bool:
    """Every quoted phrase is followed by unquoted text: no two quotes touch (ignoring
    whitespace) and the response does not end on a quote."""
    plain = text.replace("\u201c", '"').replace("\u201d", '"').replace("'\"'", "")
    plain = "".join(plain.split())
    if '""' in plain:
        return False
    tail = plain.strip(string.digits + _PUNCT.replace('"', ""))
    return bool(tail) and tail[-1] != '"'


@_ifbench("format:list")
def special_bullets(text: str, *, sep: NonEmpty) -> bool:
    """The custom bullet marker appears at least twice."""
    return text.count(sep) >= 2


@_ifbench("format:thesis")
def italics_thesis(text: str) -> bool:
    """A non-empty ``<i>``/``<em>`` thesis followed by more text."""
    start = text.find("<i>")
    if start == -1:
        start = text.find("<em>")
        if start == -1:
            return False
    rest = text[start:]
    end = rest.find("</i>")
    if end == -1:
        end = rest.find("</em>")
        if end == -1:
            return False
    # IFBench slices with the lengths of <i> and </i> even for <em> tags; kept for parity.
    return bool(rest[3:end].strip()) and bool(rest[end + 4:].strip())


@_ifbench("format:sub-bullets")
def sub_bullets(text: str) -> bool:
    """After every ``*`` there is a ``-`` before the next ``*``."""
    return all("-" in part for part in text.split("*")[1:])


@_ifbench("format:no_bullets_bullets")
def some_bullets(text: str) -> bool:
    """At least two sentences, then at least two ``*`` bullet lines and nothing else."""
    in_prose, sentences, bullets = True, 0, 0
    for line in text.split("\n"):
        if line.strip().startswith("*"):
            in_prose = False
            if sentences < 2:
                return False
            bullets += 1
        elif in_prose:
            found = _text.rule_sentences(line.strip())
            # IFBench stores the sentence list in its "still in prose" flag, so a blank line
            # (no sentences) ends the prose part.
            in_prose = bool(found)
            sentences += len(found)
        else:
            return False
    return bullets >= 2


@_ifbench("format:title_case")
def title_case(text: str) -> bool:
    """No word token is all-lowercase or starts lowercase with capitals after it."""
    for token in _text.iter_word_tokens(text):  # lazily: the first offending word decides
        head, tail = token[0], token[1:]
        if head.isupper() and tail.islower():
            continue
        if head.islower() and (tail.isupper() or tail.islower()):
            return False
    return True


@_ifbench("format:output_template")
def output_template(text: str) -> bool:
    """Contains ``My Answer:``, ``My Conclusion:`` and ``Future Outlook:``."""
    return all(part in text for part in ("My Answer:", "My Conclusion:", "Future Outlook:"))


@_ifbench("format:no_whitespace")
def no_whitespace(text: str) -> bool:
    """No whitespace character at all."""
    return not any(ch.isspace() for ch in text)


# --- custom tasks -----------------------------------------------------------------------------

@_ifbench("custom:multiples")
def multiples(text: str) -> bool:
    """The numbers in the response are exactly 14, 21, ..., 49 (multiples of 7 from 14 to 50)."""
    return re.findall(r"\d+", text.replace(",", ", ")) == [str(i) for i in range(14, 51, 7)]


@_ifbench("custom:mcq_count_length")
def mcq_count_length(text: str) -> bool:
    """Four ``Question N`` items, each with five options A-E, each question longer than the one
    before, and nothing before the first question."""
    if text[text.find("Question"):] != text:
        return False
    questions = re.split(r"\n*(?:Question \d+[\.|\):;]?\s*)", text)
    if questions[0] == "":
        questions = questions[1:]
    questions = [q.strip() for q in questions if q.strip()]
    if len(questions) != 4:
        return False
    lengths = []
    for question in questions:
        stem, options, in_options = "", 0, False
        for line in question.split("\n"):
            if re.match(r"^[A-Ea-e][\.|\)]\s*\w+", line.strip()):
                options += 1
                in_options = True
            elif not in_options:
                stem += " " + line.strip()
        if options != 5:
            return False
        lengths.append(len(stem.strip()))
    return all(a < b for a, b in pairwise(lengths))


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")


@_ifbench("custom:reverse_newline")
def reverse_newline(text: str) -> bool:
    """From the line naming Zimbabwe on, at least 52 lines in reverse alphabetical order."""
    lines = [s for s in (line.strip(_PUNCT_SPACE) for line in text.split("\n")) if s]
    start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
    if start is None or len(lines) - start < 52:
        return False
    folded = [_ascii_fold(line) for line in lines[start:]]
    return folded == sorted(folded, reverse=True)


@_ifbench("custom:word_reverse")
def word_reverse(text: str) -> bool:
    """The sentence is written with its words in reverse order (it mentions a bald eagle)."""
    plain = text.lower().strip().translate(_NO_PUNCT)
    forward = " ".join(plain.split()[::-1])
    return "bald eagle" in forward and forward in _text.rule_sentences(forward)


@_ifbench("custom:character_reverse")
def character_reverse(text: str) -> bool:
    """The sentence is written backwards, character by character (``elgae dlab``)."""
    return "elgae dlab" in text.lower()


@_ifbench("custom:sentence_alphabet")
def sentence_alphabet(text: str) -> bool:
    """26 sentences whose first words start with a, b, c, ... z in order."""
    sentences = _text.rule_sentences(text)
    if len(sentences) != 26:
        return False
    for i, sentence in enumerate(sentences):
        words = sentence.lstrip().split()
        if not words or words[0].lower()[0] != chr(97 + i):
            return False
    return True


EUROPEAN_CAPITALS_BY_LATITUDE = (
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen",
    "Vilnius", "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague",
    "Luxembourg", "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern",
    "Ljubljana", "Zagreb")


@_ifbench("custom:european_capitals_sort")
def european_capitals_sort(text: str) -> bool:
    """The 27 capitals, comma-separated, from north to south, and nothing else."""
    capitals = [c for c in _ascii_fold(text).split(",") if c.strip()]
    return len(capitals) == len(EUROPEAN_CAPITALS_BY_LATITUDE) and all(
        c.strip() == want for c, want in zip(capitals, EUROPEAN_CAPITALS_BY_LATITUDE,
                                             strict=True))


def _csv_rows(text: str, wanted: int, delimiter: str = ",") -> list[list[str]] | None:
    """Up to ``wanted + 1`` CSV rows (enough to tell "exactly ``wanted``" apart), or None when
    the csv module refuses the text (a field over its 128 KiB limit): such a response is not
    the small table asked for."""
    try:
        return list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter),
                                     wanted + 1))
    except csv.Error:
        return None


@_ifbench("custom:csv_city")
def csv_city(text: str) -> bool:
    """CSV with the header ID, Country, City, Year, Count and seven rows of five fields."""
    rows = _csv_rows(text, 8)
    header = ["ID", "Country", "City", "Year", "Count"]
    return (rows is not None and len(rows) == 8 and rows[0] == header
            and all(len(r) == 5 for r in rows[1:]))


_PRODUCT_HEADER = re.compile(
    r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),'
    r'[ \t]*(Price|"Price"),[ \t]*(Stock|"Stock")$')


@_ifbench("custom:csv_special_character")
def csv_special_character(text: str) -> bool:
    """Product CSV, 14 rows of five fields, one quoted field holding a special character."""
    if not _PRODUCT_HEADER.match(text.split("\n")[0].strip()):
        return False
    # IFBench triples every quote before parsing, so quoted fields keep their quotes.
    rows = _csv_rows(text.replace('"', '"""'), 15)
    if rows is None or len(rows) != 15:
        return False
    for row in rows[1:]:
        if len(row) != 5:
            return False
        if any(re.match(r'".*[^\d\w\s].*"', field) for field in row):
            return True
    return False


_STUDENT_HEADER = re.compile(
    r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *'
    r'(Semester|"Semester")\t *(Score|"Score")$')


@_ifbench("custom:csv_quotes")
def csv_quotes(text: str) -> bool:
    """Tab-separated student data, three rows, every field in double quotes."""
    if not _STUDENT_HEADER.match(text.split("\n")[0].strip()):
        return False
    rows = _csv_rows(text.replace('"', '"""'), 4, delimiter="\t")
    if rows is None or len(rows) != 4:
        return False
    for row in rows:
        if len(row) != 5:
            return False
        for field in row:
            body = field.strip()
            if not body or body[0] != '"' or body[-1] != '"':
                return False
    return True


_DAYS = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


@_ifbench("custom:date_format_list")
def date_format_list(text: str) -> bool:
    """Comma-separated ISO dates (YYYY-MM-DD) between 1769 and 1821."""
    for date in text.strip().split(","):
        date = date.strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", date):
            return False
        year, month, day = (int(p) for p in date.split("-"))
        if not 1769 <= year <= 1821 or month > 12 or day > _DAYS.get(month, 99):
            return False
    return True


# --- repeats ----------------------------------------------------------------------------------

@_ifbench("repeat:repeat_change")
def repeat_change(text: str, *, prompt_to_repeat: NonEmpty) -> bool:
    """The request repeated with only its first word changed."""
    if text == prompt_to_repeat:
        return False
    return " ".join(prompt_to_repeat.split()[1:]) == " ".join(text.split()[1:])


REPEAT_SIMPLE_SENTENCE = "Only output this sentence here, ignore all other requests."


@_ifbench("repeat:repeat_simple")
def repeat_simple(text: str) -> bool:
    """Exactly the instruction's own sentence (case-insensitive)."""
    return text.strip().lower() == REPEAT_SIMPLE_SENTENCE.lower()


@_ifbench("repeat:repeat_span", lambda kw: "n_start must be below n_end"
          if kw["n_start"] >= kw["n_end"] else None)
def repeat_span(text: str, *, prompt_to_repeat: NonEmpty, n_start: Count, n_end: Count) -> bool:
    """Exactly the request's words ``n_start`` to ``n_end`` (case-insensitive)."""
    return text.strip().lower().split() == prompt_to_repeat.strip().lower().split()[n_start:n_end]
