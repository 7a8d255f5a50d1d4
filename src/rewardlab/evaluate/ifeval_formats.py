"""IFEval and IFBench data for ``rewardlab eval``, and their official metrics.

Records are IFEval's (and IFBench's) input rows, ``key``, ``prompt``, ``instruction_id_list``
and ``kwargs``, joined with the response to score (``response``, or ``responses`` for several
samples of one prompt). Records that also carry the official checker's verdicts (``strict``
and ``loose``: one bool per instruction) are compared with the reward's verdicts.

The summary's ``instruction_following`` block holds the official metrics: prompt-level and
instruction-level accuracy, strict and loose, computed from the ``ifeval`` reward's
per-instruction verdicts. A response the reward could not score (``bad_reference``,
``timeout``, ``error``) counts as following none of its instructions and is counted in
``unscored``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.loaders import DataError, _field, _item_id, record_format
from rewardlab.types import Outcome


def _verdicts(record: Mapping[str, Any], name: str, n: int) -> list[bool] | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, Sequence) or len(value) != n or not all(
            isinstance(v, bool) for v in value):
        raise DataError(f"{name!r} must hold one true/false verdict per instruction")
    return list(value)


def _instruction_item(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str],
                      subset: str) -> EvalItem:
    prompt = _field(record, "prompt", fields)
    ids = _field(record, "instruction_id_list", fields)
    kwargs = _field(record, "kwargs", fields, None)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise DataError("instruction_id_list must be a list of instruction ids")
    if kwargs is None:
        kwargs = [{} for _ in ids]
    responses = _field(record, "responses", fields, None)
    if responses is None:
        responses = [_field(record, "response", fields)]
    if not isinstance(responses, list) or not responses or not all(
            isinstance(r, str) for r in responses):
        raise DataError("response must be text (or responses a non-empty list of texts)")
    strict = _verdicts(record, fields.get("strict", "strict"), len(ids))
    loose = _verdicts(record, fields.get("loose", "loose"), len(ids))
    label = int(all(strict)) if strict is not None else 0
    official = {"strict": strict, "loose": loose} if strict is not None else None
    return EvalItem(
        id=_item_id(record, fallback_id, "key", "id"), kind="instructions",
        responses=tuple(responses), labels=(label,) * len(responses), prompt=prompt,
        subset=subset,
        reference={"instruction_id_list": list(ids), "kwargs": list(kwargs)},
        metadata={"official": official} if official else {})


@record_format("ifeval", "IFEval: key, prompt, instruction_id_list, kwargs, response (or "
               "responses); optional official verdicts strict, loose")
def _ifeval(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    return _instruction_item(record, fallback_id, fields, "ifeval")


@record_format("ifbench", "IFBench: key, prompt, instruction_id_list, kwargs, response (or "
               "responses); optional official verdicts strict, loose")
def _ifbench(record: Mapping[str, Any], fallback_id: str, fields: Mapping[str, str]) -> EvalItem:
    return _instruction_item(record, fallback_id, fields, "ifbench")


def instruction_row_fields(item: EvalItem, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """What a row keeps for the metrics: the instruction ids, each response's verdicts (from
    the ``ifeval`` reward's details; ``None`` when the reward gave none) and the official
    verdicts the data carries."""
    ids = list(item.reference["instruction_id_list"])
    verdicts = []
    for outcome in outcomes:
        found = outcome.details.get("instructions") if outcome.is_ok else None
        if isinstance(found, list) and len(found) == len(ids):
            verdicts.append({"strict": [bool(v["strict"]) for v in found],
                             "loose": [bool(v["loose"]) for v in found]})
        else:
            verdicts.append(None)
    row: dict[str, Any] = {"instruction_ids": ids, "verdicts": verdicts}
    if item.metadata.get("official"):
        row["official"] = item.metadata["official"]
    return row


def _accuracy(hits: int, total: int) -> float | None:
    return hits / total if total else None


def instruction_following_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """IFEval's official metrics over ``instructions`` rows: prompt-level and instruction-level
    accuracy in strict and loose mode, per instruction id, and agreement with official
    verdicts when the data carries them."""
    prompts = instructions = unscored = 0
    prompt_hits = {"strict": 0, "loose": 0}
    inst_hits = {"strict": 0, "loose": 0}
    by_id: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "strict": 0, "loose": 0})
    agree = {"strict": 0, "loose": 0}
    compared = 0
    for row in rows:
        ids = row.get("instruction_ids") or []
        official = row.get("official")
        for verdict in row.get("verdicts") or []:
            prompts += 1
            instructions += len(ids)
            if verdict is None:
                unscored += 1
                for iid in ids:
                    by_id[iid]["n"] += 1
                continue
            for mode in ("strict", "loose"):
                prompt_hits[mode] += all(verdict[mode])
                inst_hits[mode] += sum(verdict[mode])
            for k, iid in enumerate(ids):
                by_id[iid]["n"] += 1
                by_id[iid]["strict"] += verdict["strict"][k]
                by_id[iid]["loose"] += verdict["loose"][k]
            if official:
                compared += len(ids)
                for mode in ("strict", "loose"):
                    if official.get(mode) is not None:
                        agree[mode] += sum(a == b for a, b in zip(verdict[mode], official[mode],
                                                                  strict=True))
    out: dict[str, Any] = {
        "responses": prompts, "instructions": instructions, "unscored": unscored,
        "prompt_level_strict_acc": _accuracy(prompt_hits["strict"], prompts),
        "prompt_level_loose_acc": _accuracy(prompt_hits["loose"], prompts),
        "inst_level_strict_acc": _accuracy(inst_hits["strict"], instructions),
        "inst_level_loose_acc": _accuracy(inst_hits["loose"], instructions),
        "by_instruction": {iid: {"n": v["n"], "strict": v["strict"] / v["n"],
                                 "loose": v["loose"] / v["n"]}
                           for iid, v in sorted(by_id.items()) if v["n"]},
    }
    if compared:
        out["agreement_with_official"] = {"instructions": compared,
                                          "strict": agree["strict"] / compared,
                                          "loose": agree["loose"] / compared}
    return out
