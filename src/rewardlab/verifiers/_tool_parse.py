"""Reading tool calls from a response: the answer part only, then OpenAI/Hermes/JSON forms.

Reasoning blocks are cut away before any call is looked for, so a call that is only
"considered" inside ``<think>...</think>`` never counts. The rule, for each configured tag
name (``think``, ``thinking``, ``reasoning`` by default; case-insensitive):

* ``<tag>...</tag>`` is removed;
* an opening ``<tag>`` that is never closed removes everything after it (an unfinished
  thought is not an answer);
* a closing ``</tag>`` with no opening tag removes everything before it (chat templates such
  as Qwen3's and DeepSeek-R1's put the opening tag in the prompt).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REASONING_TAGS: tuple[str, ...] = ("think", "thinking", "reasoning")
_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class MalformedCall(ValueError):
    """A tool call that cannot be read (bad JSON, no name, arguments not an object)."""


@dataclass(frozen=True)
class ToolCall:
    """A normalized call: the tool name and its arguments."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


def _strip_blocks(text: str, opening: re.Pattern[str], closing: re.Pattern[str]) -> str:
    first_close, first_open = closing.search(text), opening.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        text = text[first_close.end():]
    kept, pos = [], 0
    # One pass, each search starting where the last ended: linear in the text even when a
    # response holds thousands of tags.
    while True:
        start = opening.search(text, pos)
        if start is None:
            kept.append(text[pos:])
            break
        kept.append(text[pos:start.start()])
        end = closing.search(text, start.end())
        if end is None:
            break
        kept.append(" ")
        pos = end.end()
    return "".join(kept)


def answer_part(response: str, tags: Sequence[str] = REASONING_TAGS) -> str:
    """The response without its reasoning blocks (see the module docstring for the rule)."""
    text = response
    for tag in tags:
        name = re.escape(tag)
        # Attributes are bounded so a run of unterminated "<think " costs linear time.
        opening = re.compile(rf"<{name}(?:\s[^<>]{{0,200}})?>", re.IGNORECASE)
        closing = re.compile(rf"</{name}\s*>", re.IGNORECASE)
        text = _strip_blocks(text, opening, closing)
    return text


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
