"""The ``checklist`` reward (RLCF, Viswanathan et al., 2025): a weighted checklist per prompt,
each item a programmatic constraint or a question for an LLM judge.

Item kinds (each item may carry ``weight``, default 1):

* ``instruction``: an IFEval/IFBench constraint, ``{"kind": "instruction", "id":
  "punctuation:no_comma", "kwargs": {...}, "loose": false}``.
* ``regex``: ``{"kind": "regex", "pattern": "...", "mode": "search", "flags": [...]}`` (the
  ``regex`` reward's rule).
* ``json``: ``{"kind": "json", "schema": {...}}`` (the ``json`` reward's rule: valid JSON,
  optionally valid against a JSON Schema).
* ``length``: ``{"kind": "length", "min_words": ..., "max_words": ..., "min_chars": ...,
  "max_chars": ...}`` (words as IFEval counts them).
* ``judge``: ``{"kind": "judge", "question": "Does the response ...?"}``; a bare string is a
  judge question too (RLCF's checklists are lists of such questions). It is asked with the
  ``judge_checklist`` judge's per-item prompt and YES/NO grammar.

Programmatic items run in an engine worker under ``timeout``; judge questions go to the judge
backend. An item that cannot be judged (no judge configured, an unparseable or failed judge
reply, no language detectable, the deadline) gets the verdict ``null`` with a reason; it is
never counted as satisfied. ``on_unjudged`` decides the score then: ``no_score`` (default: the
outcome is a typed failure carrying every verdict), ``count_as_failed``, or ``renormalize``
(the score is over the judged items' weights).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward, Reward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers.instructions import _text
from rewardlab.verifiers.instructions.constraints import (
    BadInstruction,
    Unavailable,
    Undecidable,
    bind,
    loose_variants,
)

KINDS = ("instruction", "regex", "json", "length", "judge")
_LENGTH_KEYS = ("min_words", "max_words", "min_chars", "max_chars")


def _weight(entry: Mapping[str, Any], where: str) -> float:
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
        raise BadInstruction(f"{where}: weight must be a number >= 0, got {weight!r}")
    return float(weight)


def normalize_item(entry: Any, where: str = "item") -> dict[str, Any]:
    """One checklist item in its canonical form (kind, weight, label and the kind's fields),
    validated: a bad item is a :class:`BadInstruction` that says which field is wrong."""
    if isinstance(entry, str):
        entry = {"kind": "judge", "question": entry}
    if not isinstance(entry, Mapping):
        raise BadInstruction(f"{where}: an item is an object or a question string")
    kind = entry.get("kind", "instruction" if "id" in entry else "judge")
    if kind not in KINDS:
        raise BadInstruction(f"{where}: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    item: dict[str, Any] = {"kind": kind, "weight": _weight(entry, where)}
    if kind == "instruction":
        iid = str(entry.get("id", ""))
        try:
            check = bind(iid, entry.get("kwargs"))
        except Unavailable as exc:  # a fine item this machine cannot check: reported, unjudged
            item.update(id=iid, kwargs=dict(entry.get("kwargs") or {}), unavailable=str(exc),
                        loose=bool(entry.get("loose", False)), label=entry.get("label") or iid)
            return item
        item.update(id=check.id, kwargs=check.kwargs, loose=bool(entry.get("loose", False)),
                    label=entry.get("label") or check.id)
    elif kind == "regex":
        from rewardlab.verifiers.formats import RegexMatch

        try:
            RegexMatch(pattern=entry.get("pattern"), mode=entry.get("mode", "search"),
                       flags=entry.get("flags"))
        except (ValueError, TypeError) as exc:
            raise BadInstruction(f"{where}: {exc}") from None
        item.update(pattern=entry["pattern"], mode=entry.get("mode", "search"),
                    flags=list(entry.get("flags") or []),
                    label=entry.get("label") or f"matches /{entry['pattern']}/")
    elif kind == "json":
        from rewardlab.verifiers.formats import JsonValid

        try:
            JsonValid(json_schema=entry.get("schema"))
        except (ValueError, TypeError) as exc:
            raise BadInstruction(f"{where}: {exc}") from None
        item.update(schema=entry.get("schema"),
                    label=entry.get("label") or "valid JSON" + (
                        " for the schema" if entry.get("schema") else ""))
    elif kind == "length":
        bounds = {k: entry[k] for k in _LENGTH_KEYS if entry.get(k) is not None}
        if not bounds or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                 for v in bounds.values()):
            raise BadInstruction(f"{where}: a length item needs integer bounds >= 0 among "
                                 f"{', '.join(_LENGTH_KEYS)}")
        item.update(bounds, label=entry.get("label") or ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in bounds.items()))
    else:
        question = entry.get("question", entry.get("item"))
        if not isinstance(question, str) or not question.strip():
            raise BadInstruction(f"{where}: a judge item needs a non-empty question")
        item.update(question=question.strip(), label=entry.get("label") or question.strip())
    return item


def normalize_checklist(raw: Any) -> list[dict[str, Any]]:
    """A checklist (a list of items, or ``{"checklist": [...]}``) in canonical form."""
    if isinstance(raw, Mapping) and "checklist" in raw:
        raw = raw["checklist"]
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        raise BadInstruction("a checklist is a non-empty list of items")
    items = [normalize_item(entry, f"item {i}") for i, entry in enumerate(raw)]
    if sum(i["weight"] for i in items) <= 0:
        raise BadInstruction("every checklist weight is 0")
    return items


def _programmatic_verdict(item: Mapping[str, Any], text: str) -> tuple[bool | None, str]:
    kind = item["kind"]
    if kind == "instruction":
        if item.get("unavailable"):
            return None, item["unavailable"]
        check = bind(item["id"], item["kwargs"])
        texts = loose_variants(text) if item["loose"] else [text]
        undecided = ""
        for variant in texts:
            if not variant.strip():
                continue
            try:
                if check.constraint.check(variant, **check.kwargs):
                    return True, ""
            except Undecidable as exc:
                undecided = str(exc)
        return (None, undecided) if undecided else (False, "")
    if kind == "regex":
        from rewardlab.verifiers.formats import RegexMatch

        out = RegexMatch(pattern=item["pattern"], mode=item["mode"], flags=item["flags"],
                         isolation="inline").compute_safe(Sample(response=text))
    elif kind == "json":
        from rewardlab.verifiers.formats import JsonValid

        out = JsonValid(json_schema=item["schema"], isolation="inline").compute_safe(
            Sample(response=text))
    else:  # length
        words, chars = _text.count_words(text), len(text)
        ok = (words >= item.get("min_words", 0) and chars >= item.get("min_chars", 0)
              and words <= item.get("max_words", words) and chars <= item.get("max_chars", chars))
        return ok, f"{words} words, {chars} characters"
    if not out.is_ok:
        return None, out.reason
    return out.score == 1.0, out.reason


class _ProgrammaticItems(CpuReward):
    """Verdicts of a sample's programmatic items, computed in one engine worker call (the
    sample's reference is the list of canonical items)."""

    imports = ("rewardlab.verifiers.instructions._warm",)

    def compute(self, sample: Sample) -> Outcome:
        verdicts = []
        for item in sample.reference:
            ok, note = _programmatic_verdict(item, sample.response)
            # Missing data on this machine is an error; a text with nothing to decide on is not.
            status = Status.ERROR if item.get("unavailable") else Status.UNPARSEABLE
            verdicts.append({"satisfied": ok, "note": note[:300], "status": status.value})
        return Outcome.ok(0.0, "", verdicts=verdicts)


@register("checklist")
class ChecklistReward(Reward):
    """Weighted checklist of programmatic constraints and judge questions (RLCF); per-item
    verdicts in ``details.items``, un-judgeable items reported and never counted as passed.

    The checklist comes from the sample (``metadata["checklist"]``, else a reference that is a
    list or has a ``checklist`` key), else from ``items``. See the module docstring for the
    item kinds.

    Args:
        items: The default checklist.
        judge: The LLM backend for judge questions (a backend spec); without one, judge
            questions are un-judgeable.
        on_unjudged: ``no_score``, ``count_as_failed`` or ``renormalize``.
        timeout: Deadline of the programmatic items of one sample, in seconds.
        isolation: Where the programmatic items run: ``"process"`` (engine workers, with the
            deadline) or ``"inline"``; default: the items' own default.
        judge_max_tokens: Reply budget per judge question.
    """

    def __init__(
        self,
        items: list[Any] | None = None,
        judge: Any = None,
        on_unjudged: Literal["no_score", "count_as_failed", "renormalize"] = "no_score",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
        judge_max_tokens: int = 256,
    ) -> None:
        if on_unjudged not in ("no_score", "count_as_failed", "renormalize"):
            raise ValueError("on_unjudged must be no_score, count_as_failed or renormalize")
        try:
            self.items = normalize_checklist(items) if items is not None else None
        except BadInstruction as exc:
            raise ValueError(f"items: {exc}") from None
        self.judge = None
        if judge is not None:
            from rewardlab.judges.base import JudgeOptions
            from rewardlab.judges.checks import ChecklistJudge

            self.judge = ChecklistJudge(judge, generate_items=False,
                                        options=JudgeOptions(max_tokens=judge_max_tokens))
        self.on_unjudged = on_unjudged
        self._programmatic = _ProgrammaticItems(timeout=timeout, isolation=isolation)

    def _checklist(self, sample: Sample) -> list[dict[str, Any]]:
        raw = sample.metadata.get("checklist") if sample.metadata else None
        ref = sample.reference
        if raw is None and (isinstance(ref, list) or (isinstance(ref, Mapping)
                                                       and "checklist" in ref)):
            raw = ref
        if raw is None:
            if self.items is None:
                raise BadInstruction("no checklist: the sample has none and the spec sets no "
                                     "items")
            return self.items
        return normalize_checklist(raw)

    async def _ask(self, sample: Sample, question: str) -> tuple[bool | None, str, Status]:
        if self.judge is None:
            return None, "no judge backend configured for judge questions", Status.ERROR
        from rewardlab.judges.base import prompt_text
        from rewardlab.judges.checks import ITEM_TEMPLATE
        from rewardlab.judges.grammar import Unparseable

        try:
            verdict = await self.judge.ask(ITEM_TEMPLATE.format(
                instruction=prompt_text(sample), response=sample.response, item=question))
        except Unparseable as exc:
            return None, f"judge reply unparseable: {exc}", Status.UNPARSEABLE
        except Exception as exc:  # a failed judge call leaves this item un-judged, no more
            return None, f"judge failed: {type(exc).__name__}: {exc}"[:300], Status.ERROR
        return bool(verdict.value), verdict.feedback[:300], Status.OK

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        checklists: list[list[dict[str, Any]] | Outcome] = []
        for s in samples:
            try:
                checklists.append(self._checklist(s))
            except BadInstruction as exc:
                checklists.append(Outcome.fail(Status.BAD_REFERENCE, str(exc)[:500]))
        # Programmatic items: one worker task per sample, under the deadline.
        runnable = [(k, s, c) for k, (s, c) in enumerate(zip(samples, checklists, strict=True))
                    if not isinstance(c, Outcome)]
        programmatic = [[i for i in c if i["kind"] != "judge"] for _, _, c in runnable]
        cpu = await self._programmatic.ascore(
            [Sample(response=s.response, reference=p) for (_, s, _), p in
             zip(runnable, programmatic, strict=True)]) if runnable else []
        judged = await asyncio.gather(*(
            asyncio.gather(*(self._ask(s, i["question"]) for i in c if i["kind"] == "judge"))
            for _, s, c in runnable))
        out: list[Outcome] = [c if isinstance(c, Outcome) else Outcome.fail(Status.ERROR, "")
                              for c in checklists]
        for (k, _, checklist), cpu_out, answers in zip(runnable, cpu, judged, strict=True):
            out[k] = self._combine(checklist, cpu_out, list(answers))
        return out

    def _combine(self, checklist: list[dict[str, Any]], cpu: Outcome,
                 answers: list[tuple[bool | None, str, Status]]) -> Outcome:
        cpu_verdicts = list(cpu.details.get("verdicts", [])) if cpu.is_ok else []
        rows, failure_status = [], None
        judge_answers = iter(answers)
        for item in checklist:
            if item["kind"] == "judge":
                ok, note, status = next(judge_answers)
                if ok is None:
                    failure_status = failure_status or status
            elif cpu.is_ok:
                found = cpu_verdicts.pop(0)
                ok, note = found["satisfied"], found["note"]
                if ok is None:
                    failure_status = failure_status or Status(found["status"])
            else:  # the deadline or a crash of the programmatic checks
                ok, note = None, f"{cpu.status.value}: {cpu.reason}"[:300]
                failure_status = failure_status or cpu.status
            rows.append({"label": item["label"], "kind": item["kind"], "weight": item["weight"],
                         "satisfied": ok, "note": note})
        total = sum(r["weight"] for r in rows)
        passed = sum(r["weight"] for r in rows if r["satisfied"] is True)
        judged = sum(r["weight"] for r in rows if r["satisfied"] is not None)
        unjudged = [r["label"] for r in rows if r["satisfied"] is None]
        details = {"items": rows, "unjudged": len(unjudged)}
        summary = (f"{sum(1 for r in rows if r['satisfied'])} of {len(rows)} items satisfied"
                   + (f"; {len(unjudged)} not judged: " + ", ".join(unjudged) if unjudged else ""))
        if unjudged and self.on_unjudged == "no_score":
            return Outcome.fail(failure_status or Status.ERROR, summary[:500], **details)
        if self.on_unjudged == "renormalize" and unjudged:
            if judged <= 0:
                return Outcome.fail(failure_status or Status.ERROR, summary[:500], **details)
            return Outcome.ok(passed / judged, summary[:500], **details)
        return Outcome.ok(passed / total, summary[:500], **details)

    def close(self) -> None:
        if self.judge is not None:
            self.judge.close()
