"""Verdict grammars: what a judge's reply must end with, and how it is read.

Every judge declares one grammar. In text mode the reply must contain ``[RESULT] <verdict>``;
the *last* such marker counts (a model that echoes the instructions or revises itself is read
at its final word, and the instructions never contain a concrete example verdict that could be
matched). In JSON mode the grammar gives a JSON Schema with one ``verdict`` field. Anything else
is :class:`Unparseable`: judges never fall back to a default score.

Thinking is removed before parsing: ``<think>...</think>`` blocks, and everything after an
unclosed ``<think>`` (a reply cut off while thinking has no verdict).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.errors import RewardlabError

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)


class Unparseable(RewardlabError, ValueError):
    """No verdict could be read from a judge's reply."""


def strip_thinking(text: str) -> str:
    """The reply without its thinking (closed blocks, a dangling close tag's prefix, and
    everything after an unclosed open tag)."""
    text = _THINK_BLOCK.sub(" ", text)
    close = list(_THINK_CLOSE.finditer(text))
    if close:  # reasoning models often omit the opening tag (it was in the chat template)
        text = text[close[-1].end():]
    opened = _THINK_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    return text.strip()


_MARKER = r"\[RESULT\]\s*[:=\-]?\s*[\*\"'`(\[]*\s*"


class VerdictGrammar(ABC):
    """How a verdict is asked for and read, in text and in JSON."""

    @property
    @abstractmethod
    def instruction(self) -> str:
        """The sentence telling the judge how to end its reply."""

    @abstractmethod
    def parse(self, text: str) -> Any:
        """The verdict in ``text`` (thinking already stripped).

        Raises:
            Unparseable: no valid verdict.
        """

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """A JSON Schema for a ``{"verdict": ...}`` object (plus optional ``feedback``)."""

    def from_json(self, data: Mapping[str, Any]) -> Any:
        """The verdict in a structured reply."""
        if "verdict" not in data:
            raise Unparseable("the JSON reply has no 'verdict'")
        return self.parse(f"[RESULT] {data['verdict']}")


class ScoreGrammar(VerdictGrammar):
    """An integer score in ``[low, high]``: ``[RESULT] 4``.

    Args:
        low: Lowest allowed score.
        high: Highest allowed score.
    """

    def __init__(self, low: int = 1, high: int = 5) -> None:
        if low >= high:
            raise ValueError(f"score range needs low < high, got {low}..{high}")
        self.low, self.high = int(low), int(high)
        self._pattern = re.compile(_MARKER + r"(-?\d+(?:\.\d+)?)\b", re.IGNORECASE)

    @property
    def instruction(self) -> str:
        return (f'End your reply with a line "[RESULT] n", where n is an integer from {self.low} '
                f"to {self.high}.")

    def parse(self, text: str) -> int:
        matches = self._pattern.findall(text)
        if not matches:
            raise Unparseable("no '[RESULT] <score>' in the reply")
        value = float(matches[-1])
        if value != int(value) or not self.low <= value <= self.high:
            raise Unparseable(f"score {matches[-1]} is not an integer in {self.low}..{self.high}")
        return int(value)

    def expected_score(
        self, text: str, tokens: Sequence[Any]
    ) -> tuple[float, dict[int, float]] | None:
        """The probability-weighted score at the verdict position (G-Eval style).

        ``tokens`` are the reply's :class:`~rewardlab.backends.llm.TokenLogprob` entries with
        ``top`` alternatives. Returns ``(expected score, {score: probability})`` renormalized over
        the valid scores among the alternatives, or ``None`` when the verdict token cannot be
        located or has no valid alternative.
        """
        import math

        matches = list(self._pattern.finditer(text))
        if not matches or not tokens:
            return None
        target = matches[-1].start(1)
        position = 0
        for token in tokens:
            end = position + len(token.token)
            if position <= target < end:
                dist: dict[int, float] = {}
                for alt, logprob in token.top or ((token.token, token.logprob),):
                    alt = alt.strip()
                    if alt.lstrip("-").isdigit() and self.low <= int(alt) <= self.high:
                        dist[int(alt)] = dist.get(int(alt), 0.0) + math.exp(logprob)
                total = sum(dist.values())
                if total <= 0:
                    return None
                dist = {k: v / total for k, v in sorted(dist.items())}
                return sum(k * v for k, v in dist.items()), dist
            position = end
        return None

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "feedback": {"type": "string"},
                "verdict": {"type": "integer", "enum": list(range(self.low, self.high + 1))},
            },
            "required": ["feedback", "verdict"],
        }


class ChoiceGrammar(VerdictGrammar):
    """One label out of a fixed set: ``[RESULT] A``. Labels map to verdict values.

    Args:
        labels: ``{label: value}``, e.g. ``{"A": "correct", "B": "incorrect"}``.
        describe: How the instruction presents the choices (default: the labels).
    """

    def __init__(self, labels: Mapping[str, Any] | Sequence[str], describe: str = "") -> None:
        if not isinstance(labels, Mapping):
            labels = {label: label for label in labels}
        if len(labels) < 2:
            raise ValueError("a choice grammar needs at least two labels")
        self.labels = {str(k).upper(): v for k, v in labels.items()}
        self.describe = describe
        alternatives = "|".join(re.escape(k) for k in sorted(self.labels, key=len, reverse=True))
        self._pattern = re.compile(_MARKER + rf"({alternatives})(?![\w])", re.IGNORECASE)

    @property
    def instruction(self) -> str:
        choices = self.describe or ", ".join(f'"{k}"' for k in self.labels)
        return f'End your reply with a line "[RESULT] X", where X is one of: {choices}.'

    def parse(self, text: str) -> Any:
        matches = self._pattern.findall(text)
        if not matches:
            raise Unparseable(f"no '[RESULT] <{'|'.join(self.labels)}>' in the reply")
        return self.labels[matches[-1].upper()]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "feedback": {"type": "string"},
                "verdict": {"type": "string", "enum": list(self.labels)},
            },
            "required": ["feedback", "verdict"],
        }
