"""Rebuild the peer-suite case files in this folder from the peers' own repositories.

The cases (gold/prediction/expected triples and their options) are public test data of
huggingface/Math-Verify, huggingface/lighteval and UKGovernmentBEIS/inspect_ai; this script
reads them out of the peers' test files with :mod:`ast` (their code is not copied) and writes
one JSON line per case. Run it with the paths of local git checkouts::

    python tests/data/peer_cases/build_peer_cases.py MATH_VERIFY_GIT LIGHTEVAL_GIT INSPECT_GIT

Each line: ``suite``, ``test`` (file::function), ``gold``, ``pred``, ``expected`` (1 / 0),
``options`` (the peer's extraction options for the case: ``match_types``, ``precision``,
``strict``, ``allow_set_relation_comp``, ``language``) and ``commit``.
"""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
# The helpers' positional parameters after (gold, pred), per suite.
HELPER_PARAMS = {
    "math_verify": ("match_types", "precision", "strict", "allow_set_relation_comp"),
    "lighteval": ("language", "match_types", "precision"),
}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True,
                          text=True).stdout


def data(node: ast.AST) -> Any:
    """A literal AST node as plain data (enum members and config calls as names)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return [data(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -data(node.operand)
    if isinstance(node, ast.Attribute):
        return node.attr  # Language.FRENCH -> "FRENCH"
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        return {"call": name, **{k.arg: data(k.value) for k in node.keywords if k.arg}}
    if isinstance(node, ast.Name):
        return {"name": node.id}
    if isinstance(node, ast.JoinedStr):  # f"{math.sqrt(17):.15f}": a number written out
        return eval(compile(ast.Expression(node), "<case>", "eval"), {"math": math})
    return {"unparsed": ast.unparse(node)}


def parametrized_cases(source: str) -> list[tuple[str, list[dict[str, Any]], ast.FunctionDef]]:
    """Every parametrised test: (function name, one dict per case, the function node)."""
    out = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for deco in fn.decorator_list:
            if not (isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("parametrize")):
                continue
            names = data(deco.args[0])
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else names
            values = deco.args[1]
            if not isinstance(values, ast.List | ast.Tuple):
                continue  # e.g. CASES loaded from a JSON file
            rows = []
            for element in values.elts:
                row = data(element)
                row = row if len(names) > 1 else [row]
                rows.append(dict(zip(names, row, strict=True)))
            out.append((fn.name, rows, fn))
    return out


def helper_call(fn: ast.AST, helper: str) -> ast.Call | None:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == helper:
            return node
    return None


def options_of(call: ast.Call, params: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    """The helper's options for one case, resolving names bound by the parametrisation."""
    bound = {}
    for name, arg in zip(params, call.args[2:], strict=False):
        bound[name] = arg
    for kw in call.keywords:
        bound[kw.arg] = kw.value
    options = {}
    for name, node in bound.items():
        value = row[node.id] if isinstance(node, ast.Name) and node.id in row else data(node)
        options[name] = [value] if name == "match_types" and isinstance(value, str) else value
    return options


def math_verify_like(repo: str, suite: str, files: list[str]) -> list[dict[str, Any]]:
    commit = git(repo, "rev-parse", "HEAD").strip()
    cases = []
    for path in files:
        source = git(repo, "show", f"HEAD:{path}")
        for name, rows, fn in parametrized_cases(source):
            call = helper_call(fn, "compare_strings")
            for row in rows:
                gold, pred = row.get("gold"), row.get("pred")
                expected = row.get("expected", row.get("result"))
                if not isinstance(gold, str) or not isinstance(pred, str):
                    continue
                options = (options_of(call, HELPER_PARAMS[suite], row) if call is not None
                           else {"helper": "parse+verify"})
                cases.append({"suite": suite, "test": f"{path}::{name}", "gold": gold,
                              "pred": pred, "expected": int(bool(expected)),
                              "options": options, "commit": commit})
            if name == "test_string_extraction" and "StringExtraction" in source:
                for row in rows:  # letters: the expected extraction, or none
                    letters = row["expected"]
                    cases.append({"suite": suite, "test": f"{path}::{name}",
                                  "gold": letters[1] if letters else "A", "pred": row["pred"],
                                  "expected": int(bool(letters)),
                                  "options": {"match_types": ["string"], **row["config"]},
                                  "commit": commit})
        # Literal calls outside parametrisation: ``compare_strings("..", "..", ...) == 1``.
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)
                    and ast.unparse(node.left.func) == "compare_strings"
                    and isinstance(node.comparators[0], ast.Constant)):
                call = node.left
                gold, pred = data(call.args[0]), data(call.args[1])
                cases.append({"suite": suite, "test": f"{path}::literal_call", "gold": gold,
                              "pred": pred, "expected": int(node.comparators[0].value),
                              "options": options_of(call, HELPER_PARAMS[suite], {}),
                              "commit": commit})
    return cases


# inspect_ai's unit tests assert a status per parametrised (answer, target); these map each
# test function to how its cases read: which target, and whether "correct" is asserted.
INSPECT_TESTS = {
    "test_percentage_suffixes_are_normalized": ("target", 1),
    "test_grouped_thousands_are_treated_as_numbers": ("target", 1),
    "test_latex_thin_space_thousands_are_numbers": ("target", 1),
    "test_exact_large_integers_are_not_approximated": ("target", 0),
    "test_approximate_values_still_match": ("target", 1),
    "test_assignment_targets_accept_their_value": ("target", 1),
    "test_prose_wrapped_numeric_answers_are_extracted": ("target", 1),
    "test_constant_tuple_mismatch_is_incorrect": ("2", 0),
    "test_assignment_target_matches_either_orientation": (None, 1),
}


def inspect_cases(repo: str) -> list[dict[str, Any]]:
    commit = git(repo, "rev-parse", "HEAD").strip()
    base = "tests/scorer/"
    cases = []
    for row in json.loads(git(repo, "show", f"HEAD:{base}math_cases.json")):
        cases.append({"suite": "inspect_ai", "test": f"{base}math_cases.json::{row['source']}",
                      "gold": row["target"], "pred": row["output"],
                      "expected": int(row["expected"] == "C"), "options": {},
                      "commit": commit})
    source = git(repo, "show", f"HEAD:{base}test_math.py")
    for name, rows, _fn in parametrized_cases(source):
        test = f"{base}test_math.py::{name}"
        if name == "test_grouped_thousands_normalization_leaves_structures_intact":
            for row in rows:  # self-match, and never equal to 12
                for gold, expected in ((row["answer"], 1), ("12", 0)):
                    cases.append({"suite": "inspect_ai", "test": test, "gold": gold,
                                  "pred": row["answer"], "expected": expected, "options": {},
                                  "commit": commit})
            continue
        if name not in INSPECT_TESTS:
            continue
        target_key, expected = INSPECT_TESTS[name]
        for row in rows:
            if name == "test_assignment_target_matches_either_orientation":
                gold, pred = row["target"], "2"
            else:
                gold = row.get(target_key, target_key)
                pred = row["answer"]
            cases.append({"suite": "inspect_ai", "test": test, "gold": gold, "pred": pred,
                          "expected": expected, "options": {}, "commit": commit})
    # Non-parametrised tests with literal (output, target, verdict) triples.
    literal = [
        ("test_math_scorer_uses_last_boxed_answer", r"\boxed{10} and then \boxed{42}", "42", 1),
        ("test_math_scorer_uses_last_boxed_answer", r"\boxed{10} and then \boxed{42}",
         r"\{10,42\}", 0),
        ("test_final_boxed_answer_survives_a_flood_of_earlier_boxes",
         " ".join(r"\boxed{9}" for _ in range(400)) + r" \boxed{42}", "42", 1),
        ("test_model_complexity_rejection_is_incorrect", r"\boxed{2^{2^{2^{49}}}}", "1", 0),
        ("test_constant_tuple_self_match_is_correct", "(0, 1)", "(0, 1)", 1),
        ("test_prose_fallback_does_not_manufacture_false_matches", "The perimeter is 7", "42", 0),
        ("test_text_answer_is_not_overridden_by_subexpression", r"odd $n$", r"odd $n$", 1),
    ]
    for name, pred, gold, expected in literal:
        cases.append({"suite": "inspect_ai", "test": f"{base}test_math.py::{name}", "gold": gold,
                      "pred": pred, "expected": expected, "options": {}, "commit": commit})
    # 500 kB of prose before the box: stored as a prefix to repeat, not spelled out.
    cases.append({"suite": "inspect_ai",
                  "test": f"{base}test_math.py::test_long_output_extraction_is_bounded",
                  "gold": "42", "pred": r"\boxed{42}", "expected": 1,
                  "options": {"pred_prefix": "reasoning ", "pred_prefix_repeat": 50_000},
                  "commit": commit})
    for name, rows, _fn in parametrized_cases(source):
        if name == "test_security_payload_is_rejected_without_fallback":
            for row in rows:  # the payload text never earns credit
                cases.append({"suite": "inspect_ai", "test": f"{base}test_math.py::{name}",
                              "gold": "0", "pred": f"{row['payload']} or 0", "expected": 0,
                              "options": {}, "commit": commit})
    return cases


def main(math_verify: str, lighteval: str, inspect_ai: str) -> None:
    mv_files = [p for p in git(math_verify, "ls-tree", "-r", "--name-only", "HEAD",
                               "tests/").split() if p.endswith(".py")]
    suites = {
        "math_verify": math_verify_like(math_verify, "math_verify", mv_files),
        "lighteval": math_verify_like(lighteval, "lighteval",
                                      ["tests/unit/metrics/test_extractive_match.py"]),
        "inspect_ai": inspect_cases(inspect_ai),
    }
    for suite, cases in suites.items():
        with (HERE / f"{suite}.jsonl").open("w", encoding="utf-8") as fh:
            for case in cases:
                fh.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(suite, len(cases))


if __name__ == "__main__":
    main(*sys.argv[1:4])
