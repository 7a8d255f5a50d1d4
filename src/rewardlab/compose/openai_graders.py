"""Import of OpenAI grader JSON (Reinforcement Fine-Tuning / Evals graders) as rewards.

Supported ``type`` values: ``string_check``, ``text_similarity``, ``python`` (run only inside
rewardlab's code sandbox), ``multi`` (its ``calculate_output`` formula is parsed safely, see
:mod:`rewardlab.compose.formula`), and ``score_model`` / ``label_model`` (templated messages sent
to an LLM backend, :mod:`rewardlab.backends.llm`, answered as structured JSON).

Templates: ``{{ item.<path> }}`` reads the dataset row, which is the sample's ``metadata`` plus
``reference`` (and the reference's own keys when it is a mapping); ``{{ sample.output_text }}``
is the response, ``{{ sample.output_json.<path> }}`` the response parsed as JSON,
``{{ sample.output_tools... }}`` the tool calls (``metadata["tool_calls"]``, an OpenAI message's
``tool_calls``) and ``{{ sample.choices... }}`` ``metadata["choices"]``. Paths use the guide's
JSON-path-like syntax: ``.field`` and ``[index]`` steps, as in
``{{ sample.output_tools[0].function.name }}`` or ``{{ item.answers[0] }}``. A ``{{ ... }}``
that is not of that form (another namespace, a filter, an expression, ``output_audio``) is a
build-time error, never literal text.

In a spec::

    reward: {name: openai_grader, path: graders/accuracy.json}
    reward: {name: openai_grader, grader: {type: string_check, name: exact, operation: eq,
             input: "{{ sample.output_text }}", reference: "{{ item.answer }}"}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rewardlab.compose.children import component_details, score_children
from rewardlab.compose.formula import Formula, FormulaError
from rewardlab.errors import RewardlabError
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.types import Outcome, Sample, Status

GRADER_TYPES = ("string_check", "text_similarity", "score_model", "label_model", "python",
                "multi")
MAX_PYTHON_SOURCE_BYTES = 256 * 1024  # OpenAI's limit for python graders
_ANY_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VARIABLE = re.compile(r"\s*(item|sample)((?:\.[A-Za-z0-9_\-]+|\[\d+\])+)\s*")
_STEP = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]")
SAMPLE_FIELDS = ("output_text", "output_json", "output_tools", "choices")
_MISSING = object()


class TemplateError(RewardlabError, ValueError):
    """A template variable that does not resolve; ``status`` says whose fault it is."""

    def __init__(self, message: str, status: Status) -> None:
        super().__init__(message)
        self.status = status


def item_of(sample: Sample) -> dict[str, Any]:
    """The dataset row a grader sees as ``item``."""
    item: dict[str, Any] = {}
    if isinstance(sample.reference, Mapping):
        item.update(sample.reference)
    item.update(sample.metadata)
    if sample.reference is not None:
        item.setdefault("reference", sample.reference)
    return item


def sample_of(sample: Sample) -> dict[str, Any]:
    """The generated sample a grader sees as ``sample``."""
    try:
        output_json = json.loads(sample.response)
    except ValueError:
        output_json = None
    return {"output_text": sample.response, "output_json": output_json,
            "output_tools": _tool_calls(sample.metadata.get("tool_calls")),
            "choices": sample.metadata.get("choices")}


def _tool_calls(value: Any) -> Any:
    """``metadata["tool_calls"]`` as a list (a JSON string of one is parsed)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value


def parse_variable(expression: str) -> tuple[str, list[str | int]]:
    """``item.answers[0]`` -> ``("item", ["answers", 0])``.

    Raises:
        ValueError: anything but ``item``/``sample`` followed by ``.field``/``[index]`` steps,
            or a ``sample`` field rewardlab does not provide.
    """
    match = _VARIABLE.fullmatch(expression)
    if match is None:
        raise ValueError(f"unsupported template {{{{{expression}}}}}: the form is "
                         "{{ item.<path> }} or {{ sample.<path> }} with .field and [index] steps")
    steps: list[str | int] = [m.group(1) if m.group(1) is not None else int(m.group(2))
                              for m in _STEP.finditer(match.group(2))]
    root = match.group(1)
    if root == "sample" and steps[0] not in SAMPLE_FIELDS:
        raise ValueError(f"template {{{{{expression}}}}}: sample has {', '.join(SAMPLE_FIELDS)}"
                         " (output_audio is not supported)")
    if not isinstance(steps[0], str):
        raise ValueError(f"template {{{{{expression}}}}} must start with a field name")
    return root, steps


def check_templates(template: Any, where: str) -> None:
    """Fail at build time on a template string with an unsupported ``{{ ... }}``."""
    if not isinstance(template, str):
        raise ValueError(f"{where} must be a string, got {type(template).__name__}")
    for match in _ANY_TEMPLATE.finditer(template):
        try:
            parse_variable(match.group(1))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


def _lookup(root: Any, path: list[str | int]) -> Any:
    current = root
    for part in path:
        if isinstance(part, str) and isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and (isinstance(part, int) or part.isdigit()) \
                and int(part) < len(current):  # [0], or .0 on a list
            current = current[int(part)]
        else:
            return _MISSING
    return current


def render(template: Any, sample: Sample) -> str:
    """Fill ``{{ item.x }}`` / ``{{ sample.y }}`` variables of a template string.

    Raises:
        TemplateError: a variable does not resolve (``bad_reference`` for ``item``,
            ``unparseable`` for ``sample``, e.g. ``output_json`` of a non-JSON response).
    """
    if not isinstance(template, str):
        raise TemplateError(f"a grader template must be a string, got {template!r}",
                            Status.ERROR)
    roots = {"item": item_of(sample), "sample": sample_of(sample)}

    def fill(match: re.Match[str]) -> str:
        try:
            root, path = parse_variable(match.group(1))
        except ValueError as exc:  # graders check at build time; render() may be called alone
            raise TemplateError(str(exc), Status.ERROR) from None
        value = _lookup(roots[root], path)
        if value is _MISSING or value is None:
            status = Status.BAD_REFERENCE if root == "item" else Status.UNPARSEABLE
            raise TemplateError(f"template variable {match.group(0)} has no value", status)
        return value if isinstance(value, str) else json.dumps(value)

    return _ANY_TEMPLATE.sub(fill, template)


def _require(config: Mapping[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in config]
    if missing:
        raise ValueError(f"{config.get('type')} grader {config.get('name', '')!r} needs "
                         f"field(s) {missing}")


class OpenAIGrader(Reward):
    """Base of imported graders: the grader's name, type and optional pass threshold."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.grader_name = str(config.get("name", config.get("type")))
        threshold = config.get("pass_threshold")
        self.pass_threshold = None if threshold is None else float(threshold)

    def describe(self) -> str:
        return f"openai {self.config.get('type')} grader {self.grader_name!r}"

    def result(self, score: float, **details: Any) -> Outcome:
        """An ok outcome carrying ``passed`` when the grader has a pass threshold."""
        if self.pass_threshold is not None:
            details["passed"] = score >= self.pass_threshold
        return Outcome.ok(score, grader=self.grader_name, **details)


class StringCheck(OpenAIGrader):
    """``string_check``: ``eq``, ``ne`` (the guide's text also says ``neq``: accepted as the
    same), ``like`` (input contains reference), ``ilike`` (case-insensitive contains); 1.0 or
    0.0."""

    OPERATIONS = ("eq", "ne", "neq", "like", "ilike")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        _require(config, "input", "reference", "operation")
        if config["operation"] not in self.OPERATIONS:
            raise ValueError(f"string_check operation must be one of {self.OPERATIONS}, got "
                             f"{config['operation']!r}")
        self.operation = "ne" if config["operation"] == "neq" else config["operation"]
        check_templates(config["input"], f"grader {self.grader_name!r} input")
        check_templates(config["reference"], f"grader {self.grader_name!r} reference")

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        out = []
        for s in samples:
            try:
                got, ref = render(self.config["input"], s), render(self.config["reference"], s)
            except TemplateError as exc:
                out.append(Outcome.fail(exc.status, str(exc)))
                continue
            if self.operation == "eq":
                hit = got == ref
            elif self.operation == "ne":
                hit = got != ref
            elif self.operation == "like":
                hit = ref in got
            else:
                hit = ref.casefold() in got.casefold()
            out.append(self.result(1.0 if hit else 0.0))
        return out


class TextSimilarity(OpenAIGrader):
    """``text_similarity``: ``fuzzy_match`` (rapidfuzz ratio), ``bleu``, ``gleu``, ``meteor``
    (NLTK; needs its WordNet data), ``cosine`` (sentence embeddings: the offline MiniLM model by
    default, where OpenAI uses its embedding API), ``rouge_1`` ... ``rouge_5``, ``rouge_l``."""

    METRICS = ("fuzzy_match", "bleu", "gleu", "meteor", "cosine", "rouge_1", "rouge_2",
               "rouge_3", "rouge_4", "rouge_5", "rouge_l")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        _require(config, "input", "reference", "evaluation_metric")
        metric = config["evaluation_metric"]
        if metric not in self.METRICS:
            raise ValueError(f"text_similarity evaluation_metric must be one of {self.METRICS}, "
                             f"got {metric!r}")
        self.metric = metric
        check_templates(config["input"], f"grader {self.grader_name!r} input")
        check_templates(config["reference"], f"grader {self.grader_name!r} reference")
        self.inner: Reward | None = None
        if metric == "bleu":
            from rewardlab.verifiers.text_similarity import Bleu

            self.inner = Bleu(isolation="inline")
        elif metric.startswith("rouge_"):
            from rewardlab.verifiers.text_similarity import Rouge

            suffix = metric.split("_")[1]
            self.inner = Rouge(rouge_type="rougeL" if suffix == "l" else f"rouge{suffix}",
                               isolation="inline")
        elif metric == "cosine":
            from rewardlab.verifiers.text_similarity import EmbeddingSimilarity

            self.inner = EmbeddingSimilarity()

    def _pairwise(self, got: str, ref: str) -> float:
        if self.metric == "fuzzy_match":
            from rapidfuzz import fuzz

            return fuzz.ratio(got, ref) / 100.0
        if self.metric == "gleu":
            from nltk.translate.gleu_score import sentence_gleu

            return float(sentence_gleu([ref.split()], got.split()))
        from nltk.translate.meteor_score import meteor_score

        try:
            return float(meteor_score([ref.split()], got.split()))
        except LookupError as exc:
            raise RuntimeError("meteor needs NLTK's WordNet data: python -m nltk.downloader "
                               "wordnet") from exc

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        out: list[Outcome | None] = [None] * len(samples)
        pairs: list[tuple[int, str, str]] = []
        for i, s in enumerate(samples):
            try:
                pairs.append((i, render(self.config["input"], s),
                              render(self.config["reference"], s)))
            except TemplateError as exc:
                out[i] = Outcome.fail(exc.status, str(exc))
        if self.inner is not None:
            scored = await self.inner.ascore([Sample(response=got, reference=ref)
                                              for _, got, ref in pairs])
            for (i, _, _), o in zip(pairs, scored, strict=True):
                out[i] = self.result(o.score, metric=self.metric) if o.is_ok else o
        else:
            for i, got, ref in pairs:
                try:
                    out[i] = self.result(self._pairwise(got, ref), metric=self.metric)
                except RuntimeError as exc:
                    out[i] = Outcome.fail(Status.ERROR, str(exc))
        return out  # type: ignore[return-value]


class PythonGrader(OpenAIGrader):
    """``python``: ``grade(sample, item) -> float`` run inside rewardlab's code sandbox.

    Each call runs in a fresh sandboxed process (bubblewrap: no network, read-only system, no
    project files) with OpenAI's limits as defaults: 2 minutes, 2 GB of memory.

    Args:
        config: The grader JSON.
        timeout: Wall-clock limit per call, seconds.
        isolation: Sandbox isolation (``auto``, ``bwrap`` or ``process``).
        allow_weaker: Allow process isolation when bubblewrap is unavailable.
    """

    def __init__(self, config: Mapping[str, Any], timeout: float = 120.0,
                 isolation: str = "auto", allow_weaker: bool = False) -> None:
        super().__init__(config)
        _require(config, "source")
        source = config["source"]
        if not isinstance(source, str) or not source.strip():
            raise ValueError("python grader 'source' must be non-empty Python source")
        if len(source.encode()) > MAX_PYTHON_SOURCE_BYTES:
            raise ValueError(f"python grader source is larger than {MAX_PYTHON_SOURCE_BYTES} "
                             "bytes")
        try:
            compile(source, f"<grader {self.grader_name}>", "exec")  # syntax only, never run
        except SyntaxError as exc:
            raise ValueError(f"python grader source does not parse: {exc}") from None
        self.source, self.timeout = source, float(timeout)
        self.isolation, self.allow_weaker = isolation, allow_weaker
        try:
            from rewardlab.engine import sandbox  # noqa: F401
        except ImportError as exc:  # pragma: no cover - the sandbox ships with rewardlab
            raise ValueError("python graders need rewardlab's code sandbox "
                             "(rewardlab.engine.sandbox)") from exc

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        import asyncio

        from rewardlab.engine.sandbox import Limits, shared_pool

        pool = shared_pool(None, self.isolation, self.allow_weaker)  # type: ignore[arg-type]
        limits = Limits(cpu_s=self.timeout, memory_mb=2048)
        return list(await asyncio.gather(*(self._one(pool, limits, s) for s in samples)))

    async def _one(self, pool: Any, limits: Any, sample: Sample) -> Outcome:
        result = await pool.arun("call", self.source, fn_name="grade",
                                 calls=[[sample_of(sample), item_of(sample)]],
                                 timeout=self.timeout, limits=limits)
        if result.timed_out:
            return Outcome.fail(Status.TIMEOUT, f"python grader timed out after {self.timeout}s")
        ends = [e for e in result.events if e.get("event") == "end" and e.get("test") == 0]
        if len(ends) != 1 or result.forged_events:
            why = result.killed or result.stderr[-300:] or "no result"
            return Outcome.fail(Status.ERROR, f"python grader failed: {why}",
                                isolation=result.isolation)
        value = ends[0].get("value")
        if "error" in ends[0]:
            return Outcome.fail(Status.ERROR, f"grade() raised: {ends[0]['error']}"[:500],
                                isolation=result.isolation)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
                or value in (float("inf"), float("-inf")):
            return Outcome.fail(Status.ERROR, f"grade() must return a finite number, got "
                                f"{value!r}"[:200], isolation=result.isolation)
        return self.result(float(value), isolation=result.isolation)


class MultiGrader(OpenAIGrader):
    """``multi``: several graders combined by the ``calculate_output`` formula.

    ``graders`` is a mapping ``{variable: grader}`` (the guide's form), a single grader (the SDK
    types' form) or a list of graders; without a mapping, each grader's ``name`` is its variable.
    A multi grader inside a multi grader is rejected, as the guide says.
    """

    def __init__(self, config: Mapping[str, Any], **options: Any) -> None:
        super().__init__(config)
        _require(config, "graders", "calculate_output")
        graders = _named_graders(config["graders"])
        for key, sub in graders.items():
            if isinstance(sub, Mapping) and sub.get("type") == "multi":
                raise ValueError(f"multi grader {self.grader_name!r}: grader {key!r} is a multi "
                                 "grader; OpenAI does not allow nesting one inside another")
        self.children = {k: grader_from_openai(v, **options) for k, v in graders.items()}
        try:
            self.formula = Formula(config["calculate_output"], self.children)
        except FormulaError as exc:
            raise ValueError(f"multi grader {self.grader_name!r}: {exc}") from None

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        used = {k: v for k, v in self.children.items() if k in self.formula.names}
        per_child = await score_children(used, samples) if used else {}
        out = []
        for i in range(len(samples)):
            parts = {k: r[i] for k, r in per_child.items()}
            failed = next(((k, o) for k, o in parts.items() if not o.is_ok), None)
            components = {k: o.score for k, o in parts.items()}
            details = component_details(parts)
            if failed:
                out.append(Outcome.fail(failed[1].status, f"grader {failed[0]!r} failed: "
                                        f"{failed[1].reason}"[:500], **details))
                continue
            try:
                value = self.formula.evaluate(components)  # type: ignore[arg-type]
            except FormulaError as exc:
                out.append(Outcome.fail(Status.ERROR, str(exc), **details))
                continue
            out.append(self.result(value, **details))
        return out


def _named_graders(graders: Any) -> dict[str, Any]:
    if isinstance(graders, Mapping) and "type" in graders and not all(
            isinstance(v, Mapping) for v in graders.values()):
        graders = [graders]  # one grader object (the SDK's MultiGrader.graders type)
    if isinstance(graders, Mapping):
        named = {str(k): v for k, v in graders.items()}
    elif isinstance(graders, list):
        named = {}
        for sub in graders:
            name = sub.get("name") if isinstance(sub, Mapping) else None
            if not isinstance(name, str) or not name:
                raise ValueError("multi grader: each grader of a 'graders' list needs a 'name' "
                                 "(the variable calculate_output refers to)")
            if name in named:
                raise ValueError(f"multi grader: two graders are named {name!r}")
            named[name] = sub
    else:
        raise ValueError("multi grader 'graders' must be a mapping name -> grader, a grader or "
                         "a list of graders")
    if not named:
        raise ValueError("multi grader 'graders' is empty")
    return named


class ModelGrader(OpenAIGrader):
    """Base of ``score_model`` and ``label_model``: templated messages to an LLM backend,
    answered as a JSON object (the backend's strongest structured-output mode).

    Args:
        config: The grader JSON.
        backend: A backend spec (``{"type": "openai", "base_url": ..., "model": ...}``) or a
            built :class:`~rewardlab.backends.llm.LLMBackend`; default: the OpenAI API with the
            grader's ``model``.
    """

    def __init__(self, config: Mapping[str, Any], backend: Any = None) -> None:
        super().__init__(config)
        _require(config, "input", "model")
        messages = config["input"]
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, Mapping) and "content" in m for m in messages):
            raise ValueError(f"{config['type']} grader 'input' must be a list of messages")
        for n, message in enumerate(messages):
            content = message["content"]
            parts = content if isinstance(content, list) else [content]
            for part in parts:
                text = part.get("text", "") if isinstance(part, Mapping) else part
                check_templates(text, f"grader {self.grader_name!r} input[{n}]")
        try:
            from rewardlab.backends.llm import build_backend
        except ImportError as exc:  # pragma: no cover - ships with rewardlab
            raise ValueError(f"{config['type']} graders need rewardlab's LLM backends") from exc
        spec = backend if backend is not None else {"type": "openai", "model": config["model"]}
        self.backend = build_backend(spec)
        params = config.get("sampling_params") or {}
        self.temperature = params.get("temperature")
        self.max_tokens = params.get("max_completions_tokens") or params.get("max_tokens")

    def messages(self, sample: Sample) -> list[dict[str, str]]:
        """The grader's input messages with their templates filled."""
        out = []
        for message in self.config["input"]:
            content = message["content"]
            if isinstance(content, list):  # content parts: keep and fill the text ones
                content = "".join(render(p.get("text", ""), sample) for p in content
                                  if isinstance(p, Mapping))
            else:
                content = render(content, sample)
            out.append({"role": message.get("role", "user"), "content": content})
        return out

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the verdict object."""
        raise NotImplementedError

    def verdict(self, data: Mapping[str, Any]) -> Outcome:
        """Turn the model's JSON verdict into an outcome."""
        raise NotImplementedError

    async def score_batch(self, samples: list[Sample]) -> list[Outcome]:
        import asyncio

        return list(await asyncio.gather(*(self._one(s) for s in samples)))

    async def _one(self, sample: Sample) -> Outcome:
        from rewardlab.backends.llm import LLMError, StructuredOutputError

        try:
            messages = self.messages(sample)
        except TemplateError as exc:
            return Outcome.fail(exc.status, str(exc))
        try:
            answer = await self.backend.structured(messages, self.schema(),
                                                   max_tokens=self.max_tokens,
                                                   temperature=self.temperature)
        except StructuredOutputError as exc:
            return Outcome.fail(Status.UNPARSEABLE, f"the model's verdict is unreadable: {exc}",
                                raw=exc.text[-500:])
        except LLMError as exc:
            return Outcome.fail(Status.ERROR, f"model call failed: {exc}"[:500])
        return self.verdict(answer.data)

    def close(self) -> None:
        from rewardlab.reward import run_sync

        run_sync(self.backend.aclose())


class ScoreModel(ModelGrader):
    """``score_model``: the model answers ``{"result": number}``; a number outside ``range``
    (default [0, 1]) is truncated to it, as the guide says (``details["clipped_from"]``). A
    verdict without a number is ``unparseable`` (OpenAI scores it 0; rewardlab keeps the failure
    typed, ``on_failure: zero`` in a combinator gives OpenAI's 0)."""

    def __init__(self, config: Mapping[str, Any], backend: Any = None) -> None:
        super().__init__(config, backend)
        low, high = config.get("range") or (0.0, 1.0)
        if not float(low) < float(high):
            raise ValueError(f"score_model range needs low < high, got {config.get('range')}")
        self.low, self.high = float(low), float(high)

    def schema(self) -> dict[str, Any]:
        # no bounds in the schema: OpenAI asks for a bare number and truncates it to the range
        return {"type": "object", "required": ["result"],
                "properties": {"result": {"type": "number"}}}

    def verdict(self, data: Mapping[str, Any]) -> Outcome:
        value = data.get("result")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return Outcome.fail(Status.UNPARSEABLE, f"score {value!r} is not a number"[:200])
        clipped = min(self.high, max(self.low, float(value)))
        if clipped != value:
            return self.result(clipped, clipped_from=float(value))
        return self.result(clipped)


class LabelModel(ModelGrader):
    """``label_model``: the model picks one of ``labels``; 1.0 when it is in
    ``passing_labels``, else 0.0 (the label is in ``details``)."""

    def __init__(self, config: Mapping[str, Any], backend: Any = None) -> None:
        super().__init__(config, backend)
        _require(config, "labels", "passing_labels")
        labels, passing = config["labels"], config["passing_labels"]
        if not isinstance(labels, list) or not labels or not all(
                isinstance(x, str) for x in labels):
            raise ValueError("label_model 'labels' must be a non-empty list of strings")
        unknown = sorted(set(passing) - set(labels))
        if unknown:
            raise ValueError(f"label_model passing_labels {unknown} are not in labels")
        self.labels, self.passing = list(labels), set(passing)

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "required": ["result"],
                "properties": {"result": {"type": "string", "enum": self.labels}}}

    def verdict(self, data: Mapping[str, Any]) -> Outcome:
        label = data.get("result")
        if label not in self.labels:
            return Outcome.fail(Status.UNPARSEABLE, f"label {label!r} is not one of "
                                f"{self.labels}"[:200])
        return self.result(1.0 if label in self.passing else 0.0, label=label)


def grader_from_openai(config: Mapping[str, Any], **options: Any) -> Reward:
    """Build a reward from one OpenAI grader JSON object.

    Args:
        config: The grader (``type``, ``name`` and its type's fields).
        **options: ``backend`` for model graders (a backend spec or object); sandbox options
            for ``python`` graders (``timeout``, ``isolation``, ``allow_weaker``). Passed down
            through ``multi``.

    Raises:
        ValueError: an unknown type, a missing or bad field, or an unsafe formula.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a grader is a JSON object, got {type(config).__name__}")
    kind = config.get("type")
    if kind == "string_check":
        return StringCheck(config)
    if kind == "text_similarity":
        return TextSimilarity(config)
    if kind == "python":
        return PythonGrader(config, **{k: v for k, v in options.items() if k != "backend"})
    if kind == "multi":
        return MultiGrader(config, **options)
    if kind == "score_model":
        return ScoreModel(config, options.get("backend"))
    if kind == "label_model":
        return LabelModel(config, options.get("backend"))
    raise ValueError(f"unknown grader type {kind!r}; supported: {', '.join(GRADER_TYPES)}")


def load_openai_grader(path: str | Path, **options: Any) -> Reward:
    """Read a grader JSON file and build it (see :func:`grader_from_openai`)."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read grader file {path}: {exc}") from None
    return grader_from_openai(config, **options)


@register("openai_grader")
def openai_grader(
    grader: dict[str, Any] | None = None,
    path: str | None = None,
    backend: dict[str, Any] | None = None,
    timeout: float = 120.0,
    isolation: str = "auto",
    allow_weaker: bool = False,
) -> Reward:
    """An OpenAI grader (RFT/Evals JSON) as a reward: inline ``grader`` or a JSON file ``path``.

    Args:
        grader: The grader JSON object.
        path: A file holding the grader JSON.
        backend: LLM backend spec for ``score_model``/``label_model`` graders, e.g.
            ``{type: openai, base_url: http://127.0.0.1:8000/v1, model: judge}`` (default: the
            OpenAI API with the grader's ``model``).
        timeout: Per-call limit of ``python`` graders, seconds.
        isolation: Sandbox isolation of ``python`` graders.
        allow_weaker: Let ``python`` graders run with process isolation without bubblewrap.
    """
    if (grader is None) == (path is None):
        raise ValueError("give exactly one of 'grader' (inline JSON) or 'path' (a JSON file)")
    options = {"timeout": timeout, "isolation": isolation, "allow_weaker": allow_weaker,
               "backend": backend}
    if path is not None:
        return load_openai_grader(path, **options)
    return grader_from_openai(grader, **options)  # type: ignore[arg-type]
