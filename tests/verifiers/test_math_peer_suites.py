"""The ``math`` reward against its peers' own test suites (every case, replayed as data).

The cases were read out of huggingface/Math-Verify, huggingface/lighteval and
UKGovernmentBEIS/inspect_ai by ``tests/data/peer_cases/build_peer_cases.py``. Every case where
our verdict differs is listed, with the policy that makes it differ, in
``tests/data/peer_cases/deliberate_differences.json`` and in docs/math-verifier.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardlab import Sample
from rewardlab.verifiers.math_verifier import MathVerifier

CASES = Path(__file__).parents[1] / "data" / "peer_cases"
SUITES = ("math_verify", "lighteval", "inspect_ai")


def load(suite: str) -> list[dict]:
    return [json.loads(line) for line in (CASES / f"{suite}.jsonl").read_text().splitlines()
            if line]


def reward_for(options: dict) -> MathVerifier:
    """The peer's extraction options mapped onto ``math``'s (see docs/math-verifier.md)."""
    kwargs = {}
    if "precision" in options:
        kwargs["float_rounding"] = options["precision"]
    if "strict" in options:
        kwargs["strict"] = options["strict"]
    if "allow_set_relation_comp" in options:
        kwargs["allow_set_relation_comp"] = options["allow_set_relation_comp"]
    if options.get("match_types") == ["latex"]:
        # LaTeX-only extraction: no plain-number reading, no expression fallback.
        kwargs.update(number_fallback=False, response_fallback=False)
    return MathVerifier(isolation="inline", **kwargs)


def response_of(case: dict) -> str:
    options = case["options"]
    return options.get("pred_prefix", "") * options.get("pred_prefix_repeat", 0) + case["pred"]


def documented() -> dict[tuple[str, str, str], str]:
    rows = json.loads((CASES / "deliberate_differences.json").read_text())
    return {(r["suite"], r["gold"], r["pred"]): r["policy"] for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("suite", SUITES)
def test_peer_suite_agreement(suite):
    cases = load(suite)
    assert len(cases) >= 90
    differences = set()
    for case in cases:
        outcome = reward_for(case["options"]).compute(
            Sample(response=response_of(case), reference=case["gold"]))
        if int(outcome.score == 1.0) != case["expected"]:
            differences.add((suite, case["gold"], case["pred"]))
    listed = {key for key in documented() if key[0] == suite}
    assert differences == listed, "a new difference: fix it or document the policy"
    agreement = 1 - len(differences) / len(cases)
    assert agreement >= 0.98, agreement


def test_every_documented_difference_is_in_the_docs():
    docs = (Path(__file__).parents[2] / "docs" / "math-verifier.md").read_text()
    for (suite, _gold, _pred), policy in documented().items():
        assert policy in docs, (suite, policy)


def test_case_files_cover_the_peer_suites():
    counts = {suite: len(load(suite)) for suite in SUITES}
    assert counts["math_verify"] >= 270 and counts["lighteval"] >= 230
    assert counts["inspect_ai"] >= 90
    tests = {case["test"].split("::")[0] for case in load("math_verify")}
    assert {"tests/test_all.py", "tests/test_numina_cases.py", "tests/test_open_thoughts.py",
            "tests/test_yujianll.py", "tests/test_boxed.py", "tests/test_strict.py",
            "tests/test_string_extraction.py"} <= tests
