"""BFCL's AST verdict for Python function calls, reimplemented rule for rule.

The Berkeley Function Calling Leaderboard (``bfcl-eval``, ``eval_checker/ast_eval``) decides
whether decoded calls match a *possible answer*: per gold call, per parameter, a list of
acceptable values, where ``""`` in the list marks the parameter optional. Its rules, which
this module follows (and ``tests/verifiers/test_tool_call_bfcl.py`` checks against the
installed ``bfcl_eval`` on every case of the simple, multiple, parallel and
parallel-multiple categories):

* the number of calls must equal the number of gold calls;
* gold calls are taken in order and each is given the first still-unused predicted call that
  passes (greedy, as BFCL does: not an optimal matching);
* a call passes when the name is the gold name, every ``required`` parameter of the function
  description is present, every given parameter is both described and in the possible answer,
  every possible-answer parameter without ``""`` is given, and every value passes its check;
* types come from the function description (``string``, ``integer``, ``float``, ``boolean``,
  ``array``, ``tuple``, ``dict``, ``any``) and are compared with ``type(value) ==``: ``true``
  is not an integer, ``5`` is not a string; the one conversion is an int given for a
  ``float``. When the possible answer's own type differs from the described type (BFCL's
  "variable" case, e.g. a string naming a variable), a value of the possible answer's type is
  accepted and compared with ``in``;
* strings (also inside arrays and dicts) compare after BFCL's standardisation: the
  characters `` ,./-_*^`` removed, lower case, ``'`` replaced by ``"``; arrays compare as
  lists after that standardisation, one level of element types is checked; dicts compare key
  by key against the possible dicts; other values compare with Python's ``in``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.errors import RewardlabError

PYTHON_TYPES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list,
    "tuple": list, "dict": dict, "any": str,
}
_NESTED = ("array", "tuple")
_STANDARDIZE = re.compile(r"[ ,./\-_*^]")


class BfclReferenceError(RewardlabError, ValueError):
    """The function descriptions or possible answers cannot be checked against."""


def standardize_string(text: str) -> str:
    """BFCL's string form for comparison (spaces and ``,./-_*^`` dropped, lower case)."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def _possible_type(possible: Sequence[Any]) -> type | None:
    # The first non-optional entry gives the type the answer author used.
    for answer in possible:
        if answer != "":
            return type(answer)
    return None


def _type_ok(value: Any, possible: Sequence[Any], expected: type,
             nested: type | None) -> tuple[bool, bool]:
    """(valid, is_variable) by BFCL's type rules (one level of element types)."""
    possible_type = _possible_type(possible)
    is_variable = possible_type is not None and possible_type is not expected
    if type(value) is expected:
        if nested is None:
            return True, is_variable
        for item in possible:
            # A non-list entry (the optional marker "") skips the element check, as in BFCL.
            if type(item) is not list or all(
                    _type_ok(v, item, nested, None)[0] for v in value):
                return True, is_variable
        return False, is_variable
    if possible_type is not None and type(value) is possible_type:
        return True, True
    return False, is_variable


def _as_std_list(possible_entry: Any) -> list[Any] | None:
    # BFCL indexes every possible entry like a list (a string entry becomes its characters).
    if isinstance(possible_entry, str | list | tuple):
        return [_std(x) for x in possible_entry]
    return None


def _list_ok(value: list[Any], possible: Sequence[Any]) -> bool:
    candidate = [_std(x) for x in value]
    return any(candidate == entry for entry in map(_as_std_list, possible)
               if entry is not None)


def _dict_ok(value: Mapping[str, Any], possible: Sequence[Any]) -> bool:
    for entry in possible:
        if entry == "" or not isinstance(entry, Mapping):
            continue
        if all(key in entry and _std(v) in [_std(x) for x in entry[key]]
               for key, v in value.items()) and all(
                key in value or "" in allowed for key, allowed in entry.items()):
            return True
    return False


def _list_of_dicts_ok(value: list[Any], possible: Sequence[Any]) -> bool:
    for entry in possible:
        if not isinstance(entry, str | list | tuple) or len(value) != len(entry):
            continue
        if all(isinstance(v, Mapping) and _dict_ok(v, [entry[i]])
               for i, v in enumerate(value)):
            return True
    return False


def _param_error(name: str, value: Any, spec: Mapping[str, Any],
                 possible: Sequence[Any]) -> str | None:
    type_name = spec.get("type")
    if type_name not in PYTHON_TYPES:
        raise BfclReferenceError(f"parameter {name!r} has unsupported type {type_name!r}")
    expected = PYTHON_TYPES[type_name]
    nested = None
    if type_name in _NESTED:
        item_type = (spec.get("items") or {}).get("type")
        if item_type not in PYTHON_TYPES:
            raise BfclReferenceError(f"array parameter {name!r} needs a known items type")
        nested = PYTHON_TYPES[item_type]
    if type_name == "float" and type(value) is int:
        value = float(value)  # the only conversion BFCL allows
    valid, is_variable = _type_ok(value, possible, expected, nested)
    if not valid:
        return f"type_error: {name!r} expects {type_name}, got {type(value).__name__}"
    if not is_variable:
        if expected is dict:
            ok = _dict_ok(value, possible)
        elif expected is list and nested is dict:
            ok = _list_of_dicts_ok(value, possible)
        elif expected is str:
            ok = standardize_string(value) in [standardize_string(p) for p in possible
                                               if type(p) is str]
        elif expected is list:
            ok = _list_ok(value, possible)
        else:
            ok = value in possible
        return None if ok else f"value_error: {name!r}={value!r} not in {list(possible)!r}"
    return None if value in possible else f"value_error: {name!r}={value!r} not allowed"


def expected_name(name: str, underscore_to_dot: bool = False) -> str:
    """The function name a model must call: with ``underscore_to_dot`` (BFCL's flag for APIs
    that forbid ``.`` in names), every ``.`` becomes ``_``."""
    return name.replace(".", "_") if underscore_to_dot else name


def check_call(description: Mapping[str, Any], name: str, arguments: Mapping[str, Any],
               possible: Mapping[str, Sequence[Any]],
               underscore_to_dot: bool = False) -> str | None:
    """Why one predicted call fails BFCL's check against one gold call, or ``None``."""
    expected = expected_name(str(description.get("name")), underscore_to_dot)
    if name != expected:
        return f"wrong_func_name: expected {expected!r}, got {name!r}"
    parameters = description.get("parameters") or {}
    details = parameters.get("properties") or {}
    for required in parameters.get("required") or []:
        if required not in arguments:
            return f"missing_required: {required!r}"
    for param, value in arguments.items():
        if param not in details or param not in possible:
            return f"unexpected_param: {param!r}"
        error = _param_error(param, value, details[param], possible[param])
        if error:
            return error
    for param, allowed in possible.items():
        if param not in arguments and "" not in allowed:
            return f"missing_optional: {param!r} not given and not optional"
    return None


def check_calls(functions: Sequence[Mapping[str, Any]],
                ground_truth: Sequence[Mapping[str, Mapping[str, Sequence[Any]]]],
                calls: Sequence[tuple[str, Mapping[str, Any]]],
                underscore_to_dot: bool = False) -> str | None:
    """Why the predicted ``(name, arguments)`` calls fail BFCL's AST check, or ``None``.

    ``underscore_to_dot`` expects ``.`` in function names written as ``_``, as BFCL does for
    models whose API forbids dots.

    Raises:
        BfclReferenceError: a gold call names a function that is not described, or a
            parameter type BFCL does not know.
    """
    if len(calls) != len(ground_truth):
        return f"wrong_count: {len(calls)} call(s), expected {len(ground_truth)}"
    by_name = {f.get("name"): f for f in functions if isinstance(f, Mapping)}
    used: set[int] = set()
    for index, gold in enumerate(ground_truth):
        if not isinstance(gold, Mapping) or len(gold) != 1:
            raise BfclReferenceError("each ground-truth entry must be {name: {param: [...]}}")
        gold_name, possible = next(iter(gold.items()))
        description = by_name.get(gold_name)
        if description is None:
            raise BfclReferenceError(f"no function description for {gold_name!r}")
        error = "no predicted call left"
        for j, (name, arguments) in enumerate(calls):
            if j in used:
                continue
            error = check_call(description, name, arguments, possible, underscore_to_dot)
            if error is None:
                used.add(j)
                break
        if error is not None:
            return f"gold call {index} ({gold_name}) unmatched; last error: {error}"
    return None
