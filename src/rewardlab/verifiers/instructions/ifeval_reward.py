"""The ``ifeval`` reward: verifiable instruction-following constraints (IFEval and IFBench)."""

from __future__ import annotations

from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers.instructions.constraints import BadInstruction, BoundCheck, Unavailable
from rewardlab.verifiers.instructions.reference import bind_all, parse_instructions


def check_instructions(response: str, checks: list[BoundCheck],
                       undecidable: bool = True) -> list[dict[str, Any]]:
    """Strict and loose verdicts of every instruction on one response.

    Returns one ``{"id", "strict", "loose"}`` dict per instruction, in order.
    """
    verdicts = []
    for check in checks:
        strict = check.strict(response, undecidable)
        # The loose variants include the response itself, so strict implies loose.
        loose = strict or check.loose(response, undecidable)
        verdicts.append({"id": check.id, "strict": strict, "loose": loose})
    return verdicts


@register("ifeval")
class IFEvalReward(CpuReward):
    """Verifiable instruction following: the share (or all) of the instructions a response
    follows, for IFEval's 25 instruction types and IFBench's constraints.

    The instructions come from the sample's reference, in IFEval's record shape
    (``instruction_id_list`` + ``kwargs``) or the shapes RLVR data sets use (see
    :mod:`rewardlab.verifiers.instructions.reference`), or from ``instructions`` in the spec
    for samples without one. An unknown instruction id or invalid kwargs is ``bad_reference``.
    ``details.instructions`` holds every instruction's strict and loose verdict.

    Args:
        mode: ``strict`` (the response as given) or ``loose`` (IFEval's relaxed variants: first
            or last line dropped, ``*`` removed).
        aggregate: ``fraction`` (share of instructions followed) or ``all`` (1.0 only when every
            instruction is followed: IFEval's prompt-level accuracy).
        instructions: Instructions for samples whose reference is empty (any reference shape).
        undecidable: Verdict when a checker has nothing to decide on (no language detectable):
            ``pass`` as IFEval's official checker does, or ``fail`` (harder to game).
    """

    imports = ("rewardlab.verifiers.instructions._warm",)

    def __init__(
        self,
        mode: Literal["strict", "loose"] = "strict",
        aggregate: Literal["fraction", "all"] = "fraction",
        instructions: Any = None,
        undecidable: Literal["pass", "fail"] = "pass",
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
        cache: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation, cache=cache)
        if mode not in ("strict", "loose"):
            raise ValueError(f"mode must be 'strict' or 'loose', got {mode!r}")
        if aggregate not in ("fraction", "all"):
            raise ValueError(f"aggregate must be 'fraction' or 'all', got {aggregate!r}")
        if undecidable not in ("pass", "fail"):
            raise ValueError(f"undecidable must be 'pass' or 'fail', got {undecidable!r}")
        if instructions is not None:
            try:
                bind_all(parse_instructions(instructions))
            except BadInstruction as exc:  # (Unavailable included: fail at build, not per sample)
                raise ValueError(f"instructions: {exc}") from None
        self.mode, self.aggregate, self.undecidable = mode, aggregate, undecidable
        self.instructions = instructions

    def compute(self, sample: Sample) -> Outcome:
        reference = sample.reference if sample.reference not in (None, "", [], {}) \
            else self.instructions
        if reference is None:
            return Outcome.fail(Status.BAD_REFERENCE, "no instructions: the sample has no "
                                "reference and the spec sets no instructions")
        try:
            checks = bind_all(parse_instructions(reference))
        except Unavailable as exc:  # the reference is fine; this machine lacks the data
            return Outcome.fail(Status.ERROR, str(exc)[:500])
        except BadInstruction as exc:
            return Outcome.fail(Status.BAD_REFERENCE, str(exc)[:500])
        verdicts = check_instructions(sample.response, checks, self.undecidable == "pass")
        followed = sum(v[self.mode] for v in verdicts)
        total = len(verdicts)
        score = followed / total if self.aggregate == "fraction" else float(followed == total)
        missed = [v["id"] for v in verdicts if not v[self.mode]]
        reason = "" if not missed else f"not followed ({self.mode}): " + ", ".join(missed)
        return Outcome.ok(score, reason[:500], mode=self.mode, followed=followed, total=total,
                          prompt_strict=all(v["strict"] for v in verdicts),
                          prompt_loose=all(v["loose"] for v in verdicts),
                          instructions=verdicts)
