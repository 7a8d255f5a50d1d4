"""``math``: is the response's final answer mathematically equivalent to the reference?

Pipeline per sample (each step settles the item when it can, cheapest first):

1. Read the reference in its native form (GSM8K ``#### N`` or ``A: N``, a MATH solution's last
   box, a bare answer, a number, or a list of acceptable answers).
2. Extract the response's final answer (boxes, "The answer is", ``####``, Minerva's "Final
   Answer", ``A:``, math spans, plain LaTeX, and a last-number fallback for numeric references).
3. Fast paths without sympy: canonical string equality, multiple-choice letters, exact numbers
   (thousands separators, decimal commas, currency, units, percent, degrees, fractions, mixed
   numbers) compared with :class:`fractions.Fraction`.
4. Guards: answers whose evaluation could explode (power towers, huge factorials, deep nesting)
   are not handed to sympy.
5. Symbolic path: math-verify (pinned) for sets, intervals, tuples, matrices, equations and
   inequalities, with guards against its known false positives.

The reward runs in engine workers (process isolation, hard deadline). Statuses: ``ok`` (1.0 or
0.0), ``unparseable`` (no answer in the response), ``bad_reference`` (the reference cannot be
read), ``timeout``.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import math
import numbers
import re
from typing import Any, Literal

from rewardlab.errors import RewardlabError
from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers._math_answers import (
    _NEGATED_CHOICE_RE,
    MAX_PARTS,
    assigned_variable,
    choice_letters,
    hedge_in_text,
    offers_several_choices,
    split_parts,
    stray_words,
    taint_in_answer,
)
from rewardlab.verifiers._math_extract import Extracted, extract_answer, extract_reference
from rewardlab.verifiers._math_normalize import (
    canonical_text,
    numbers_equal,
    read_choice,
    read_number,
)
from rewardlab.verifiers._math_unicode import POISON, normalize_unicode
from rewardlab.verifiers._math_units import quantities_equal, read_quantity

_MAX_ANSWER_CHARS = 2000
_MISSING_MATH_VERIFY = ("the math reward's symbolic path needs math-verify: "
                        "pip install 'rewardlab[math]' (or set symbolic: false)")
_RESPONSE_TAIL = 4000  # math-verify's whole-response fallback reads only the end
_MAX_NESTING = 40
_TOWER_RE = re.compile(
    r"\^\s*\{[^{}]*\^|\^\s*\{\s*\{|\w\s*\*\*\s*\(?\s*\w+\s*\)?\s*\*\*\s*\w|\^\s*\d+\s*\^"
)
_CHOICE_FALLBACK_RE = re.compile(r"\(([A-J])\)|(?<![A-Za-z\\])([A-J])[\s.)*]*$")
_LAST_LETTER_RE = re.compile(r"(?<![A-Za-z\\'])\(?([A-HJ])\)?(?![A-Za-z'])")
_LEADING_CHOICE_RE = re.compile(r"^\s*\(?([A-J])\)?\s*[.:)\u3002\uff0c,]")
# An option reference that carries its text: "(D) Alina", "C Cecile".
_LABELLED_CHOICE_RE = re.compile(r"^\s*\(?([A-J])\)?[.:)]?\s+[A-Z][a-z]+[^\d$\\]{0,60}$", re.DOTALL)
_BIG_EXPONENT_RE = re.compile(r"\^\s*\{?\s*\(?\s*(\d{6,})")
_BIG_FACTORIAL_RE = re.compile(r"(\d{5,})\s*!|\\(?:binom|dbinom|tbinom|Gamma)\s*[{(]\s*\d{5,}")
_BRACKET_RE = re.compile(r"[{}()\[\]]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_SENTENCE_START_RE = re.compile(r"(?:[.!?]\s|\n)")
_QUOTE_CHARS = "\"\u201c\u201d\u2018\u2019\u00ab\u00bb"
_HEDGE_WINDOW = 600
# Samples up to this size may be settled in the calling process when no sympy is needed: every
# step before the symbolic path is linear-time, so this bounds their cost (about a millisecond).
_INLINE_MAX_CHARS = 50_000
_FAST_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("math_fast_only",
                                                                   default=False)
_NOT_BEFORE_RE = re.compile(r"(?:\bnot|n't|\bnever|\bno)\s*(?:be\s+|equal\s+to\s+|exactly\s+)?"
                            r"[$(]*\s*$", re.IGNORECASE)
_QUESTION_AFTER_RE = re.compile(r"^[\s$}\\)\]]*\?")
_NEGATED_AFTER_RE = re.compile(r"^[\s$}\\)\].,]*(?:is|was|would\s+be|seems)\s+(?:wrong|incorrect|"
                               r"false|not\b|a\s+mistake|an\s+error)", re.IGNORECASE)
_OR_AFTER_RE = re.compile(r"^[^.\n]{0,40}?\b(?:or|ou|oder)\b\s*[$(\\]*\s*[-+\d(\\]",
                          re.IGNORECASE)
_CONTINUED_AFTER_RE = re.compile(r"^[ \t]*(?:\^|_|\\times|\\cdot|\*|/|\d|\\sqrt|\\frac)")
_CONTINUED_BEFORE_RE = re.compile(
    r"(?:[-+*/^_\d]|\\times|\\cdot|\\frac|\\sqrt|\\pm)[ \t]*\$?[ \t]*$")
_OR_BEFORE_RE = re.compile(r"\b(?:or|ou|oder|o)\s*[$(]*\s*$", re.IGNORECASE)


def _sanitize(text: str) -> str:
    """Drop NUL bytes and lone surrogates (they break downstream parsers, carry no meaning)."""
    text = text.replace("\x00", "")
    return _SURROGATE_RE.sub("\ufffd", text)


def _too_costly(answer: str, max_chars: int = _MAX_ANSWER_CHARS) -> str | None:
    """Why an answer must not be handed to sympy (evaluation could hang or exhaust memory)."""
    if len(answer) > max_chars:
        return f"answer is {len(answer)} characters long (limit {max_chars})"
    depth = deepest = 0
    for m in _BRACKET_RE.finditer(answer):
        if m.group(0) in "{([":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    if deepest > _MAX_NESTING:
        return f"answer nests {deepest} levels deep (limit {_MAX_NESTING})"
    if _TOWER_RE.search(answer):
        return "answer contains a power tower"
    if _BIG_EXPONENT_RE.search(answer):
        return "answer raises to an exponent of 6 or more digits"
    if _BIG_FACTORIAL_RE.search(answer):
        return "answer takes the factorial (or binomial) of a 5-digit or larger number"
    return None


def _malformed(latex: str) -> bool:
    """Unbalanced braces or a command missing its arguments (``\\frac{``, ``\\sqrt``)."""
    if latex.count("{") != latex.count("}"):
        return True
    return re.search(r"\\(?:frac|sqrt|boxed)\s*$|\\frac\s*\{[^{}]*\}\s*$", latex) is not None


@register("math")
class MathVerifier(CpuReward):
    """1.0 when the response's final answer is mathematically equivalent to the reference.

    The reference may be a bare answer (``"\\\\frac{1}{2}"``, ``"$[0,1)$"``, ``72``), a GSM8K
    solution (``... #### 72`` or a final ``A: 72``), a MATH solution (its last ``\\\\boxed{}``
    is the answer), or a list of acceptable answers.

    Args:
        number_fallback: When the reference is a plain number and the response has no explicit
            answer (box, "the answer is", ``####``, ...), use the last number in the response.
        symbolic: Use math-verify for answers the fast paths cannot settle. ``False`` keeps the
            reward sympy-free (exact string and number comparison only).
        float_rounding: Decimal places used when either side is written as a decimal.
        rel_tol: Relative numeric tolerance (0: exact, up to ``float_rounding``).
        strict: math-verify's strict mode (variables matter; sets and tuples differ).
        allow_set_relation_comp: Let an interval match an inequality in both directions (by
            default only a reference inequality matches a predicted interval).
        response_fallback: When the extracted answer does not match, also try math-verify's own
            extraction over the whole response (catches answers our extraction misses).
        reasoning_tag: When the response closes a reasoning block (``</think>``), read the
            answer only after it: boxes and numbers inside the reasoning are drafts. An empty
            string disables this.
        timeout: Per-sample deadline in seconds, enforced by the engine.
        isolation: ``"process"`` (default) or ``"inline"``.
        cache: Let the engine reuse outcomes for identical samples.
    """

    # Loaded by each worker before the first item's deadline starts (sympy takes ~1 s).
    imports = ("rewardlab.verifiers._math_symbolic",)

    def __init__(
        self,
        number_fallback: bool = True,
        symbolic: bool = True,
        float_rounding: int = 6,
        rel_tol: float = 0.0,
        strict: bool = True,
        allow_set_relation_comp: bool = False,
        response_fallback: bool = True,
        reasoning_tag: str = "think",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
        cache: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation, cache=cache)
        if not 0 <= float_rounding <= 30:
            raise ValueError("float_rounding must be between 0 and 30")
        if rel_tol < 0:
            raise ValueError("rel_tol must be >= 0")
        if symbolic and importlib.util.find_spec("math_verify") is None:
            raise ValueError(_MISSING_MATH_VERIFY)
        self.number_fallback = number_fallback
        self.symbolic = symbolic
        if not symbolic:
            self.imports = ()
        self.float_rounding = float_rounding
        self.rel_tol = rel_tol
        self.strict = strict
        self.allow_set_relation_comp = allow_set_relation_comp
        self.response_fallback = response_fallback
        if reasoning_tag and not re.fullmatch(r"[A-Za-z][\w.-]*", reasoning_tag):
            raise ValueError(f"reasoning_tag must be a tag name such as 'think', got "
                             f"{reasoning_tag!r}")
        self.reasoning_tag = reasoning_tag

    # -- reading ----------------------------------------------------------------------------

    def _references(self, reference: Any) -> list[Extracted] | str:
        """The reference's answers, or a reason why it cannot be read."""
        if hasattr(reference, "tolist"):  # numpy scalars and arrays (verl passes these)
            reference = reference.tolist()
        refs = list(reference) if isinstance(reference, list | tuple) else [reference]
        if not refs:
            return "the reference is an empty list"
        out = []
        for ref in refs:
            if isinstance(ref, bool) or not isinstance(ref, str | numbers.Real):
                return f"the reference must be a string or a number, got {type(ref).__name__}"
            if not isinstance(ref, str) and not math.isfinite(ref):
                return f"the reference is {ref!r}"
            text = _sanitize(ref if isinstance(ref, str) else repr(ref))
            labelled = _LABELLED_CHOICE_RE.match(text)
            found = (Extracted(labelled.group(1), "choice") if labelled
                     else extract_reference(text))
            if found is not None and found.source != "choice":
                labelled = _LABELLED_CHOICE_RE.match(found.text)  # "the answer is\n(C) Cecile"
                if labelled:
                    found = Extracted(labelled.group(1), "choice")
            if found is None or not found.text.strip():
                return f"no answer found in the reference {text[:80]!r}"
            out.append(found)
        return out

    # -- comparing --------------------------------------------------------------------------

    def _fast(self, gold: str, pred: str) -> tuple[bool, str] | None:
        """Settle the comparison without sympy, or ``None`` when it cannot."""
        if canonical_text(gold) == canonical_text(pred):
            return True, "exact"
        gold_choice = read_choice(gold, allow_lowercase=False)
        if gold_choice is not None and len(canonical_text(gold)) <= 12:
            pred_choice = read_choice(pred)
            if pred_choice is None and len(pred) <= 200:  # "I choose C", "(C) 12 apples"
                letters = choice_letters(pred)
                if len(letters) > 1:
                    return False, "choice_hedge"  # "B or C", "A, B, C, D"
                pred_choice = letters[-1] if letters else None
            if pred_choice is not None:
                return pred_choice == gold_choice, "choice"
        gold_number = read_number(gold)
        if gold_number is not None:
            pred_number = read_number(pred)
            if pred_number is not None:
                same = numbers_equal(gold_number, pred_number,
                                     float_rounding=self.float_rounding, rel_tol=self.rel_tol)
                return same, "numeric"
        return None

    def _symbolic(self, gold: str, pred: str, response: str | None) -> tuple[bool, str]:
        try:
            from rewardlab.verifiers import _math_symbolic as sym
        except ImportError as exc:  # e.g. a worker environment without the extra
            raise ImportError(_MISSING_MATH_VERIFY) from exc

        budget = max(1.0, self.timeout * 0.4)
        if _FAST_ONLY.get():
            raise _NeedsSymbolic
        gold_parsed = sym.parse_answer(gold, budget)
        if not gold_parsed or (sym.only_strings(gold_parsed) and _malformed(gold)):
            raise _BadReference(f"the reference answer {gold[:80]!r} cannot be parsed")
        options = {"float_rounding": self.float_rounding, "strict": self.strict,
                   "allow_set_relation_comp": self.allow_set_relation_comp,
                   "timeout_s": budget}
        pred_parsed = sym.parse_answer(pred, budget) if pred else ()
        if pred_parsed and sym.symbolic_equal(gold, gold_parsed, pred, pred_parsed, **options):
            return True, "symbolic"
        if response is not None and _too_costly(response, _RESPONSE_TAIL) is None:
            whole = sym.parse_response(response, budget)
            if whole and sym.symbolic_equal(gold, gold_parsed, response, whole,
                                            **options):
                return True, "symbolic_response"
            if not pred_parsed and not whole:
                raise _Unparseable("no answer math-verify can read in the response")
        elif not pred_parsed and response is not None:
            raise _Unparseable("no answer found, and the response is too costly to parse")
        elif not pred_parsed:
            raise _Unparseable(f"the answer {pred[:80]!r} cannot be parsed")
        return False, "symbolic"

    def _compare(self, gold: str, pred: str, response: str | None,
                 prose: bool = False) -> tuple[bool, str]:
        """Answer-set semantics over :meth:`_compare_one` (see ``_math_answers``)."""
        if read_choice(gold, allow_lowercase=False) is not None:
            # letters: the choice path decides
            return self._compare_one(gold, pred, response, prose)
        gold_parts, pred_parts = split_parts(gold), split_parts(pred)
        if len(gold_parts) == 1 and len(pred_parts) == 1:
            return self._compare_one(gold, pred, response, prose)
        if len(pred_parts) > MAX_PARTS:
            return False, "hedge_list"  # dozens of values are a list of guesses, not an answer
        if len(pred_parts) == 1:  # e.g. \pm 2021 against a set written another way
            return self._compare_one(gold, pred, response, prose)
        if len(gold_parts) == 1:
            # One number written with a decimal comma (1000,99) is not a list.
            if read_number(gold) is not None and re.fullmatch(r"-?\d+,\d+", pred.strip()):
                return self._compare_one(gold, pred, None, prose)
            if all(self._compare_one(gold, part, None, prose)[0] for part in pred_parts):
                return True, "repeated"
            return False, "hedge_list"
        gold_parts, pred_parts = _distinct(gold_parts), _distinct(pred_parts)
        if len(gold_parts) == len(pred_parts):
            unmatched = list(pred_parts)
            for g in gold_parts:
                hit = next((p for p in unmatched if self._compare_one(g, p, None, prose)[0]), None)
                if hit is None:
                    break
                unmatched.remove(hit)
            else:
                return True, "answer_set"
        if len(pred_parts) > len(gold_parts):
            return False, "hedge_list"  # more values than the reference has parts
        return self._compare_one(gold, pred, None, prose)

    def _guards(self, gold: str, pred: str, prose: bool) -> tuple[bool, str] | None:
        """Verdicts that no rewriting may overturn: variables, units, words in the answer,
        false equations."""
        if "=" in pred and "=" not in gold and _false_equation(pred):
            return False, "false_equation"  # "5 = 4": math-verify would read its last side
        gold_var, pred_var = assigned_variable(gold), assigned_variable(pred)
        if gold_var and pred_var and gold_var != pred_var:
            return False, "variable"
        gold_qty, pred_qty = read_quantity(gold), read_quantity(pred)
        if gold_qty is not None and pred_qty is not None:
            return quantities_equal(gold_qty, pred_qty), "units"
        if stray_words(pred, gold, scaling_only=prose):
            return False, "words"
        return None

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        """Settle in this process what the fast paths can (no sympy, size-capped, linear
        time); send the rest to engine workers, where the per-sample deadline holds."""
        if self.isolation == "inline" or not self.symbolic:
            return await super().score_batch(samples)
        outcomes: list[Outcome | None] = []
        token = _FAST_ONLY.set(True)
        try:
            for i, sample in enumerate(samples):
                outcomes.append(self._try_fast(sample))
                if i % 256 == 255:
                    _FAST_ONLY.reset(token)
                    await asyncio.sleep(0)  # let other tasks of the event loop run
                    token = _FAST_ONLY.set(True)
        finally:
            _FAST_ONLY.reset(token)
        pending = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if pending:
            done = await super().score_batch([samples[i] for i in pending])
            for i, outcome in zip(pending, done, strict=True):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    def _try_fast(self, sample: Sample) -> Outcome | None:
        """The outcome when it needs no sympy and the sample is small, else ``None``."""
        reference = sample.reference
        if not isinstance(sample.response, str) or len(sample.response) > _INLINE_MAX_CHARS:
            return None
        if not isinstance(reference, str | int | float) or isinstance(reference, bool) or (
                isinstance(reference, str) and len(reference) > _INLINE_MAX_CHARS):
            return None
        try:
            return self.compute(sample)
        except Exception:  # _NeedsSymbolic, or anything else: the worker decides
            return None

    def _compare_one(self, gold: str, pred: str, response: str | None,
                     prose: bool = False) -> tuple[bool, str]:
        guarded = self._guards(gold, pred, prose)
        if guarded is not None:
            if guarded[0] or response is None or not self.symbolic:
                return guarded
            # The extracted answer is wrong as written; math-verify may still find the
            # response's answer elsewhere (the response has no box: nothing explicit).
            return self._symbolic(gold, "", response)
        fast = self._fast(gold, pred)
        if fast is not None:
            return fast
        if not self.symbolic:
            return False, "exact"
        for text, side in ((gold, "reference"), (pred, "answer")):
            reason = _too_costly(text)
            if reason:
                if side == "reference":
                    raise _BadReference(f"the reference {reason}")
                raise _Unparseable(f"not evaluated: {reason}")
        return self._symbolic(gold, pred, response)

    # -- the reward -------------------------------------------------------------------------

    def compute(self, sample: Sample) -> Outcome:
        refs = self._references(sample.reference)
        if isinstance(refs, str):
            return Outcome.fail(Status.BAD_REFERENCE, refs)
        response, folded = normalize_unicode(_sanitize(sample.response))
        base = {"unicode": folded} if folded else {}
        if self.reasoning_tag:
            opening, closing = f"<{self.reasoning_tag}>", f"</{self.reasoning_tag}>"
            end = response.rfind(closing)
            if end >= 0:
                response = response[end + len(closing):]
                if opening in response:
                    return Outcome.ok(0.0, "reasoning reopened after the final answer",
                                      hedge="reopened_reasoning", **base)
            elif opening in response:  # never closed: everything after it is a draft
                before = response[:response.find(opening)]
                if before.strip():  # an answer, then reasoning opened again
                    return Outcome.ok(0.0, "reasoning reopened after the final answer",
                                      hedge="reopened_reasoning", **base)
                response = before
        whole = response.strip()
        if 0 < len(whole) <= 200:  # the response is the reference, verbatim ("odd $n$")
            for ref in refs:
                if ref.source == "bare" and canonical_text(whole) == canonical_text(
                        _sanitize(str(sample.reference if not isinstance(sample.reference, list)
                                      else ref.text))):
                    return Outcome.ok(1.0, "", reference_answer=ref.text[:500],
                                      method="exact_response", answer=whole[:500],
                                      extraction="whole", **base)
        numeric_ref = any(read_number(r.text) is not None for r in refs)
        found = extract_answer(response, number_fallback=self.number_fallback and numeric_ref)
        if found is None and any(read_choice(r.text, allow_lowercase=False) for r in refs):
            kept = _NEGATED_CHOICE_RE.sub(" ", response[-2000:])  # "C non A": A is ruled out
            letters = _CHOICE_FALLBACK_RE.findall(kept)
            leading = _LEADING_CHOICE_RE.match(response)
            alone = set(_LAST_LETTER_RE.findall(kept)) if len(response) <= 300 else set()
            if letters:  # "... so I choose C", "(C) is right"
                found = Extracted("".join(letters[-1]), "last_choice")
            elif leading:  # "D. it can't be A or B", "B. (not A)"
                found = Extracted(leading.group(1), "leading_choice")
            elif len(alone) == 1:  # "Because B is valid": the only letter offered
                found = Extracted(alone.pop(), "only_choice")
        hedge = self._hedge(response, found, refs)
        if hedge is not None:
            return Outcome.ok(0.0, hedge, hedge=True, answer=(found.text if found else "")[:500],
                              extraction=found.source if found else "none", **base)
        explicit = found is not None and found.source in ("boxed", "final_answer", "hashes",
                                                          "answer_is")
        # math-verify's own extraction over the response's end, for answers ours may miss
        # (checked for cost only when the symbolic path actually needs it).
        # (Not when the answer is the whole response: math-verify would read the same text.)
        use_response = (self.symbolic and self.response_fallback and not explicit
                        and (found is None or found.source != "whole")
                        and POISON not in response[-_RESPONSE_TAIL:]
                        and _hedge_phrase(response[-_HEDGE_WINDOW:], refs) is None)
        tail = response[-_RESPONSE_TAIL:]
        if found is None and not use_response:
            return Outcome.fail(Status.UNPARSEABLE, "no final answer found in the response")
        pred = found.text if found is not None else ""
        details = {"answer": pred[:500], "extraction": found.source if found else "math_verify",
                   **base}
        # An answer read from a sentence carries prose; only a box or a bare answer is all answer.
        prose = found is not None and found.source not in ("boxed", "whole")
        failures: list[Outcome] = []
        for ref in refs:
            try:
                same, method = self._compare(ref.text, pred, tail if use_response else None,
                                             prose=prose)
            except _BadReference as exc:
                return Outcome.fail(Status.BAD_REFERENCE, str(exc), **details)
            except _Unparseable as exc:
                failures.append(Outcome.fail(Status.UNPARSEABLE, str(exc), **details))
                continue
            except Exception as exc:
                if type(exc).__name__ != "SymbolicTimeout":
                    raise
                failures.append(Outcome.fail(Status.TIMEOUT, f"math-verify: {exc}", **details))
                continue
            if same:
                return Outcome.ok(1.0, "", reference_answer=ref.text[:500], method=method,
                                  **details)
            failures.append(Outcome.ok(0.0, "answer differs from the reference",
                                       reference_answer=ref.text[:500], method=method,
                                       **details))
        # A timeout might have been a match, so it outranks "wrong"; "wrong" outranks "unreadable".
        for status in (Status.TIMEOUT, Status.OK):
            for outcome in failures:
                if outcome.status == status:
                    return outcome
        return failures[0]


    def _hedge(self, response: str, found: Extracted | None, refs: list[Extracted]) -> str | None:
        """Why the response hedges instead of answering, or ``None`` (see ``_math_answers``)."""
        if found is None:
            return None  # nothing to credit here; the whole-response fallback checks its own
        if found.source == "boxed_wall":
            return "a wall of boxes is not one answer"
        if any(read_choice(r.text, allow_lowercase=False) for r in refs):
            near = response[-300:] if found.start < 0 else response[found.start:][:300]
            if offers_several_choices(near):
                return "the response offers several choices"
        taint = taint_in_answer(found.text)
        if taint:
            return taint
        if found.start < 0:
            return _hedge_phrase(response[-_HEDGE_WINDOW:], refs)
        # The sentence holding the final answer, and everything after it.
        start = found.start
        sentence = 0
        for m in _SENTENCE_START_RE.finditer(response, max(0, start - 300), start):
            sentence = m.end()
        if _in_quotes(response[sentence:start]):
            return "the final answer is inside a quotation (an echo, not an answer)"
        before = response[sentence:start]
        if found.source != "boxed" and _OR_BEFORE_RE.search(before):
            return "the final answer is offered as an alternative ('... or X')"
        if _NOT_BEFORE_RE.search(before):
            return "the final answer is negated ('not X')"
        after = response[found.end:found.end + 120] if found.end >= 0 else _after(
            response, start, found.text)
        if _QUESTION_AFTER_RE.match(after):
            return "the final answer is asked, not stated ('X?')"
        if _NEGATED_AFTER_RE.match(after):
            return "the final answer is declared wrong ('X is wrong')"
        if _OR_AFTER_RE.match(after):
            return "the final answer is followed by an alternative ('X (or Y)')"
        if found.source == "boxed" and (_CONTINUED_AFTER_RE.match(after)
                                        or _CONTINUED_BEFORE_RE.search(before)):
            return "the final answer continues outside its box ('-\\boxed{4}', '\\boxed{4}^2')"
        return _hedge_phrase(response[sentence:][-20_000:], refs)


def _hedge_phrase(region: str, refs: list[Extracted]) -> str | None:
    phrase = hedge_in_text(region)
    if phrase and not any(hedge_in_text(r.text) for r in refs):
        return f"the response hedges ({phrase!r})"
    return None


def _false_equation(answer: str) -> bool:
    """``5 = 4``, ``4 = 2 + 2 = 5``: sides written as plain numbers that differ."""
    sides = [s for s in re.split(r"(?<![<>!\\])=(?!=)", answer) if s.strip()]
    values = {n.value for n in (read_number(s, strip_assignment=False) for s in sides) if n}
    return len(values) > 1


def _after(response: str, start: int, answer: str) -> str:
    """The text right after an answer that was read starting at ``start``."""
    chunk = response[start:start + len(answer) + 400]
    at = chunk.find(answer)
    return chunk[at + len(answer):][:120] if at >= 0 else ""


def _in_quotes(before: str) -> bool:
    """True when an odd number of quotation marks open before the answer on its sentence."""
    marks = sum(before.count(q) for q in _QUOTE_CHARS)
    marks += len(re.findall(r"(?:^|[\s:(])'", before))
    return marks % 2 == 1


def _distinct(parts: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for part in parts:
        seen.setdefault(canonical_text(part), part)
    return list(seen.values())


class _NeedsSymbolic(RewardlabError, Exception):
    """The fast paths could not settle the sample (raised only in fast-only mode)."""


class _BadReference(RewardlabError, Exception):
    pass


class _Unparseable(RewardlabError, Exception):
    pass
