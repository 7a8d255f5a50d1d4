"""Comparative judges: pairwise (response vs. a baseline, both orders) and best-of-K listwise.

Pairwise judges are position-biased, so :class:`PairwiseJudge` asks twice, with the response
first and then second. When the two orders agree the verdict stands; when they point in opposite
directions the result is a tie with ``confidence: low`` and ``position_consistent: false``.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from rewardlab.backends.llm import BackendRef
from rewardlab.judges.base import Judge, JudgeOptions, label_options, prompt_text
from rewardlab.judges.grammar import ChoiceGrammar, Unparseable
from rewardlab.judges.master_keys import screen_response
from rewardlab.registry import register
from rewardlab.reward import error_outcome
from rewardlab.types import Outcome, Sample, Status

PAIRWISE_TEMPLATE = """Compare two responses to the same instruction and decide which is better.

### Instruction
{instruction}

### Response A
{first}

### Response B
{second}
{criteria_block}
Do not let the order or the length of the responses influence you. Explain briefly, then give
your verdict."""

LISTWISE_TEMPLATE = """Several candidate responses answer the same instruction. Pick the best one.

### Instruction
{instruction}

{candidates}
{criteria_block}
Do not let the order or the length of the candidates influence you. Explain briefly, then give
the number of the best candidate."""

_PAIR = ChoiceGrammar({"A": "A", "B": "B", "TIE": "tie"},
                      describe='"A" (A is better), "B" (B is better) or "TIE"')


def _criteria_block(criteria: str) -> str:
    return f"\n### Criteria\n{criteria}\n" if criteria else ""


@register("judge_pairwise")
class PairwiseJudge(Judge):
    """Pairwise judge: is the response better than a baseline response?

    The baseline is ``sample.reference`` (text), or ``sample.metadata["baseline"]``. Both
    orders are judged. The master-key screen covers the baseline too: a content-free baseline
    is never shown to the judge, and the (screened) response wins it. Score: 1 win, 0.5 tie,
    0 loss, averaged over the two orders; opposite verdicts in the two orders give 0.5 with
    ``confidence: low``.

    Args:
        backend: The judge model (backend spec or object).
        criteria: What "better" means (optional).
        both_orders: Judge with the response in both positions (default on).
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`); verdicts
            are labels, so several samples are combined by ``vote`` only.
    """

    def __init__(
        self,
        backend: BackendRef,
        criteria: str = "",
        both_orders: bool = True,
        options: JudgeOptions = JudgeOptions(),
    ) -> None:
        super().__init__(backend, label_options(options))
        self.grammar = _PAIR
        self.criteria = criteria
        self.both_orders = both_orders

    def screen_baseline(self, baseline: str) -> Outcome | None:
        """A content-free baseline (a master key) is never shown to the judge: the response,
        which passed the same screen, wins outright. Otherwise ``None``."""
        if not self.screen_master_keys:
            return None
        hit = screen_response(baseline)
        if hit is None:
            return None
        with self._hits_lock:
            self.screen_hits += 1
        return Outcome.ok(1.0, f"master-key screen: {hit.kind} baseline, judge not called",
                          baseline_master_key=hit.to_dict())

    async def judge(self, sample: Sample) -> Outcome:
        baseline = sample.metadata.get("baseline", sample.reference)
        if not isinstance(baseline, str) or not baseline.strip():
            return Outcome.fail(Status.BAD_REFERENCE,
                                "pairwise judging needs a baseline response in sample.reference "
                                "or sample.metadata['baseline']")
        screened = self.screen_baseline(baseline)
        if screened is not None:
            return screened
        ask = {
            "response_first": PAIRWISE_TEMPLATE.format(
                instruction=prompt_text(sample), first=sample.response, second=baseline,
                criteria_block=_criteria_block(self.criteria)),
        }
        if self.both_orders:
            ask["response_second"] = PAIRWISE_TEMPLATE.format(
                instruction=prompt_text(sample), first=baseline, second=sample.response,
                criteria_block=_criteria_block(self.criteria))
        verdicts = await asyncio.gather(*(self.ask(user) for user in ask.values()))
        # Each order's verdict from the response's point of view: 1 win, 0.5 tie, 0 loss.
        points = []
        for order, verdict in zip(ask, verdicts, strict=True):
            mine, theirs = ("A", "B") if order == "response_first" else ("B", "A")
            points.append({mine: 1.0, theirs: 0.0, "tie": 0.5, None: 0.5}[verdict.value])
        details: dict[str, Any] = {
            "verdicts": {order: v.value for order, v in zip(ask, verdicts, strict=True)},
            "feedback": verdicts[0].feedback[:1000],
        }
        if len(points) == 2 and (points[0] - 0.5) * (points[1] - 0.5) < 0:
            return Outcome.ok(0.5, "the two orders disagree: counted as a tie",
                              position_consistent=False, confidence="low", **details)
        score = sum(points) / len(points)
        confidence = "high" if len(set(points)) == 1 else "medium"
        label = {1.0: "wins", 0.0: "loses"}.get(score, "ties")
        return Outcome.ok(score, f"response {label} against the baseline",
                          position_consistent=len(set(points)) == 1, confidence=confidence,
                          **details)


@register("judge_listwise")
class ListwiseJudge(Judge):
    """Best-of-K listwise judge: the judge sees every response of a group and picks the best.

    Samples are grouped by ``sample.group`` (else by prompt). The chosen response scores 1, the
    others 0. With ``shuffles`` > 1 the candidates are presented in several random orders and
    each response's score is the share of orders in which it was picked (less position bias).
    A group of one is ``skipped``.

    Args:
        backend: The judge model (backend spec or object).
        criteria: What "best" means (optional).
        shuffles: Orders in which to present the candidates.
        seed: Seed for the orders.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`); one
            verdict per order (``samples`` must be 1: use ``shuffles``). Screened
            (content-free) responses score 0 and are not shown.
    """

    def __init__(
        self,
        backend: BackendRef,
        criteria: str = "",
        shuffles: int = 1,
        seed: int = 0,
        options: JudgeOptions = JudgeOptions(),
    ) -> None:
        if options.samples != 1:
            raise ValueError("a listwise judge asks once per order: use shuffles, not samples")
        super().__init__(backend, options)
        if shuffles < 1:
            raise ValueError("shuffles must be at least 1")
        self.criteria = criteria
        self.shuffles = shuffles
        self.seed = seed

    async def judge(self, sample: Sample) -> Outcome:  # pragma: no cover - groups only
        raise NotImplementedError("listwise judging works on groups; use score_batch")

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(samples)
        groups: dict[Any, list[int]] = defaultdict(list)
        for i, sample in enumerate(samples):
            screened = self.screen(sample)
            if screened is not None:
                outcomes[i] = screened
                continue
            key = sample.group if sample.group is not None else ("prompt", sample.prompt_text)
            groups[key].append(i)
        results = await asyncio.gather(*(self._judge_group(samples, idx)
                                         for idx in groups.values()))
        for indices, group_outcomes in zip(groups.values(), results, strict=True):
            for i, outcome in zip(indices, group_outcomes, strict=True):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    async def _judge_group(self, samples: list[Sample], indices: list[int]) -> list[Outcome]:
        if len(indices) == 1:
            return [Outcome.fail(Status.SKIPPED, "listwise judging needs a group of 2 or more")]
        try:
            rng = random.Random(self.seed)
            orders = [list(range(len(indices)))]
            for _ in range(self.shuffles - 1):
                orders.append(rng.sample(orders[0], len(orders[0])))
            picks = await asyncio.gather(*(self._pick(samples, indices, order, n)
                                           for n, order in enumerate(orders)))
        except Unparseable as exc:
            return [Outcome.fail(Status.UNPARSEABLE, f"{self.describe()}: {exc}")] * len(indices)
        except Exception as exc:
            return [error_outcome(exc, self.describe())] * len(indices)
        wins = [sum(1 for p in picks if p == k) / len(picks) for k in range(len(indices))]
        return [
            Outcome.ok(w, "picked as best" if w == max(wins) and w > 0 else "not picked",
                       picks=picks, group_size=len(indices))
            for w in wins
        ]

    async def _pick(self, samples: list[Sample], indices: list[int], order: list[int],
                    n: int) -> int:
        candidates = "\n\n".join(
            f"### Candidate {pos + 1}\n{samples[indices[k]].response}"
            for pos, k in enumerate(order)
        )
        grammar = ChoiceGrammar({str(pos + 1): k for pos, k in enumerate(order)},
                                describe=f"a candidate number from 1 to {len(order)}")
        user = LISTWISE_TEMPLATE.format(instruction=prompt_text(samples[indices[0]]),
                                        candidates=candidates,
                                        criteria_block=_criteria_block(self.criteria))
        verdict = await self.ask(user, grammar, seed_offset=n * 1000)
        return int(verdict.value)
