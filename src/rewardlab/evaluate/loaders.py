"""Benchmark data in its native formats -> :class:`EvalItem` streams.

Sources are local files (``.jsonl``, ``.json`` arrays, folders of them, ``.parquet``) or Hugging
Face hub names loaded through ``datasets`` when the hub is reachable. Each format is a small
function from one record to one item; :func:`load_items` picks it by name.

Formats: ``rewardbench`` (v1), ``rewardbench2``, ``rmbench``, ``rmb_pairwise``, ``rmb_bon``,
``judgebench``, ``llmbar``, ``pandalm``, ``hh_rlhf``, ``preference`` (generic
prompt/chosen/rejected), ``responses`` (generic prompt/responses/labels) and ``qwen_math``
(Qwen2.5-Math evaluation outputs: question, sampled responses, correctness, RM scores).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rewardlab.evaluate.items import EvalItem
from rewardlab.records import get_path


class DataError(ValueError):
    """A data source that cannot be read as the requested format; says which record and field."""


RecordFn = Callable[[Mapping[str, Any], str, Mapping[str, str]], EvalItem]
_FORMATS: dict[str, RecordFn] = {}
_FORMAT_DOCS: dict[str, str] = {}


def record_format(name: str, doc: str) -> Callable[[RecordFn], RecordFn]:
    """Register a record -> item converter under a format name."""

    def decorate(fn: RecordFn) -> RecordFn:
        _FORMATS[name] = fn
        _FORMAT_DOCS[name] = doc
        return fn

    return decorate


def available_formats() -> dict[str, str]:
    """Format names with a one-line description of the fields each expects."""
    return dict(sorted(_FORMAT_DOCS.items()))


def _field(record: Mapping[str, Any], name: str, fields: Mapping[str, str],
           default: Any = ...) -> Any:
    path = fields.get(name, name)
    value = get_path(record, path, None)
    if value is None:
        if default is ...:
            raise KeyError(path)
        return default
    return value


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        # Some published files lost the quotes around short answers ("True" became true).
        return str(value)
    if isinstance(value, Mapping) and isinstance(value.get("answer"), str):
        return value["answer"]
    if isinstance(value, Sequence) and value and isinstance(value[-1], Mapping) \
            and "content" in value[-1]:
        return str(value[-1]["content"])  # a conversation: its last (assistant) turn
    raise DataError(f"field {what!r} must be text, got {type(value).__name__}")


def _messages(value: Any) -> list[dict[str, str]]:
    return [{"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
            for m in value]


def _prompt(value: Any) -> str | list[dict[str, str]] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(m, Mapping) for m in value):
        return _messages(value)
    raise DataError(f"a prompt must be text or chat messages, got {type(value).__name__}")


def _item_id(record: Mapping[str, Any], fallback: str, *keys: str) -> str:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return str(value)
    return fallback


# --- HH-RLHF transcripts ---------------------------------------------------------------------

_TURN = re.compile(r"\n\n(Human|Assistant): ?")


def parse_transcript(text: str) -> list[dict[str, str]]:
    """Split an HH-RLHF ``\\n\\nHuman: ... \\n\\nAssistant: ...`` transcript into messages."""
    if not text.startswith("\n\n"):
        text = "\n\n" + text
    parts = _TURN.split(text)
    if len(parts) < 3 or parts[0].strip():
        raise DataError("not an HH-RLHF transcript (expected '\\n\\nHuman: ...' turns)")
    roles = {"Human": "user", "Assistant": "assistant"}
    return [{"role": roles[parts[i]], "content": parts[i + 1].strip()}
            for i in range(1, len(parts) - 1, 2)]


@record_format("hh_rlhf",
               "chosen, rejected: whole '\\n\\nHuman: .. \\n\\nAssistant: ..' transcripts")
def _hh_rlhf(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    chosen = parse_transcript(_text(_field(record, "chosen", fields), "chosen"))
    rejected = parse_transcript(_text(_field(record, "rejected", fields), "rejected"))
    if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        raise DataError("the last turn of both transcripts must be the assistant's")
    prompt = chosen[:-1] or [{"role": "user", "content": ""}]
    return EvalItem(id=_item_id(record, fallback_id, "id"), kind="pairwise",
                    responses=(chosen[-1]["content"], rejected[-1]["content"]), labels=(1, 0),
                    prompt=prompt, subset=str(record.get("subset", "hh_rlhf")))


# --- pairwise formats ------------------------------------------------------------------------

@record_format("preference",
               "prompt, chosen, rejected (text or chat messages); optional subset, id")
def _preference(record: Mapping[str, Any], fallback_id: str,
                fields: Mapping[str, str]) -> EvalItem:
    chosen, rejected = _field(record, "chosen", fields), _field(record, "rejected", fields)
    prompt = _field(record, "prompt", fields, None)
    if prompt is None and isinstance(chosen, Sequence) and not isinstance(chosen, str):
        prompt = list(chosen[:-1])  # conversations sharing their earlier turns
    return EvalItem(id=_item_id(record, fallback_id, fields.get("id", "id")), kind="pairwise",
                    responses=(_text(chosen, "chosen"), _text(rejected, "rejected")),
                    labels=(1, 0), prompt=_prompt(prompt),
                    subset=str(_field(record, "subset", fields, "default")))


@record_format("rewardbench", "RewardBench v1: prompt, chosen, rejected, subset, id")
def _rewardbench(record: Mapping[str, Any], fallback_id: str,
                 fields: Mapping[str, str]) -> EvalItem:
    return _preference(record, fallback_id, fields)


@record_format("llmbar", "LLMBar: input, output_1, output_2, label (1 or 2)")
def _llmbar(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    label = int(_field(record, "label", fields))
    if label not in (1, 2):
        raise DataError(f"field 'label' must be 1 or 2, got {label}")
    return EvalItem(id=_item_id(record, fallback_id, "id"), kind="pairwise",
                    responses=(_text(_field(record, "output_1", fields), "output_1"),
                               _text(_field(record, "output_2", fields), "output_2")),
                    labels=(1, 0) if label == 1 else (0, 1),
                    prompt=str(_field(record, "input", fields)),
                    subset=str(_field(record, "subset", fields, "llmbar")))


@record_format("judgebench",
               "JudgeBench: question, response_A, response_B, label ('A>B'|'B>A'), source")
def _judgebench(record: Mapping[str, Any], fallback_id: str,
                fields: Mapping[str, str]) -> EvalItem:
    label = str(_field(record, "label", fields)).replace(" ", "")
    if label not in ("A>B", "B>A"):
        raise DataError(f"field 'label' must be 'A>B' or 'B>A', got {label!r}")
    source = str(_field(record, "source", fields, "judgebench"))
    return EvalItem(id=_item_id(record, fallback_id, "pair_id", "id"), kind="pairwise",
                    responses=(_text(_field(record, "response_A", fields), "response_A"),
                               _text(_field(record, "response_B", fields), "response_B")),
                    labels=(1, 0) if label == "A>B" else (0, 1),
                    prompt=str(_field(record, "question", fields)),
                    subset=source.split("-", 1)[0], metadata={"source": source})


@record_format("rmb_pairwise", "RMB pairwise: conversation_input, chosen{answer}, reject{answer}, "
                               "category_path, pair_uid")
def _rmb_pairwise(record: Mapping[str, Any], fallback_id: str,
                  fields: Mapping[str, str]) -> EvalItem:
    return EvalItem(id=_item_id(record, fallback_id, "pair_uid", "id"), kind="pairwise",
                    responses=(_text(_field(record, "chosen", fields), "chosen"),
                               _text(_field(record, "reject", fields), "reject")),
                    labels=(1, 0), prompt=_prompt(_field(record, "conversation_input", fields)),
                    subset=_rmb_subset(record))


def _rmb_subset(record: Mapping[str, Any]) -> str:
    path = str(record.get("category_path", "rmb"))
    parts = [p for p in path.split("/") if p and not p.endswith("_set")]
    return "/".join(parts[:2]) or "rmb"


@record_format("rmb_bon", "RMB best-of-N: conversation_input, bon_best{answer}, "
                          "loser_list[{answer}], category_path, bon_uid")
def _rmb_bon(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    losers = _field(record, "loser_list", fields)
    if not isinstance(losers, Sequence) or not losers:
        raise DataError("field 'loser_list' must be a non-empty list")
    responses = (_text(_field(record, "bon_best", fields), "bon_best"),
                 *(_text(x, "loser_list") for x in losers))
    return EvalItem(id=_item_id(record, fallback_id, "bon_uid", "id"), kind="best_of_n",
                    responses=responses, labels=(1,) + (0,) * len(losers),
                    prompt=_prompt(_field(record, "conversation_input", fields)),
                    subset=_rmb_subset(record), metadata={"tie_rule": "strict"})


# --- multi-response formats ------------------------------------------------------------------

@record_format("rewardbench2", "RewardBench 2: prompt, chosen[list], rejected[list], num_correct, "
                               "subset, id")
def _rewardbench2(record: Mapping[str, Any], fallback_id: str,
                  fields: Mapping[str, str]) -> EvalItem:
    chosen, rejected = _field(record, "chosen", fields), _field(record, "rejected", fields)
    if isinstance(chosen, str):
        chosen = [chosen]
    if isinstance(rejected, str):
        rejected = [rejected]
    if not chosen or not rejected:
        raise DataError("fields 'chosen' and 'rejected' must be non-empty lists")
    return EvalItem(id=_item_id(record, fallback_id, "id"), kind="best_of_n",
                    responses=tuple(_text(x, "chosen") for x in chosen)
                    + tuple(_text(x, "rejected") for x in rejected),
                    labels=(1,) * len(chosen) + (0,) * len(rejected),
                    prompt=_prompt(_field(record, "prompt", fields)),
                    subset=str(_field(record, "subset", fields, "default")),
                    metadata={"tie_rule": "rewardbench2"})


@record_format("rmbench", "RM-Bench: prompt, chosen[3], rejected[3] (concise, detailed, markdown), "
                          "domain, id")
def _rmbench(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    chosen, rejected = _field(record, "chosen", fields), _field(record, "rejected", fields)
    if len(chosen) != 3 or len(rejected) != 3:
        raise DataError("RM-Bench items have 3 chosen and 3 rejected style variants")
    return EvalItem(id=_item_id(record, fallback_id, "id"), kind="rmbench",
                    responses=tuple(_text(x, "chosen") for x in chosen)
                    + tuple(_text(x, "rejected") for x in rejected),
                    labels=(1, 1, 1, 0, 0, 0), prompt=_prompt(_field(record, "prompt", fields)),
                    subset=str(_field(record, "domain", fields, "default")))


def _number(value: Any) -> float:
    while isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            raise DataError("empty score list")
        value = value[-1]  # step-wise RM scores: the last step scores the whole response
    if isinstance(value, bool):
        return float(value)
    return float(value)


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DataError(f"field {what!r} must be a list") from None
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise DataError(f"field {what!r} must be a list, got {type(value).__name__}")
    return list(value)


@record_format("responses", "prompt, responses[list], labels[list of 0/1 or bool]; optional "
                            "scores (stored RM scores), reference, subset, id")
def _responses(record: Mapping[str, Any], fallback_id: str,
               fields: Mapping[str, str]) -> EvalItem:
    responses = _as_list(_field(record, "responses", fields), fields.get("responses", "responses"))
    labels = _as_list(_field(record, "labels", fields), fields.get("labels", "labels"))
    if len(labels) != len(responses):
        raise DataError(f"{len(labels)} labels for {len(responses)} responses")
    stored = _field(record, "scores", fields, None)
    stored_scores = None
    if stored is not None:
        stored_scores = tuple(_number(s) for s in _as_list(stored, fields.get("scores", "scores")))
    return EvalItem(id=_item_id(record, fallback_id, fields.get("id", "id")), kind="graded",
                    responses=tuple(_text(r, "responses") for r in responses),
                    labels=tuple(int(bool(_number(x))) for x in labels),
                    prompt=_prompt(_field(record, "prompt", fields, None)),
                    subset=str(_field(record, "subset", fields, "default")),
                    stored_scores=stored_scores,
                    reference=_field(record, "reference", fields, None))


_QWEN_FIELDS = {"prompt": "question", "responses": "code", "labels": "score",
                "scores": "pred_score", "reference": "gt", "subset": "level", "id": "idx"}


@record_format("qwen_math", "Qwen2.5-Math eval outputs: question, code[N responses], "
                            "score[N bools], "
                            "pred_score[N RM scores], gt, level, idx")
def _qwen_math(record: Mapping[str, Any], fallback_id: str,
               fields: Mapping[str, str]) -> EvalItem:
    return _responses(record, fallback_id, {**_QWEN_FIELDS, **fields})


@record_format("pandalm", "PandaLM: instruction, input, response1, response2, annotator1..3 "
                          "(0 tie, 1, 2)")
def _pandalm(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    votes = tuple(int(v) for k, v in sorted(record.items())
                  if re.fullmatch(r"annotator\d+", k) and v is not None)
    if not votes:
        raise DataError("no annotator1..N fields")
    majority = majority_vote(votes)
    instruction = str(_field(record, "instruction", fields))
    extra = str(_field(record, "input", fields, "") or "")
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    return EvalItem(id=_item_id(record, fallback_id, "idx", "id"), kind="annotated",
                    responses=(_text(_field(record, "response1", fields), "response1"),
                               _text(_field(record, "response2", fields), "response2")),
                    labels=(int(majority == 1), int(majority == 2)), prompt=prompt,
                    subset=str(_field(record, "subset", fields, "pandalm")), votes=votes,
                    metadata={"app": record.get("motivation_app")})


def majority_vote(votes: Sequence[int]) -> int:
    """The most common vote; a tie between the most common votes counts as a tie (0)."""
    counts = Counter(votes).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return 0
    return counts[0][0]


# --- reading sources -------------------------------------------------------------------------

def _records_from_file(path: Path) -> Iterator[Mapping[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pandas as pd
        except ImportError:
            raise DataError("reading parquet needs pandas and pyarrow") from None
        yield from pd.read_parquet(path).to_dict(orient="records")
        return
    with path.open(encoding="utf-8") as fh:
        first = fh.read(1)
        while first and first.isspace():
            first = fh.read(1)
        fh.seek(0)
        if first == "[" or (suffix == ".json" and first == "{"):
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: invalid JSON: {exc}") from None
            if isinstance(data, Mapping):  # {"data": [...]} or a single record
                lists = [v for v in data.values() if isinstance(v, list)]
                data = lists[0] if len(lists) == 1 else [data]
            yield from data
            return
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{line_no}: invalid JSON: {exc}") from None


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*")
                   if p.is_file() and p.suffix.lower() in (".json", ".jsonl", ".parquet"))
    if not found:
        raise DataError(f"no .json/.jsonl/.parquet files under {path}")
    return found


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub (``HF_ENDPOINT``) accepts a TCP connection right now."""
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True", "YES", "ON"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


DEFAULT_HUB_SPLITS: dict[str, str] = {
    "rewardbench": "filtered", "rewardbench2": "test", "judgebench": "gpt",
}
"""Split used for a hub dataset when none is given (else ``train``)."""


def _hub_records(name: str, split: str | None, config: str | None) -> Iterator[Mapping[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"{name!r} is not a local file; loading hub datasets needs the 'datasets' package "
            "(pip install 'rewardlab[train]')") from None
    if not hub_reachable():
        raise DataError(
            f"{name!r} is not a local file and the Hugging Face hub is not reachable "
            f"({os.environ.get('HF_ENDPOINT', 'https://huggingface.co')}); download the data and "
            "pass its path")
    try:
        ds = datasets.load_dataset(name, config, split=split or "train")
    except Exception as exc:
        raise DataError(f"cannot load hub dataset {name!r}: {type(exc).__name__}: {exc}") from None
    yield from ds


def read_records(source: str | Path, split: str | None = None, config: str | None = None,
                 data_format: str = "auto") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield ``(fallback_id, record)`` from a local file/folder or a hub dataset name."""
    path = Path(source)
    if path.exists():
        for file in _files(path):
            stem = file.stem if path.is_dir() else path.stem
            for i, record in enumerate(_records_from_file(file)):
                yield f"{stem}-{i}", record
        return
    text = str(source)
    if text.endswith((".json", ".jsonl", ".parquet")) or text.startswith((".", "/")) \
            or text.count("/") != 1:
        raise DataError(f"data source not found: {source}")
    split = split or DEFAULT_HUB_SPLITS.get(data_format)
    for i, record in enumerate(_hub_records(text, split, config)):
        yield f"{text.replace('/', '_')}-{i}", record


def detect_format(record: Mapping[str, Any]) -> str:
    """Guess a record's format from its keys (``auto``)."""
    keys = set(record)
    rules = [
        ({"bon_best", "loser_list"}, "rmb_bon"),
        ({"conversation_input", "chosen", "reject"}, "rmb_pairwise"),
        ({"response_A", "response_B", "label"}, "judgebench"),
        ({"output_1", "output_2", "label"}, "llmbar"),
        ({"response1", "response2", "annotator1"}, "pandalm"),
        ({"code", "pred", "score", "question"}, "qwen_math"),
        ({"responses", "labels"}, "responses"),
    ]
    for needed, name in rules:
        if needed <= keys:
            return name
    if {"chosen", "rejected"} <= keys:
        chosen = record["chosen"]
        if isinstance(chosen, list) and all(isinstance(c, str) for c in chosen):
            return "rmbench" if "domain" in keys else "rewardbench2"
        if isinstance(chosen, str) and "\n\nHuman:" in chosen and "prompt" not in keys:
            return "hh_rlhf"
        return "preference"
    raise DataError(f"cannot detect the data format from keys {sorted(keys)}; pass --format")


def load_items(source: str | Path, format: str = "auto", *, fields: Mapping[str, str] | None = None,
               split: str | None = None, config: str | None = None,
               limit: int | None = None) -> Iterator[EvalItem]:
    """Stream :class:`EvalItem` from a source in a named format.

    Args:
        source: A local file or folder, or a Hugging Face dataset name (``org/name``).
        format: A name from :func:`available_formats`, or ``auto`` to detect from the keys.
        fields: Overrides of field names (``{"prompt": "question"}``) for the format.
        split: Hub split (default ``train``).
        config: Hub configuration name.
        limit: Stop after this many items.

    Raises:
        DataError: unknown format, missing source, unreachable hub, or a malformed record (the
            message names the record).
    """
    if format != "auto" and format not in _FORMATS:
        raise DataError(f"unknown format {format!r}; formats: auto, {', '.join(sorted(_FORMATS))}")
    fields = dict(fields or {})
    fn = _FORMATS.get(format)
    records = read_records(source, split, config, format)
    if limit is not None:
        records = itertools.islice(records, max(0, limit))
    for fallback_id, record in records:
        if not isinstance(record, Mapping):
            raise DataError(f"record {fallback_id}: expected a JSON object")
        if fn is None:
            fn = _FORMATS[detect_format(record)]
        try:
            item = fn(record, fallback_id, fields)
        except KeyError as exc:
            raise DataError(f"record {fallback_id}: missing field {exc.args[0]!r}") from None
        except (DataError, ValueError, TypeError) as exc:
            raise DataError(f"record {fallback_id}: {exc}") from None
        yield item


# Formats defined in their own modules register through record_format when imported.
from rewardlab.evaluate import ifeval_formats as _ifeval_formats  # noqa: E402,F401
