"""``math_verify``: plain math-verify (``parse`` + ``verify``, its defaults), as a reward.

A baseline to compare ``math`` against (``rewardlab audit``, ``benchmarks/bench_math.py``): it
does what math-verify's README shows (a bare reference is wrapped in ``$...$`` so that it is
read whole, as its users do), with no extraction of our own and no guards, so its verdicts are
math-verify's. Its timeouts are math-verify's own (``SIGALRM``), which only work
on the main thread; in engine workers they do.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status

_MISSING = "the math_verify reward needs math-verify: pip install 'rewardlab[math]'"


@register("math_verify")
class PlainMathVerify(CpuReward):
    """1.0 when math-verify's ``verify(parse(reference), parse(response))`` is true.

    Args:
        float_rounding: math-verify's ``float_rounding``.
        strict: math-verify's ``strict``.
        timeout: Per-sample deadline in seconds, enforced by the engine.
        isolation: ``"process"`` (default) or ``"inline"``.
        cache: Let the engine reuse outcomes for identical samples.
    """

    imports = ("math_verify",)

    def __init__(
        self,
        float_rounding: int = 6,
        strict: bool = True,
        timeout: float = 10.0,
        isolation: Literal["process", "inline"] | None = None,
        cache: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation, cache=cache)
        if importlib.util.find_spec("math_verify") is None:
            raise ValueError(_MISSING)
        self.float_rounding = float_rounding
        self.strict = strict

    def compute(self, sample: Sample) -> Outcome:
        from math_verify import parse, verify

        reference = sample.reference
        if isinstance(reference, bool) or not isinstance(reference, str | int | float):
            return Outcome.fail(Status.BAD_REFERENCE, "the reference must be a string or number")
        gold_text = str(reference)
        if not any(mark in gold_text for mark in ("$", "\\(", "\\[", "\\boxed")):
            gold_text = f"${gold_text}$"  # a bare answer: read it whole, as users wrap it
        gold = parse(gold_text)
        if not gold:
            return Outcome.fail(Status.BAD_REFERENCE, "math-verify cannot parse the reference")
        pred = parse(sample.response)
        if not pred:
            return Outcome.fail(Status.UNPARSEABLE, "math-verify found no answer")
        same = verify(gold, pred, float_rounding=self.float_rounding, strict=self.strict)
        return Outcome.ok(1.0 if same else 0.0, "" if same else "answer differs",
                          answer=str(pred[-1])[:200])
