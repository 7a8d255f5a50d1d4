"""BFCL's own data and AST checker, loaded from the installed ``bfcl-eval`` package.

``bfcl_eval.eval_checker.ast_eval.ast_checker`` imports ``bfcl_eval.constants.model_config``
only to look up one flag per model (``underscore_to_dot``: whether a model's API rewrote
``.`` in function names); that module imports every model vendor's SDK. We register a
one-entry stand-in for it (a model whose names are used as written, the flag's default),
so BFCL's checker code itself runs unmodified without those SDKs.

Each dataset case yields the reference answer built from its possible answers and a set of
perturbations a policy might try (type tricks, wrong counts, hedges, dropped or extra
parameters, alternative accepted values, string variants), so verdicts are compared on
passing and failing calls alike.
"""

from __future__ import annotations

import copy
import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")
MODEL = "rewardlab-stand-in"
MODEL_UNDERSCORE = "rewardlab-stand-in-underscore"  # a model whose API forbids "." in names


@dataclass
class _Config:
    underscore_to_dot: bool = False


def load_checker() -> Any:
    """BFCL's ``ast_checker`` function and its ``Language`` enum."""
    if "bfcl_eval.constants.model_config" not in sys.modules:
        stand_in = types.ModuleType("bfcl_eval.constants.model_config")
        stand_in.MODEL_CONFIG_MAPPING = {  # type: ignore[attr-defined]
            MODEL: _Config(), MODEL_UNDERSCORE: _Config(underscore_to_dot=True)}
        sys.modules["bfcl_eval.constants.model_config"] = stand_in
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

    return ast_checker, Language


def data_dir() -> Path:
    import bfcl_eval

    return Path(bfcl_eval.__file__).parent / "data"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_category(category: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(question entry, possible-answer entry) pairs of one BFCL category (v4 or v3 names)."""
    root = data_dir()
    for prefix in ("BFCL_v4_", "BFCL_v3_"):
        questions = root / f"{prefix}{category}.json"
        answers = root / "possible_answer" / f"{prefix}{category}.json"
        if questions.exists() and answers.exists():
            by_id = {a["id"]: a for a in _jsonl(answers)}
            return [(q, by_id[q["id"]]) for q in _jsonl(questions)]
    raise FileNotFoundError(f"no BFCL data for {category} under {root}")


def reference_call(gold: dict[str, dict[str, list[Any]]],
                   skip_optional: bool = False, choice: int = 0) -> dict[str, Any]:
    """A call built from a gold entry: the ``choice``-th non-optional value of each parameter."""
    name, params = next(iter(gold.items()))
    args = {}
    for param, allowed in params.items():
        values = [v for v in allowed if v != ""]
        if not values or (skip_optional and "" in allowed):
            continue
        args[param] = copy.deepcopy(values[min(choice, len(values) - 1)])
    return {name: args}


def _value_variants(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [int(value), not value, str(value).lower(), [value]]
    if isinstance(value, int):
        return [value + 1, float(value), str(value), value == 1, [value]]
    if isinstance(value, float):
        variants = [value + 0.5, str(value), round(value, 1) + 0.01]
        if value.is_integer():
            variants.append(int(value))
        return variants
    if isinstance(value, str):
        return [value.upper(), f" {value}, ", value + "x", value.replace(" ", "_"), "", 5,
                [value], value[:-1] if value else "a"]
    if isinstance(value, list):
        variants: list[Any] = [json.dumps(value), list(reversed(value)), value + value[:1], [],
                               [str(v) for v in value]]
        if value and isinstance(value[0], str):
            variants.append([v.upper() for v in value])
        return variants
    if isinstance(value, dict):
        dropped = dict(list(value.items())[1:])
        return [json.dumps(value), dropped, {**value, "extra_key": 1}]
    return [0, "None"]


def candidates(gold_calls: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Predicted call lists to judge for one case (each a BFCL-decoded output)."""
    base = [reference_call(g) for g in gold_calls]
    yield base
    yield [reference_call(g, skip_optional=True) for g in gold_calls]
    yield [reference_call(g, choice=1) for g in gold_calls]
    yield list(reversed(base))
    yield [*base, copy.deepcopy(base[0])]  # a repeat of a gold call
    yield base[1:]
    yield []
    first_name, first_args = next(iter(base[0].items()))
    yield [{first_name + "_v2": first_args}, *base[1:]]
    yield [{first_name: {**first_args, "unexpected_param": 1}}, *base[1:]]
    for index, call in enumerate(base):
        name, args = next(iter(call.items()))
        for param, value in args.items():
            dropped = {k: v for k, v in args.items() if k != param}
            yield [*base[:index], {name: dropped}, *base[index + 1:]]
            for variant in _value_variants(value):
                changed = {**args, param: variant}
                yield [*base[:index], {name: changed}, *base[index + 1:]]
