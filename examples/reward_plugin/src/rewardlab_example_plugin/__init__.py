"""An example reward package: importing it registers ``contains_reference``."""

from __future__ import annotations

from rewardlab import CpuReward, Outcome, Sample, Status, register


@register("contains_reference")
class ContainsReference(CpuReward):
    """1.0 when the reference string occurs in the response.

    Args:
        ignore_case: Compare case-insensitively.
        timeout: Per-sample deadline in seconds.
    """

    def __init__(self, ignore_case: bool = False, timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self.ignore_case = ignore_case

    def compute(self, sample: Sample) -> Outcome:
        if not isinstance(sample.reference, str):
            return Outcome.fail(Status.BAD_REFERENCE, "reference must be a string")
        fold = str.casefold if self.ignore_case else str
        return Outcome.ok(float(fold(sample.reference) in fold(sample.response)))
