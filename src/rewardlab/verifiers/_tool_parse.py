"""Reading tool calls from a response: the answer part only, then OpenAI/Hermes/JSON forms.

Reasoning blocks are cut away first (:func:`rewardlab.verifiers._reasoning.answer_part`), so a
call that is only "considered" inside ``<think>...</think>`` never counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.verifiers._reasoning import REASONING_TAGS, answer_part

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class MalformedCall(RewardlabError, ValueError):
    """A tool call that cannot be read (bad JSON, no name, arguments not an object)."""


@dataclass(frozen=True)
class ToolCall:
    """A normalized call: the tool name and its arguments."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


def to_call(obj: Any) -> ToolCall:
    """Normalize one call in OpenAI (``{"function": {"name", "arguments"}}``) or Hermes
    (``{"name", "arguments" | "parameters"}``) form.

    Raises:
        MalformedCall: the object is not a readable call.
    """
    if not isinstance(obj, Mapping):
        raise MalformedCall(f"a tool call must be an object, got {type(obj).__name__}")
    if isinstance(obj.get("function"), Mapping):
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MalformedCall("a tool call needs a non-empty 'name'")
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError as exc:
            raise MalformedCall(f"arguments of {name!r} are not valid JSON: {exc}") from None
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise MalformedCall(f"arguments of {name!r} must be a JSON object")
    return ToolCall(name.strip(), {str(k): v for k, v in args.items()})


def calls_from_json(data: Any) -> list[Any]:
    """The call objects of a JSON value: a message with ``tool_calls``, a list, or one call."""
    if isinstance(data, Mapping) and "tool_calls" in data:
        data = data["tool_calls"] or []
    return list(data) if isinstance(data, list) else [data]


def _json_values(text: str) -> list[Any]:
    """Every JSON value in ``text`` (a block may hold several, one per line)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    text = text.strip()
    while i < len(text):
        if text[i].isspace() or text[i] == ",":
            i += 1
            continue
        try:
            value, i = decoder.raw_decode(text, i)
        except ValueError as exc:
            raise MalformedCall(f"invalid JSON in a tool call: {exc}") from None
        values.append(value)
    return values


def parse_calls(response: str, structured: Any = None,
                reasoning_tags: Sequence[str] = REASONING_TAGS
                ) -> tuple[list[ToolCall], list[str]]:
    """Read the calls of a response; returns ``(calls, errors)`` (one error per malformed call).

    Args:
        response: The model's text; only its answer part (:func:`answer_part`) is read.
        structured: OpenAI-style ``tool_calls`` (takes precedence over the text when given).
        reasoning_tags: Tag names of reasoning blocks to cut away; ``()`` reads the whole text.
    """
    raw: list[Any] = []
    errors: list[str] = []
    if structured is not None:
        if isinstance(structured, str):
            try:
                structured = json.loads(structured)
            except ValueError as exc:
                return [], [f"metadata tool_calls are not valid JSON: {exc}"]
        raw = calls_from_json(structured)
    else:
        text = answer_part(response, reasoning_tags)
        blocks = _BLOCK.findall(text)
        if blocks:
            for block in blocks:
                try:
                    found = _json_values(block)
                except MalformedCall as exc:
                    errors.append(str(exc))
                    continue
                for value in found:
                    raw.extend(calls_from_json(value))
        else:
            text = text.strip()
            fenced = _FENCE.match(text)
            text = fenced.group(1) if fenced else text
            if text[:1] in ("{", "["):
                try:
                    raw = calls_from_json(json.loads(text))
                except ValueError as exc:
                    errors.append(f"invalid JSON: {exc}")
    calls = []
    for obj in raw:
        try:
            calls.append(to_call(obj))
        except MalformedCall as exc:
            errors.append(str(exc))
    return calls, errors
