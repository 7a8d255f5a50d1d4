"""``hero``: a reward model's scores normalized inside bands set by a verifier (HERO).

HERO (Hybrid Reinforcement, catalog E2) keeps the verifier in charge of correctness and lets a
dense reward model only *rank within* each verifier outcome: inside every group (``Sample.group``;
samples without a group form one group), the RM scores of the verified-correct responses are
min-max normalized into ``correct_band`` and those of the incorrect ones into
``incorrect_band``. The bands are disjoint, so the RM can never flip correctness.
"""

from __future__ import annotations

from collections import defaultdict

from rewardlab.compose.children import (
    OnFailure,
    combined_reason,
    component_details,
    score_children,
)
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.spec import RewardRef
from rewardlab.types import Outcome, Sample


@register("hero")
class Hero(Reward):
    """Verifier-stratified blending of a reward model's scores (HERO).

    Args:
        verifier: The hard check; a score at least ``threshold`` means correct.
        reward_model: The dense reward ranking responses inside each stratum.
        threshold: Verifier pass threshold.
        correct_band: ``[low, high]`` range for verified-correct responses.
        incorrect_band: ``[low, high]`` range for incorrect responses; must lie below
            ``correct_band``.
        on_failure: What a failed RM score does: ``fail`` (default) or ``skip`` (the sample
            gets its band's midpoint). A failed verifier always fails the sample.
    """

    def __init__(
        self,
        verifier: RewardRef,
        reward_model: RewardRef,
        threshold: float = 1.0,
        correct_band: tuple[float, float] = (0.8, 1.0),
        incorrect_band: tuple[float, float] = (0.0, 0.2),
        on_failure: OnFailure = "fail",
    ) -> None:
        for label, (low, high) in (("correct_band", correct_band),
                                   ("incorrect_band", incorrect_band)):
            if low > high:
                raise ValueError(f"{label} needs low <= high, got {(low, high)}")
        if incorrect_band[1] >= correct_band[0]:
            raise ValueError("incorrect_band must lie strictly below correct_band, got "
                             f"{incorrect_band} and {correct_band}")
        if on_failure not in ("fail", "skip"):
            raise ValueError(f"hero on_failure must be 'fail' or 'skip', got {on_failure!r}")
        self.verifier, self.reward_model = verifier, reward_model
        self.threshold = float(threshold)
        self.bands = {True: tuple(map(float, correct_band)),
                      False: tuple(map(float, incorrect_band))}
        self.on_failure = on_failure

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        results = await score_children(
            {"verifier": self.verifier, "reward_model": self.reward_model}, samples)
        verdicts, rm = results["verifier"], results["reward_model"]
        strata: dict[tuple[object, bool], list[int]] = defaultdict(list)
        outcomes: list[Outcome | None] = [None] * len(samples)
        for i, (v, r) in enumerate(zip(verdicts, rm, strict=True)):
            parts = component_details({"verifier": v, "reward_model": r})
            if not v.is_ok:
                outcomes[i] = Outcome.fail(v.status, f"verifier failed: {v.reason}"[:500],
                                           **parts)
            elif not r.is_ok and self.on_failure == "fail":
                outcomes[i] = Outcome.fail(r.status, f"reward model failed: {r.reason}"[:500],
                                           **parts)
            else:
                strata[(samples[i].group, v.score >= self.threshold)].append(i)
        for (_, correct), members in strata.items():
            low, high = self.bands[correct]
            scored = [rm[i].score for i in members if rm[i].is_ok]
            lo, hi = (min(scored), max(scored)) if scored else (0.0, 0.0)
            for i in members:
                r = rm[i]
                if r.is_ok and hi > lo:
                    value = low + (high - low) * (r.score - lo) / (hi - lo)
                else:  # single member, all equal, or a skipped RM failure: the band's middle
                    value = (low + high) / 2
                parts = {"verifier": verdicts[i], "reward_model": r}
                outcomes[i] = Outcome.ok(value, combined_reason(parts), **component_details(parts),
                                         correct=correct, stratum_size=len(members))
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        self.verifier.close()
        self.reward_model.close()
