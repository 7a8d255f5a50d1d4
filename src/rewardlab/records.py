"""Reading samples out of JSON records, with field mapping and dotted paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.types import Sample

SAMPLE_FIELDS = ("prompt", "response", "reference", "metadata", "group", "id")
WHOLE_RECORD = "."
"""The path that means "the whole input record" (``--field reference=.``: MBPP-style rows that
are their own reference)."""
_MISSING = object()
_ABSENT = object()  # "not found" marker for the mapping checks (get_path raises on _MISSING)


class RecordError(RewardlabError, ValueError):
    """A record that cannot become a sample; the message says which field is wrong."""


def get_path(record: Any, path: str, default: Any = _MISSING) -> Any:
    """Follow a dotted path (``a.b.0.c``) through mappings and lists; ``.`` is the record."""
    if path == WHOLE_RECORD:
        return record
    current = record
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit() \
                and int(part) < len(current):
            current = current[int(part)]
        else:
            if default is _MISSING:
                raise KeyError(path)
            return default
    return current


def parse_field_map(pairs: Sequence[str], targets: Sequence[str] = SAMPLE_FIELDS,
                    what: str = "sample field") -> dict[str, str]:
    """Parse ``["response=solution", "reference=reward_model.ground_truth"]``.

    Args:
        pairs: ``TARGET=INPUT_PATH`` strings, as given to ``--field``.
        targets: The names a pair may set (``Sample`` fields by default; ``rewardlab data``
            passes its row fields).
        what: What a target is called in error messages.
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not target or not source:
            shape = what.upper().replace(" ", "_")  # SAMPLE_FIELD=INPUT_PATH
            raise ValueError(f"--field expects {shape}=INPUT_PATH, got {pair!r}")
        if target not in targets:
            import difflib

            close = difflib.get_close_matches(target, targets, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {what} {target!r}{hint}; fields: {', '.join(targets)}")
        mapping[target] = source
    return mapping


def sample_from_record(record: Any, field_map: Mapping[str, str] | None = None) -> Sample:
    """Build a :class:`Sample` from a JSON object, using ``field_map`` (sample field -> path).

    Raises:
        RecordError: the record is not an object, lacks a response, or has a field of the wrong
            type.
    """
    if not isinstance(record, Mapping):
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    field_map = field_map or {}
    values: dict[str, Any] = {}
    for name in SAMPLE_FIELDS:
        path = field_map.get(name, name)
        value = get_path(record, path, None)
        if value is not None:
            values[name] = value
    if "response" not in values:
        raise RecordError(f"missing field {field_map.get('response', 'response')!r} (the response)")
    if not isinstance(values["response"], str):
        raise RecordError(
            f"field {field_map.get('response', 'response')!r} must be a string, "
            f"got {type(values['response']).__name__}")
    if "metadata" in values and not isinstance(values["metadata"], Mapping):
        raise RecordError("field 'metadata' must be an object")
    if "id" in values and not isinstance(values["id"], str | int):
        values["id"] = str(values["id"])
    try:
        return Sample(**values)
    except TypeError as exc:
        raise RecordError(str(exc)) from None


class FieldMapError(RewardlabError, ValueError):
    """A ``--field`` path (or the default ``response``) found in none of the records checked."""


def _keys_at(records: Sequence[Any], parts: Sequence[str]) -> list[str]:
    """The keys (or list indexes) found at ``parts`` in any of ``records``, sorted."""
    keys: set[str] = set()
    for record in records:
        value = get_path(record, ".".join(parts), None) if parts else record
        if isinstance(value, Mapping):
            keys.update(map(str, value))
        elif isinstance(value, list) and value:
            keys.add(f"0..{len(value) - 1}")
    return sorted(keys)


def _missing_path_message(records: Sequence[Any], target: str, path: str) -> str:
    import difflib

    parts = path.split(".")
    found = 0  # the longest prefix of the path present in some record
    while found < len(parts) and any(
            get_path(r, ".".join(parts[:found + 1]), _ABSENT) is not _ABSENT for r in records):
        found += 1
    where = ".".join(parts[:found]) or "the top level"
    keys = _keys_at(records, parts[:found])
    close = difflib.get_close_matches(parts[found], keys, n=1, cutoff=0.6)
    hint = ""
    if close:
        hint = f" (did you mean {target}={'.'.join([*parts[:found], close[0]])}?)"
    shown = ", ".join(keys[:40]) + (" ..." if len(keys) > 40 else "") if keys else "(none)"
    return (f"{target}={path}: no {parts[found]!r} at {where} in the first {len(records)} "
            f"records{hint}; keys there: {shown}")


def check_field_map(records: Sequence[Any], field_map: Mapping[str, str] | None,
                    required: Sequence[str] = ("response",)) -> None:
    """Stop a run whose field mapping cannot work, before scoring anything.

    Every explicitly mapped path, and each ``required`` field (mapped or not), must be present
    in at least one of ``records`` (the first few of the input): a path found nowhere is a
    typo, not ragged data, and would otherwise score every row as an error blamed on the data.

    Raises:
        FieldMapError: the message lists each missing path with the keys that do exist (and a
            "did you mean").
    """
    objects = [r for r in records if isinstance(r, Mapping)]
    if not objects:
        return  # nothing to check against: per-row errors will say what is wrong
    wanted = dict(field_map or {})
    for name in required:
        wanted.setdefault(name, name)
    problems = [_missing_path_message(objects, target, path) for target, path in wanted.items()
                if path != WHOLE_RECORD
                and all(get_path(r, path, _ABSENT) is _ABSENT for r in objects)]
    if problems:
        raise FieldMapError("; ".join(problems))
