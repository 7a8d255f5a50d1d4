"""Wire formats of the reward server: the native ``/v1/score`` and OpenRLHF's ``/get_reward``.

The native protocol carries rewardlab's own nouns: samples in, typed outcomes out. OpenRLHF's
protocol carries bare numbers, so this module also decides what a sample that got no score
becomes there (see :func:`openrlhf_response`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic

from rewardlab.errors import RewardlabError
from rewardlab.serve.settings import DEFAULT_STRIP_TOKENS
from rewardlab.types import Outcome, Sample, Status


class ChatMessage(pydantic.BaseModel):
    """One chat message of a prompt."""

    model_config = pydantic.ConfigDict(extra="allow")

    role: str
    content: Any


class SampleIn(pydantic.BaseModel):
    """A sample on the wire (the fields of :class:`rewardlab.Sample`)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    response: str
    prompt: str | list[ChatMessage] | None = None
    reference: Any = None
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    group: str | int | None = None
    id: str | int | None = None

    def to_sample(self) -> Sample:
        """The :class:`rewardlab.Sample` this wire sample describes."""
        prompt: Any = self.prompt
        if isinstance(prompt, list):
            prompt = [m.model_dump() for m in prompt]
        return Sample(response=self.response, prompt=prompt, reference=self.reference,
                      metadata=self.metadata, group=self.group, id=self.id)


def sample_to_wire(sample: Sample) -> dict[str, Any]:
    """The JSON form of a sample (inverse of :meth:`SampleIn.to_sample`)."""
    data: dict[str, Any] = {"response": sample.response}
    if sample.prompt is not None:
        data["prompt"] = (sample.prompt if isinstance(sample.prompt, str)
                          else [dict(m) for m in sample.prompt])
    if sample.reference is not None:
        data["reference"] = sample.reference
    if sample.metadata:
        data["metadata"] = dict(sample.metadata)
    if sample.group is not None:
        data["group"] = sample.group
    if sample.id is not None:
        data["id"] = sample.id
    return data


class ScoreRequest(pydantic.BaseModel):
    """``POST /v1/score``: score a batch of samples with one of the served rewards."""

    model_config = pydantic.ConfigDict(extra="forbid")

    samples: list[SampleIn]
    reward: str | None = pydantic.Field(
        default=None, description="Alias of the reward (default: the server's default reward).")
    timeout: float | None = pydantic.Field(
        default=None, gt=0, description="Deadline in seconds (capped by the server's).")


class OutcomeOut(pydantic.BaseModel):
    """An outcome on the wire (``score`` is null unless ``status`` is ``ok``)."""

    score: float | None
    status: Status
    reason: str = ""
    details: dict[str, Any] = pydantic.Field(default_factory=dict)


class ScoreResponse(pydantic.BaseModel):
    """Reply to ``POST /v1/score``: one outcome per sample, in order."""

    reward: str
    outcomes: list[OutcomeOut]


class GetRewardRequest(pydantic.BaseModel):
    """``POST /get_reward`` (OpenRLHF): ``query`` is prompt + response, special tokens kept."""

    model_config = pydantic.ConfigDict(extra="allow")

    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any] | None = None


class GetRewardResponse(pydantic.BaseModel):
    """Reply to ``POST /get_reward``: lists aligned with the request."""

    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]]
    statuses: list[Status]


class ErrorBody(pydantic.BaseModel):
    """Every 4xx/5xx reply: ``{"error": {"type", "message", "field"}}``."""

    error: dict[str, Any]


class PromptMismatch(RewardlabError, ValueError):
    """The OpenRLHF query does not contain its prompt, so the response cannot be recovered."""


def recover_response(query: str, prompt: str | None,
                     strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS) -> str:
    """The response inside an OpenRLHF ``query`` (prompt + response, special tokens kept).

    The prompt is removed from the front (or, when the query starts with extra special tokens
    such as BOS, from its first occurrence), then trailing end-of-sequence/padding tokens are
    stripped.

    Raises:
        PromptMismatch: the query does not contain the prompt.
    """
    if prompt:
        if query.startswith(prompt):
            response = query[len(prompt):]
        else:
            at = query.find(prompt)
            if at < 0:
                raise PromptMismatch("the query does not contain its prompt")
            response = query[at + len(prompt):]
    else:
        response = query
    stripped = True
    while stripped:
        stripped = False
        response = response.rstrip()
        for token in strip_tokens:
            if token and response.endswith(token):
                response = response[: -len(token)]
                stripped = True
    return response


def openrlhf_response(outcomes: Sequence[Outcome], failure_reward: float) -> dict[str, Any]:
    """OpenRLHF's reply for a list of outcomes.

    A sample that got no score (any status but ``ok``) gets ``failure_reward`` in ``rewards``,
    because OpenRLHF needs a float per sample. ``scores`` follows OpenRLHF's documented 0-1
    meaning (see :func:`rewardlab.integrations.common.unit_score`): the score clipped to 0-1,
    NaN for a failure so that OpenRLHF's dynamic filter drops the group. The failure stays
    visible: the
    ``extra_logs`` hold one 0/1 indicator list per status (``status_ok``, ``status_error``,
    ...; a stable key set, logged by OpenRLHF as per-step rates), and ``statuses`` lists the
    status of each sample.
    """
    rewards = [o.score if o.is_ok and o.score is not None else failure_reward for o in outcomes]
    extra_logs = {f"status_{s.value}": [1.0 if o.status is s else 0.0 for o in outcomes]
                  for s in Status}
    from rewardlab.integrations.common import unit_score

    return {"rewards": rewards, "scores": [unit_score(o) for o in outcomes],
            "extra_logs": extra_logs,
            "statuses": [o.status.value for o in outcomes]}
