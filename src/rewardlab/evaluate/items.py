"""``EvalItem``: one benchmark question with the responses a reward has to rank.

Every benchmark format becomes a stream of items. An item holds the prompt, the candidate
responses *in their original order* (so position effects of pairwise judges stay visible), and
what the benchmark says about them:

* ``pairwise``: two responses, ``labels`` marks the preferred one (``[1, 0]`` or ``[0, 1]``).
* ``best_of_n``: the correct/preferred responses come first (``labels`` 1), the rest are 0.
* ``rmbench``: three chosen style variants then three rejected ones (concise, detailed,
  detailed with markdown), labels ``[1, 1, 1, 0, 0, 0]``.
* ``graded``: N sampled responses with a 0/1 correctness label each (best-of-N math data).
* ``annotated``: two responses judged by human annotators (``votes``: 0 tie, 1 first, 2 second).
* ``instructions``: one or more responses to a prompt with verifiable instructions (IFEval,
  IFBench); ``labels`` is the official prompt-level strict verdict when the data has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewardlab.types import Message, Sample

ItemKind = Literal["pairwise", "best_of_n", "rmbench", "graded", "annotated", "instructions"]
KINDS: tuple[str, ...] = ("pairwise", "best_of_n", "rmbench", "graded", "annotated",
                          "instructions")


@dataclass(frozen=True)
class EvalItem:
    """One evaluation unit: a prompt and the responses to compare.

    Args:
        id: Stable identifier (from the data, or ``<format>-<line>``).
        kind: How the item is scored (see the module docstring).
        responses: Candidate responses, in the order the data gives them.
        labels: Gold label per response (1 preferred/correct, 0 not).
        prompt: Prompt text or chat messages.
        subset: Benchmark subset or category (per-subset scores and section weighting).
        votes: Human annotator votes for ``annotated`` items (0 tie, 1 first, 2 second).
        stored_scores: Scores shipped with the data (e.g. another reward model's), one per
            response, evaluated through the ``stored_score`` reward.
        reference: Gold answer handed to verifiers (``Sample.reference``).
        metadata: Extra fields kept for the per-sample output.
    """

    id: str
    kind: ItemKind
    responses: tuple[str, ...]
    labels: tuple[int, ...]
    prompt: str | Sequence[Message] | None = None
    subset: str = "default"
    votes: tuple[int, ...] | None = None
    stored_scores: tuple[float, ...] | None = None
    reference: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown item kind {self.kind!r}; kinds: {', '.join(KINDS)}")
        fewest = 1 if self.kind == "instructions" else 2
        if len(self.responses) < fewest:
            raise ValueError(f"item {self.id}: needs at least {fewest} response(s)")
        if not all(isinstance(r, str) for r in self.responses):
            raise ValueError(f"item {self.id}: responses must be strings")
        if len(self.labels) != len(self.responses):
            raise ValueError(
                f"item {self.id}: {len(self.labels)} labels for {len(self.responses)} responses")
        if self.kind == "pairwise" and (len(self.responses) != 2 or sorted(self.labels) != [0, 1]):
            raise ValueError(f"item {self.id}: a pairwise item has two responses, one preferred")
        if self.kind == "rmbench" and list(self.labels) != [1, 1, 1, 0, 0, 0]:
            raise ValueError(f"item {self.id}: an rmbench item has 3 chosen then 3 rejected")
        if self.kind == "annotated":
            if len(self.responses) != 2 or not self.votes:
                raise ValueError(f"item {self.id}: an annotated item has two responses and votes")
            if any(v not in (0, 1, 2) for v in self.votes):
                raise ValueError(f"item {self.id}: votes must be 0 (tie), 1 or 2")
        if self.stored_scores is not None and len(self.stored_scores) != len(self.responses):
            raise ValueError(f"item {self.id}: stored_scores must have one score per response")

    def samples(self, responses: Sequence[str] | None = None) -> list[Sample]:
        """One :class:`Sample` per response (same prompt, reference and metadata).

        Args:
            responses: Replacement responses (probes rewrite them); defaults to the item's.
        """
        texts = self.responses if responses is None else responses
        out = []
        for i, text in enumerate(texts):
            meta: dict[str, Any] = {"eval_item": self.id, "response_index": i,
                                    "subset": self.subset}
            if self.stored_scores is not None:
                meta["stored_score"] = self.stored_scores[i]
            out.append(Sample(response=text, prompt=self.prompt, reference=self.reference,
                              metadata=meta, group=self.id, id=f"{self.id}#{i}"))
        return out

    @property
    def preferred(self) -> int:
        """Index of the first response labelled 1."""
        return self.labels.index(1) if 1 in self.labels else -1
