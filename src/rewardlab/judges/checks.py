"""Judges that check specific things: a weighted checklist (RLCF-style) and reference-based
answer verification (CompassVerifier-style: correct / incorrect / invalid)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from rewardlab.backends.llm import BackendRef
from rewardlab.judges.base import Judge, JudgeOptions, label_options, prompt_text
from rewardlab.judges.grammar import ChoiceGrammar, Unparseable
from rewardlab.registry import register
from rewardlab.types import Outcome, Sample, Status

ITEM_TEMPLATE = """Check one requirement of a response to an instruction.

### Instruction
{instruction}

### Response
{response}

### Requirement
{item}

Does the response fully satisfy this requirement? Explain briefly, then answer."""

GENERATE_TEMPLATE = """Write a checklist for judging responses to this instruction: {n} short,
specific yes/no requirements that a good response must meet, one per line, each line starting
with "- ". Write only the list.

### Instruction
{instruction}"""

VERIFY_TEMPLATE = """Check whether a candidate's final answer matches the reference answer.

### Question
{question}

### Reference answer
{reference}

### Candidate response
{response}

Judge only the candidate's final answer against the reference (equivalent forms count as equal).
Answer "A" if it is correct, "B" if it is incorrect, or "C" if the response is invalid: cut off,
repetitive, a refusal, or giving no single final answer."""

_YES_NO = ChoiceGrammar({"YES": True, "NO": False}, describe='"YES" or "NO"')
_VERIFY = ChoiceGrammar({"A": "correct", "B": "incorrect", "C": "invalid"},
                        describe='"A" (correct), "B" (incorrect) or "C" (invalid)')
_ITEM_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.+?)\s*$")


def parse_checklist(text: str, limit: int = 20) -> list[str]:
    """Checklist items from a generated list (``- item`` or ``1. item`` lines)."""
    items = [m.group(1) for line in text.splitlines() if (m := _ITEM_LINE.match(line))]
    return list(dict.fromkeys(items))[:limit]


def _weighted_items(raw: Any) -> list[tuple[str, float]]:
    """Items from a list of strings, ``{"item", "weight"}`` mappings, or ``{item: weight}``."""
    if isinstance(raw, Mapping):
        raw = [{"item": k, "weight": v} for k, v in raw.items()]
    if isinstance(raw, str) or not isinstance(raw, list):
        raise ValueError("a checklist is a list of items or {item: weight}")
    items = []
    for entry in raw:
        if isinstance(entry, str):
            items.append((entry, 1.0))
        elif isinstance(entry, Mapping) and "item" in entry:
            weight = float(entry.get("weight", 1.0))
            if weight < 0:
                raise ValueError(f"checklist weight must be >= 0, got {weight}")
            items.append((str(entry["item"]), weight))
        else:
            raise ValueError(f"bad checklist entry {entry!r}")
    if not items or sum(w for _, w in items) <= 0:
        raise ValueError("the checklist is empty or all its weights are 0")
    return items


# A yes/no verdict needs a short reply.
SHORT_REPLY_OPTIONS = JudgeOptions(max_tokens=256)

@register("judge_checklist")
class ChecklistJudge(Judge):
    """Checklist judge: each item is judged on its own (YES/NO); the score is the weighted share
    of satisfied items.

    Items come from ``sample.metadata["checklist"]``, else ``sample.reference`` when it is a
    list, else the ``checklist`` field, else they are generated from the instruction by the
    judge (``generate_items`` on; cached per instruction). If any item stays unparseable the
    outcome is ``unparseable`` (a partial checklist is not a score).

    Args:
        backend: The judge model (backend spec or object).
        checklist: Default items: strings, ``{"item", "weight"}`` mappings, or ``{item: weight}``.
        generate_items: Ask the judge for items when none are given.
        max_generated_items: How many items to generate.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`); verdicts
            are labels, so several samples are combined by ``vote`` only.
    """

    def __init__(
        self,
        backend: BackendRef,
        checklist: list[Any] | dict[str, float] | None = None,
        generate_items: bool = True,
        max_generated_items: int = 6,
        options: JudgeOptions = SHORT_REPLY_OPTIONS,
    ) -> None:
        super().__init__(backend, label_options(options))
        self.grammar = _YES_NO
        self.checklist = _weighted_items(checklist) if checklist is not None else None
        self.generate_items = generate_items
        self.max_generated_items = max_generated_items
        self._generated: dict[str, asyncio.Task[list[tuple[str, float]]]] = {}

    async def items_for(self, sample: Sample) -> list[tuple[str, float]]:
        """The weighted items a sample is checked against.

        Raises:
            ValueError: none given and generation is off or produced no items.
        """
        raw = sample.metadata.get("checklist")
        if raw is None and isinstance(sample.reference, list | dict):
            raw = sample.reference
        if raw is not None:
            return _weighted_items(raw)
        if self.checklist is not None:
            return self.checklist
        if not self.generate_items:
            raise ValueError("no checklist: give one or enable generate_items")
        instruction = prompt_text(sample)
        # One generation per instruction, shared by every response in the batch.
        task = self._generated.get(instruction)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(self._generate(instruction))
            self._generated[instruction] = task
        return await task

    async def _generate(self, instruction: str) -> list[tuple[str, float]]:
        messages = self.messages(GENERATE_TEMPLATE.format(n=self.max_generated_items,
                                                          instruction=instruction))
        for attempt in range(self.max_parse_retries + 1):
            reply = await self.backend.chat(messages, max_tokens=self.max_tokens,
                                            temperature=self.temperature,
                                            sample_index=attempt)
            items = parse_checklist(reply.text, self.max_generated_items)
            if items:
                return [(item, 1.0) for item in items]
        raise Unparseable("the judge generated no checklist items")

    async def judge(self, sample: Sample) -> Outcome:
        try:
            items = await self.items_for(sample)
        except ValueError as exc:
            if isinstance(exc, Unparseable):
                raise
            return Outcome.fail(Status.BAD_REFERENCE, str(exc))
        instruction = prompt_text(sample)
        results = await asyncio.gather(*(
            self.ask(ITEM_TEMPLATE.format(instruction=instruction, response=sample.response,
                                          item=item))
            for item, _ in items
        ), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Unparseable):
                raise r
        checks = [
            {"item": item, "weight": weight,
             "satisfied": None if isinstance(r, BaseException) else r.value}
            for (item, weight), r in zip(items, results, strict=True)
        ]
        failed = [c["item"] for c in checks if c["satisfied"] is None]
        if failed:
            exc = Unparseable(f"{len(failed)} of {len(items)} checklist items got no verdict")
            exc.details = {"checks": checks}  # type: ignore[attr-defined]
            raise exc
        total = sum(c["weight"] for c in checks)
        score = sum(c["weight"] for c in checks if c["satisfied"]) / total
        passed = sum(1 for c in checks if c["satisfied"])
        return Outcome.ok(score, f"{passed} of {len(checks)} checklist items satisfied",
                          checks=checks)


@register("judge_verify")
class VerificationJudge(Judge):
    """Reference-based answer verification: correct (1), incorrect (0) or invalid (0, labelled).

    The reference answer is ``sample.reference``. Content-free responses are screened out as
    incorrect before the judge is called (the "master key" attack on exactly this judge).

    Args:
        backend: The judge model (backend spec or object).
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`); verdicts
            are labels, so several samples are combined by ``vote`` only.
    """

    def __init__(
        self,
        backend: BackendRef,
        options: JudgeOptions = SHORT_REPLY_OPTIONS,
    ) -> None:
        super().__init__(backend, label_options(options))
        self.grammar = _VERIFY

    async def judge(self, sample: Sample) -> Outcome:
        if sample.reference is None or not str(sample.reference).strip():
            return Outcome.fail(Status.BAD_REFERENCE, "verification needs a reference answer")
        verdict = await self.ask(VERIFY_TEMPLATE.format(
            question=prompt_text(sample), reference=sample.reference, response=sample.response))
        if verdict.value is None:
            raise Unparseable(f"no majority among {self.samples} verdicts: {verdict.values}")
        score = 1.0 if verdict.value == "correct" else 0.0
        return Outcome.ok(score, f"judged {verdict.value}", label=verdict.value,
                          **verdict.details())
