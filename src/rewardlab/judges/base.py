"""The machinery every LLM judge shares: master-key screening, asking with bounded retries on
unparseable replies, k-sample aggregation (reasoning judges), and typed failures.

A judge is a :class:`~rewardlab.reward.Reward`. Subclasses build the prompt and turn a
:class:`Verdict` into an :class:`~rewardlab.types.Outcome`; this class guarantees that

* a content-free response (see :mod:`rewardlab.judges.master_keys`) gets the judge's lowest
  score without calling the model, and the hit is reported in ``details["master_key"]`` and
  counted in :attr:`Judge.screen_hits`;
* a reply without a valid verdict is asked again (a fresh sample) up to ``max_parse_retries``
  times, then becomes status ``unparseable``, never a default score;
* a backend failure becomes status ``error`` for that sample only.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
from abc import abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewardlab.backends.llm import LLMBackend, LLMError, StructuredOutputError, build_backend
from rewardlab.judges.grammar import Unparseable, VerdictGrammar, strip_thinking
from rewardlab.judges.master_keys import screen_response
from rewardlab.registry import spec_options
from rewardlab.reward import Reward, error_outcome
from rewardlab.types import Outcome, Sample, Status

log = logging.getLogger(__name__)

_FEEDBACK_CHARS = 2000


@dataclass
class Verdict:
    """What the judge said, over ``k`` samples.

    Args:
        value: The aggregated verdict (``None``: no majority among the samples).
        values: Each sample's verdict (``None`` where a sample stayed unparseable).
        feedback: The reasoning before the verdict of the first parsed sample.
        agreement: Share of parsed samples that agree with ``value`` (vote), or ``1 - spread``
            in units of the score range (mean).
        attempts: Model calls made.
    """

    value: Any
    values: list[Any]
    feedback: str = ""
    agreement: float = 1.0
    attempts: int = 0
    replies: list[str] = field(default_factory=list)
    logprobs: list[Any] = field(default_factory=list)

    def details(self) -> dict[str, Any]:
        """The diagnostics judges attach to outcomes."""
        out: dict[str, Any] = {"feedback": self.feedback[:_FEEDBACK_CHARS],
                               "attempts": self.attempts}
        if len(self.values) > 1:
            out["samples"] = self.values
            out["agreement"] = round(self.agreement, 4)
        return out


def aggregate_values(
    values: Sequence[Any], how: Literal["vote", "mean"], span: float | None = None
) -> tuple[Any, float]:
    """Combine per-sample verdicts (``None`` entries are skipped).

    ``vote`` takes the most common verdict; a tie between numbers averages them, a tie between
    labels gives ``None`` (no majority). ``mean`` averages numbers. Returns ``(value,
    agreement)``.

    Raises:
        Unparseable: no sample has a verdict.
        ValueError: ``mean`` over non-numeric verdicts.
    """
    parsed = [v for v in values if v is not None]
    if not parsed:
        raise Unparseable("no sample produced a verdict")
    if how == "mean":
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in parsed):
            raise ValueError("aggregate='mean' needs numeric verdicts; use 'vote'")
        mean = statistics.fmean(parsed)
        spread = (max(parsed) - min(parsed)) / span if span else 0.0
        return mean, 1.0 - min(1.0, spread)
    counts = Counter(parsed).most_common()
    top = [v for v, c in counts if c == counts[0][1]]
    agreement = counts[0][1] / len(parsed)
    if len(top) == 1:
        return top[0], agreement
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in top):
        return statistics.fmean(top), agreement
    return None, agreement


@spec_options
@dataclass(frozen=True)
class JudgeOptions:
    """How a judge asks its model: output mode, sampling, retries, screening. Declared once for
    every judge; a spec gives them as flat keys (``samples: 3``) or as one block
    (``options: {samples: 3}``), and each judge's signature default holds its own defaults.

    Args:
        output: ``text`` (the verdict grammar's ``[RESULT]`` line) or ``json`` (structured
            output with the grammar's schema, with the backend's fallbacks).
        samples: Verdicts per input, ``k`` (reasoning judges sample several), combined by
            ``aggregate``.
        aggregate: Combine the ``k`` verdicts by majority ``vote`` (no majority among labels:
            ``unparseable``) or ``mean`` score.
        temperature: Sampling temperature (``None``: 0 for one sample, 0.7 for several).
        max_tokens: Reply budget per call (thinking judges need more).
        max_parse_retries: Extra calls when a reply has no valid verdict.
        screen_master_keys: Give content-free responses the lowest score without calling the
            judge (on by default).
        system_prompt: Replaces the judge's system prompt.
    """

    output: Literal["text", "json"] = "text"
    samples: int = 1
    aggregate: Literal["vote", "mean"] = "vote"
    temperature: float | None = None
    max_tokens: int = 512
    max_parse_retries: int = 2
    screen_master_keys: bool = True
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.output not in ("text", "json"):
            raise ValueError(f"output must be 'text' or 'json', got {self.output!r}")
        if self.samples < 1:
            raise ValueError("samples must be at least 1")
        if self.aggregate not in ("vote", "mean"):
            raise ValueError(f"aggregate must be 'vote' or 'mean', got {self.aggregate!r}")
        if self.max_parse_retries < 0:
            raise ValueError("max_parse_retries must be >= 0")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")


def label_options(options: JudgeOptions) -> JudgeOptions:
    """``options`` for a judge whose verdicts are labels (yes/no, A/B): they can be voted on,
    not averaged.

    Raises:
        ValueError: ``aggregate`` is ``mean``.
    """
    if options.aggregate != "vote":
        raise ValueError("this judge's verdicts are labels: aggregate must be 'vote'")
    return options


class Judge(Reward):
    """Base class of LLM judges.

    Args:
        backend: The judge model: a backend spec (``{"type": "openai", "base_url": ...,
            "model": ...}``) or a built :class:`~rewardlab.backends.llm.LLMBackend`.
        options: Output mode, sampling, retries and screening (:class:`JudgeOptions`).
    """

    grammar: VerdictGrammar

    def __init__(self, backend: Any, options: JudgeOptions = JudgeOptions()) -> None:
        self.backend: LLMBackend = build_backend(backend)
        self.options = options
        # The machinery below reads these often; they are views of `options`, not settings.
        self.output = options.output
        self.samples = options.samples
        self.aggregate = options.aggregate
        self.temperature = options.temperature if options.temperature is not None else (
            0.0 if options.samples == 1 else 0.7)
        self.max_tokens = options.max_tokens
        self.max_parse_retries = options.max_parse_retries
        self.screen_master_keys = options.screen_master_keys
        if options.system_prompt is not None:
            self.system_prompt = options.system_prompt
        self.screen_hits = 0
        self._hits_lock = threading.Lock()

    system_prompt: str = (
        "You are a careful, impartial evaluator. Judge only what is asked. Think briefly, then "
        "give your verdict in exactly the requested format."
    )

    # --- subclass hooks ---

    @abstractmethod
    async def judge(self, sample: Sample) -> Outcome:
        """Judge one sample that passed the screen."""

    def lowest_score(self) -> float:
        """The score a screened-out response gets."""
        return 0.0

    def responses_to_screen(self, sample: Sample) -> list[str]:
        """The texts the master-key screen checks (the response by default)."""
        return [sample.response]

    # --- machinery ---

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._judge_safe(s) for s in samples)))

    def screen(self, sample: Sample) -> Outcome | None:
        """The outcome for a content-free response, or ``None`` to go on and judge it."""
        if not self.screen_master_keys:
            return None
        for text in self.responses_to_screen(sample):
            hit = screen_response(text)
            if hit is not None:
                with self._hits_lock:
                    self.screen_hits += 1
                log.info("%s: master-key screen hit (%s)", self.describe(), hit.kind)
                return Outcome.ok(
                    self.lowest_score(),
                    f"master-key screen: {hit.kind} response, judge not called",
                    master_key=hit.to_dict(),
                )
        return None

    async def _judge_safe(self, sample: Sample) -> Outcome:
        screened = self.screen(sample)
        if screened is not None:
            return screened
        try:
            return await self.judge(sample)
        except Unparseable as exc:
            return Outcome.fail(Status.UNPARSEABLE, f"{self.describe()}: {exc}",
                                **getattr(exc, "details", {}))
        except LLMError as exc:
            return error_outcome(exc, self.describe())
        except Exception as exc:  # one broken sample must not fail the batch
            return error_outcome(exc, self.describe())

    def messages(self, user: str) -> list[dict[str, str]]:
        """System prompt plus one user message."""
        return [{"role": "system", "content": self.system_prompt},
                {"role": "user", "content": user}]

    async def ask(
        self,
        user: str,
        grammar: VerdictGrammar | None = None,
        *,
        span: float | None = None,
        seed_offset: int = 0,
    ) -> Verdict:
        """Ask the judge ``samples`` times and aggregate the verdicts.

        Args:
            user: The user prompt (the grammar's instruction is appended).
            grammar: The verdict grammar (default: the judge's).
            span: Width of a numeric verdict range (for ``mean`` agreement).
            seed_offset: Separates cache entries of different questions built from one prompt
                (e.g. the two orders of a pairwise comparison use different prompts anyway).

        Raises:
            Unparseable: no sample gave a valid verdict within the retries (details attached).
        """
        grammar = grammar or self.grammar
        messages = self.messages(f"{user.rstrip()}\n\n{grammar.instruction}")
        per_sample = await asyncio.gather(*(
            self._ask_once(messages, grammar, seed_offset + i * (self.max_parse_retries + 1))
            for i in range(self.samples)
        ))
        values = [v for v, _, _, _ in per_sample]
        replies = [r for _, r, _, _ in per_sample]
        attempts = sum(a for _, _, a, _ in per_sample)
        try:
            value, agreement = aggregate_values(values, self.aggregate, span)
        except Unparseable as exc:
            exc.details = {"attempts": attempts,  # type: ignore[attr-defined]
                           "replies": [r[-_FEEDBACK_CHARS:] for r in replies]}
            raise
        first = next(i for i, v in enumerate(values) if v is not None)
        return Verdict(value, values, _feedback(replies[first]), agreement, attempts, replies,
                       [lp for _, _, _, lp in per_sample])

    async def _ask_once(
        self, messages: list[dict[str, str]], grammar: VerdictGrammar, base_index: int
    ) -> tuple[Any, str, int, Any]:
        reply = ""
        for attempt in range(self.max_parse_retries + 1):
            index = base_index + attempt
            # A greedy retry would repeat the unparseable reply word for word: retries sample.
            temperature = self.temperature if attempt == 0 else max(self.temperature, 0.7)
            try:
                if self.output == "json":
                    result = await self.backend.structured(
                        messages, grammar.schema(), max_tokens=self.max_tokens,
                        temperature=temperature, sample_index=index,
                    )
                    reply = result.result.text
                    value = grammar.from_json(result.data)
                    if result.data.get("feedback"):
                        reply = f"{result.data['feedback']}\n[RESULT] {result.data['verdict']}"
                    return value, reply, attempt + 1, None
                chat = await self.backend.chat(
                    messages, max_tokens=self.max_tokens, temperature=temperature,
                    sample_index=index, **self.logprob_request(),
                )
                reply = chat.text
                value = grammar.parse(strip_thinking(reply))
                return value, reply, attempt + 1, chat.logprobs
            except (Unparseable, StructuredOutputError) as exc:
                if isinstance(exc, StructuredOutputError):
                    reply = exc.text or reply
                log.debug("%s: unparseable reply (attempt %d): %s", self.describe(),
                          attempt + 1, exc)
        return None, reply, self.max_parse_retries + 1, None

    def logprob_request(self) -> dict[str, Any]:
        """Extra chat parameters (judges that weight verdicts by probability ask for logprobs)."""
        return {}


def _feedback(reply: str) -> str:
    text = strip_thinking(reply)
    marker = text.rfind("[RESULT]")
    return (text[:marker] if marker >= 0 else text).strip()


def prompt_text(sample: Sample) -> str:
    """The instruction a judge sees (the prompt, chat messages joined)."""
    return sample.prompt_text.strip() or "(no instruction given)"
