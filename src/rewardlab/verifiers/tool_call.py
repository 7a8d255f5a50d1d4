"""``tool_call``: tool-call correctness against gold calls, in two conventions.

``mode="toolrl"`` (default) is the ToolRL correctness reward (Qian et al., 2025, eq. for
R_correct): over an optimal matching of gold and predicted calls,

* **name**: overlap of the tool names called, counting calls (multiset Jaccard,
  ``sum(min) / sum(max)`` of the per-name counts, as ToolRL's released ``match_score`` does
  with ``Counter``), so every extra call costs, also a repeat of a gold tool. The paper's text
  writes name *sets*, blind to repeats: ``name_overlap="set"``;
* **params**: for each matched gold call, Jaccard overlap of parameter names;
* **values**: for each matched gold call, the number of gold parameters whose value matches;

summed and divided by ``S_max = 1 + #gold calls + #gold parameters``: ``scale="unit"`` reports
that fraction in ``[0, 1]``, ``scale="toolrl"`` the paper's ``6 * R / S_max - 3`` in ``[-3, 3]``.

``mode="bfcl"`` is BFCL's AST verdict (1.0 or 0.0, see :mod:`rewardlab.verifiers._bfcl`): the
reference holds the function descriptions and BFCL's possible answers (lists of acceptable
values per parameter, ``""`` marking an optional one).

Values compare strictly by default: JSON types must agree (``true`` is not ``1``, ``5`` is not
``"5"``, ``[1, 2]`` is not ``"[1, 2]"``); numbers compare by value (``5`` equals ``5.0``, and
``0.1 + 0.2`` does not equal ``0.3``). Lenient coercions are named options (``coerce``).

Calls are read from ``sample.metadata["tool_calls"]`` when present, else from the answer part
of the response, outside reasoning blocks (:func:`rewardlab.verifiers._reasoning.answer_part`).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers._bfcl import BfclReferenceError, check_calls
from rewardlab.verifiers._reasoning import REASONING_TAGS, answer_part
from rewardlab.verifiers._tool_parse import (
    MalformedCall,
    ToolCall,
    calls_from_json,
    parse_calls,
    to_call,
)

__all__ = ["COERCIONS", "MalformedCall", "ToolCall", "ToolCallReward", "answer_part",
           "parse_calls", "score_calls", "to_call", "values_equal"]

_MAX_PERMUTATIONS = 5040  # exact assignment up to 7 calls; greedy beyond
_MAX_MATCHED = 256
"""Predicted calls considered for matching (all of them count in the name overlap): the
reward runs inline, so a response with thousands of calls must stay cheap to score."""
COERCIONS = frozenset({"numeric_strings", "json_strings", "trim_strings"})
"""Lenient value comparisons, each off unless named in ``coerce``:

* ``numeric_strings``: a string holding a number equals that number (``"5"`` == ``5``);
* ``json_strings``: a string holding a JSON array or object equals that value;
* ``trim_strings``: strings compare without surrounding whitespace.
"""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _loosen(value: Any, coerce: frozenset[str]) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip() if "trim_strings" in coerce else value
    if "json_strings" in coerce and text.strip()[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "numeric_strings" in coerce:
        try:
            number = float(text)
        except ValueError:
            return text
        if math.isfinite(number):
            return number
    return text


def values_equal(gold: Any, predicted: Any, coerce: Iterable[str] = ()) -> bool:
    """Whether an argument value matches the gold value (strict JSON types unless coerced).

    Args:
        gold: The gold value (a JSON value).
        predicted: The predicted value.
        coerce: Names from :data:`COERCIONS` to allow.
    """
    options = frozenset(coerce)
    if options:
        gold, predicted = _loosen(gold, options), _loosen(predicted, options)
    if _number(gold) and _number(predicted):
        return gold == predicted
    if type(gold) is not type(predicted):
        return False
    if isinstance(gold, list):
        return len(gold) == len(predicted) and all(
            values_equal(g, p, options) for g, p in zip(gold, predicted, strict=True))
    if isinstance(gold, dict):
        return gold.keys() == predicted.keys() and all(
            values_equal(gold[k], predicted[k], options) for k in gold)
    return bool(gold == predicted)


def _pair_score(gold: ToolCall, pred: ToolCall, coerce: frozenset[str]) -> tuple[float, float]:
    """(params Jaccard, matching values) for a same-name pair, else zeros."""
    if gold.name != pred.name:
        return 0.0, 0.0
    g, p = set(gold.arguments), set(pred.arguments)
    params = len(g & p) / len(g | p) if g | p else 1.0
    values = sum(1 for k in g & p if values_equal(gold.arguments[k], pred.arguments[k], coerce))
    return params, float(values)


def _best_assignment(gold: list[ToolCall], pred: list[ToolCall],
                     coerce: frozenset[str]) -> list[tuple[int, int]]:
    """Pairs (gold index, predicted index) maximizing params + values over same-name pairs.

    Each predicted call serves at most one gold call, so a repeated call earns nothing twice.
    """
    if not gold or not pred:
        return []
    gain = [[sum(_pair_score(g, p, coerce)) + (1e-6 if g.name == p.name else -1.0)
             for p in pred] for g in gold]
    if math.perm(max(len(gold), len(pred)), min(len(gold), len(pred))) <= _MAX_PERMUTATIONS:
        best, best_pairs = -math.inf, []
        if len(gold) <= len(pred):
            for perm in itertools.permutations(range(len(pred)), len(gold)):
                total = sum(gain[i][j] for i, j in enumerate(perm))
                if total > best:
                    best, best_pairs = total, list(enumerate(perm))
        else:
            for perm in itertools.permutations(range(len(gold)), len(pred)):
                total = sum(gain[i][j] for j, i in enumerate(perm))
                if total > best:
                    best, best_pairs = total, [(i, j) for j, i in enumerate(perm)]
        return [(i, j) for i, j in best_pairs if gold[i].name == pred[j].name]
    pairs, used_g, used_p = [], set(), set()  # large call lists: greedy by gain
    for _gain, i, j in sorted(((gain[i][j], i, j) for i in range(len(gold))
                               for j in range(len(pred))), reverse=True):
        if i in used_g or j in used_p or gold[i].name != pred[j].name:
            continue
        pairs.append((i, j))
        used_g.add(i)
        used_p.add(j)
    return pairs


def _name_overlap(gold: list[ToolCall], pred: list[ToolCall], kind: str) -> float:
    if kind == "set":
        g, p = {c.name for c in gold}, {c.name for c in pred}
        return len(g & p) / len(g | p) if g | p else 1.0
    gc, pc = Counter(c.name for c in gold), Counter(c.name for c in pred)
    union = sum((gc | pc).values())
    return sum((gc & pc).values()) / union if union else 1.0


def score_calls(gold: list[ToolCall], pred: list[ToolCall], coerce: Iterable[str] = (),
                name_overlap: Literal["multiset", "set"] = "multiset") -> dict[str, Any]:
    """The ToolRL components, ``R / S_max`` as ``score`` (in ``[0, 1]``) and ``exact``.

    Args:
        gold: The gold calls.
        pred: The predicted calls.
        coerce: Lenient value comparisons (:data:`COERCIONS`); strict when empty.
        name_overlap: ``multiset`` (calls counted) or ``set`` (the paper's set Jaccard).
    """
    options = frozenset(coerce)
    name = _name_overlap(gold, pred, name_overlap)
    pairs = _best_assignment(gold, pred[:_MAX_MATCHED], options)
    params = values = 0.0
    matched = []
    for i, j in pairs:
        p, v = _pair_score(gold[i], pred[j], options)
        params += p
        values += v
        matched.append({"gold": i, "predicted": j, "name": gold[i].name, "params": p,
                        "values": v, "values_max": len(gold[i].arguments)})
    max_params = float(len(gold))
    max_values = float(sum(len(c.arguments) for c in gold))
    if not gold:
        total = 1.0 if not pred else 0.0
    else:
        total = (name + params + values) / (1.0 + max_params + max_values)
    return {"score": total, "name": name, "params": params, "params_max": max_params,
            "values": values, "values_max": max_values, "matched": matched,
            "exact": bool(len(gold) == len(pred) == len(pairs) and all(
                m["params"] == 1.0 and m["values"] == m["values_max"] for m in matched))}


def _bfcl_reference(reference: Any) -> tuple[list[Any], list[Any]]:
    """(function descriptions, possible answers) of a BFCL-mode reference."""
    if isinstance(reference, str):
        reference = json.loads(reference)
    if not isinstance(reference, Mapping):
        raise ValueError("bfcl mode needs {'function': [...], 'ground_truth': [...]}")
    functions = reference.get("function", reference.get("functions"))
    truth = reference.get("ground_truth")
    if isinstance(functions, Mapping):
        functions = [functions]
    if not isinstance(functions, list) or not isinstance(truth, list):
        raise ValueError("bfcl mode needs 'function' (a list of descriptions) and "
                         "'ground_truth' (BFCL's possible answers)")
    return functions, truth


@register("tool_call")
class ToolCallReward(CpuReward):
    """Tool-call correctness: the ToolRL reward (default) or BFCL's AST verdict.

    The reference, ``mode="toolrl"``: the gold calls, a list (OpenAI or Hermes form),
    ``{"tool_calls": [...]}``, or a JSON string of either; an empty list means "no call should
    be made". ``mode="bfcl"``: ``{"function": [descriptions], "ground_truth": [possible
    answers]}`` as in BFCL's data and ``possible_answer`` files.

    Args:
        mode: ``toolrl`` (partial credit) or ``bfcl`` (1.0 only when BFCL's checker would
            pass: right count, names, types and one of the possible values per parameter).
        exact: ``toolrl`` only: score 1.0 for a perfect match (same number of calls), else 0.0.
        scale: ``toolrl`` only: ``unit`` (``R / S_max`` in ``[0, 1]``) or ``toolrl`` (the
            paper's ``6 R / S_max - 3`` in ``[-3, 3]``).
        name_overlap: ``toolrl`` only: ``multiset`` (ToolRL's code: every extra call costs,
            also a repeat of a gold tool) or ``set`` (the paper's text; repeats are free).
        coerce: ``toolrl`` only: lenient value comparisons from :data:`COERCIONS`
            (``numeric_strings``, ``json_strings``, ``trim_strings``); none by default.
        underscore_to_dot: ``bfcl`` only: expect ``.`` in function names written as ``_``
            (BFCL's per-model flag for APIs that forbid dots in tool names).
        reasoning_tags: Reasoning block tags whose content is not part of the answer; ``[]``
            reads calls anywhere in the text.
        malformed: What a response with unreadable calls gets: ``"zero"`` (an ok 0.0 when
            nothing could be read, so the policy learns the format) or ``"unparseable"``.
        timeout: Per-sample deadline (process isolation only).
        isolation: ``inline`` (default: linear-time work) or ``process``.
    """

    default_isolation = "inline"

    def __init__(
        self,
        mode: Literal["toolrl", "bfcl"] = "toolrl",
        exact: bool = False,
        scale: Literal["unit", "toolrl"] = "unit",
        name_overlap: Literal["multiset", "set"] = "multiset",
        coerce: Sequence[str] = (),
        underscore_to_dot: bool = False,
        reasoning_tags: Sequence[str] = REASONING_TAGS,
        malformed: Literal["zero", "unparseable"] = "zero",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        if mode not in ("toolrl", "bfcl"):
            raise ValueError("mode must be 'toolrl' or 'bfcl'")
        if scale not in ("unit", "toolrl"):
            raise ValueError("scale must be 'unit' or 'toolrl'")
        if name_overlap not in ("multiset", "set"):
            raise ValueError("name_overlap must be 'multiset' or 'set'")
        if malformed not in ("zero", "unparseable"):
            raise ValueError("malformed must be 'zero' or 'unparseable'")
        if isinstance(coerce, str):
            coerce = [coerce]
        unknown = set(coerce) - COERCIONS
        if unknown:
            raise ValueError(f"unknown coercion(s) {sorted(unknown)}; use {sorted(COERCIONS)}")
        if mode == "bfcl" and (coerce or exact or scale != "unit" or name_overlap != "multiset"):
            raise ValueError("bfcl mode follows BFCL's own rules: coerce, exact, scale and "
                             "name_overlap apply to toolrl mode only")
        if mode == "toolrl" and underscore_to_dot:
            raise ValueError("underscore_to_dot applies to bfcl mode only")
        if isinstance(reasoning_tags, str) or not all(
                isinstance(t, str) and t.strip() for t in reasoning_tags):
            raise ValueError("reasoning_tags must be a list of tag names")
        self.mode = mode
        self.exact = exact
        self.scale = scale
        self.name_overlap = name_overlap
        self.underscore_to_dot = bool(underscore_to_dot)
        self.coerce = tuple(sorted(set(coerce)))  # sorted: a stable engine cache key
        self.reasoning_tags = tuple(reasoning_tags)
        self.malformed = malformed

    def _read(self, sample: Sample) -> tuple[list[ToolCall], list[str]]:
        return parse_calls(sample.response, sample.metadata.get("tool_calls"),
                           self.reasoning_tags)

    def compute(self, sample: Sample) -> Outcome:
        if self.mode == "bfcl":
            return self._compute_bfcl(sample)
        reference = sample.reference
        try:
            if isinstance(reference, str):
                reference = json.loads(reference)
            gold = [to_call(c) for c in calls_from_json(reference)] if reference is not None \
                else None
        except (ValueError, MalformedCall) as exc:
            return Outcome.fail(Status.BAD_REFERENCE, f"gold tool calls unreadable: {exc}"[:300])
        if gold is None:
            return Outcome.fail(Status.BAD_REFERENCE, "tool_call needs the gold calls as reference")
        pred, errors = self._read(sample)
        if errors and not pred and self.malformed == "unparseable":
            return Outcome.fail(Status.UNPARSEABLE, errors[0][:300], errors=errors[:10])
        parts = score_calls(gold, pred, self.coerce, self.name_overlap)
        if errors:  # unreadable calls count as wrong extra calls
            parts["score"] *= len(pred) / (len(pred) + len(errors)) if pred else 0.0
            parts["exact"] = False
        fraction = float(parts["exact"]) if self.exact else parts["score"]
        score = 6.0 * fraction - 3.0 if self.scale == "toolrl" else fraction
        parts.pop("score")
        details = {**parts, "predicted_calls": [{"name": c.name, "arguments": c.arguments}
                                                for c in pred][:20],
                   "gold_calls": len(gold), "malformed": len(errors)}
        if errors:
            details["errors"] = errors[:10]
        reason = "" if parts["exact"] else (
            f"malformed tool call: {errors[0]}"[:300] if errors else "calls differ from gold")
        return Outcome.ok(score, reason, **details)

    def _compute_bfcl(self, sample: Sample) -> Outcome:
        try:
            functions, truth = _bfcl_reference(sample.reference)
        except ValueError as exc:
            return Outcome.fail(Status.BAD_REFERENCE, str(exc)[:300])
        pred, errors = self._read(sample)
        if errors and not pred and self.malformed == "unparseable":
            return Outcome.fail(Status.UNPARSEABLE, errors[0][:300], errors=errors[:10])
        details: dict[str, Any] = {
            "predicted_calls": [{"name": c.name, "arguments": c.arguments} for c in pred][:20],
            "gold_calls": len(truth), "malformed": len(errors)}
        if errors:  # BFCL scores a response it cannot decode as wrong
            details["errors"] = errors[:10]
            return Outcome.ok(0.0, f"malformed tool call: {errors[0]}"[:300], **details)
        try:
            error = check_calls(functions, truth, [(c.name, c.arguments) for c in pred],
                                self.underscore_to_dot)
        except BfclReferenceError as exc:
            return Outcome.fail(Status.BAD_REFERENCE, str(exc)[:300])
        if error is None:
            return Outcome.ok(1.0, "", **details)
        return Outcome.ok(0.0, error[:300], **details)
