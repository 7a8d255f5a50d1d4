"""Read the instructions a response must follow from the reference shapes data sets use.

Accepted shapes (a JSON string or a Python-literal string of any of them works too, since
RLVR data sets store ``ground_truth`` as text):

* IFEval's record: ``{"instruction_id_list": [...], "kwargs": [{...}, ...]}``.
* IFBench / open-instruct IF-RLVR: ``{"instruction_id": [...], "kwargs": [...]}``, or a list
  holding such dicts (``ground_truth`` of IFBench's training data), ``instruction_id`` may be a
  single id with one kwargs dict.
* A list of single instructions: ``[{"id": "punctuation:no_comma", "kwargs": {}}, ...]``
  (``instruction_id`` is accepted for ``id``).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.verifiers.instructions.constraints import BadInstruction, BoundCheck, bind

Instruction = tuple[str, dict[str, Any]]


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise BadInstruction("the reference is text that is neither JSON nor a Python literal"
                             ) from None


def _kwargs_list(value: Any, n: int, where: str) -> list[dict[str, Any]]:
    if value is None:
        return [{} for _ in range(n)]
    if isinstance(value, Mapping) and n == 1:
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise BadInstruction(f"{where}: kwargs must be a list with one object per instruction")
    if len(value) != n:
        raise BadInstruction(f"{where}: {n} instruction ids but {len(value)} kwargs entries")
    out = []
    for i, kw in enumerate(value):
        if kw is None:
            kw = {}
        if isinstance(kw, str):
            kw = _decode(kw) if kw.strip() else {}
        if not isinstance(kw, Mapping):
            raise BadInstruction(f"{where}: kwargs[{i}] must be an object")
        out.append(dict(kw))
    return out


def _from_mapping(ref: Mapping[str, Any], where: str) -> list[Instruction]:
    if "func_name" in ref:
        # Tulu 3's RLVR-IFeval ground truth names open-instruct's own verifier functions, whose
        # rules differ from IFEval's (exact keyword counts, "around" quantifiers, "* * *"
        # dividers); mapping them onto IFEval ids would silently change the verdicts.
        raise BadInstruction(f"{where}: open-instruct func_name references (Tulu 3 RLVR-IFeval) "
                             "are not supported: their rules differ from IFEval's")
    for key in ("instruction_id_list", "instruction_id", "id"):
        if key in ref:
            ids = ref[key]
            break
    else:
        raise BadInstruction(f"{where}: no instruction_id_list, instruction_id or id field")
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, Sequence) or not all(isinstance(i, str) for i in ids):
        raise BadInstruction(f"{where}: instruction ids must be a list of strings")
    return list(zip(ids, _kwargs_list(ref.get("kwargs"), len(ids), where), strict=True))


def parse_instructions(reference: Any) -> list[Instruction]:
    """The ``(instruction id, kwargs)`` pairs in a reference, in order.

    Raises:
        BadInstruction: the reference has none of the shapes above.
    """
    if isinstance(reference, str):
        reference = _decode(reference)
    if isinstance(reference, Mapping):
        found = _from_mapping(reference, "reference")
    elif isinstance(reference, Sequence) and reference and all(
            isinstance(r, Mapping) for r in reference):
        found = []
        for i, part in enumerate(reference):
            found.extend(_from_mapping(part, f"reference[{i}]"))
    else:
        raise BadInstruction("the reference must be an object with instruction_id_list and "
                             f"kwargs (or a list of instructions), got {type(reference).__name__}")
    if not found:
        raise BadInstruction("the reference lists no instructions")
    return found


def bind_all(instructions: Sequence[Instruction]) -> list[BoundCheck]:
    """Validate every instruction; the first problem raises :class:`BadInstruction`."""
    return [bind(i, kw) for i, kw in instructions]
