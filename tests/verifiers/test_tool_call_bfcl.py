"""``tool_call`` in BFCL mode agrees with BFCL's own AST checker on BFCL's own data.

Data and checker come from the installed ``bfcl-eval`` package (``scripts/test.sh`` installs
it with ``--no-deps``: its full install pins numpy and pulls model SDKs). Categories: simple
(``simple_python``), multiple, parallel, parallel_multiple, every case, each with its
reference answer and the perturbations of ``bfcl_cases.candidates``.
"""

from __future__ import annotations

import json

import pytest

from rewardlab import Sample, build_reward
from rewardlab.verifiers._bfcl import check_calls

pytest.importorskip("bfcl_eval", reason="bfcl-eval is installed by scripts/test.sh")

import bfcl_cases  # the helper beside this file (after the skip: it needs bfcl_eval)


@pytest.fixture(scope="module")
def checker():
    return bfcl_cases.load_checker()


@pytest.mark.parametrize("category", bfcl_cases.CATEGORIES)
def test_every_case_and_perturbation_gets_bfcl_s_verdict(category, checker):
    ast_checker, language = checker
    cases = bfcl_cases.load_category(category)
    assert len(cases) >= 200
    judged = passed = 0
    disagreements = []
    for question, answer in cases:
        truth = answer["ground_truth"]
        for calls in bfcl_cases.candidates(truth):
            theirs = ast_checker(question["function"], calls, truth, language.PYTHON, category,
                                 bfcl_cases.MODEL)["valid"]
            ours = check_calls(question["function"], truth,
                               [next(iter(c.items())) for c in calls]) is None
            judged += 1
            passed += theirs
            if ours != theirs:
                disagreements.append((question["id"], calls, theirs))
    assert disagreements == []
    # Both verdicts occur in bulk: the perturbations are not all trivially wrong.
    assert passed > len(cases) and judged - passed > 5 * len(cases)


@pytest.mark.parametrize("category", bfcl_cases.CATEGORIES)
def test_the_reward_reads_hermes_text_and_gives_the_same_verdict(category, checker):
    """End to end: calls written as ``<tool_call>`` JSON after a ``<think>`` block."""
    ast_checker, language = checker
    reward = build_reward({"name": "tool_call", "mode": "bfcl"})
    samples, expected = [], []
    for question, answer in bfcl_cases.load_category(category)[::4]:
        truth = answer["ground_truth"]
        for calls in list(bfcl_cases.candidates(truth))[:12]:
            text = "<think>Which function? Let me call it.</think>\n" + "\n".join(
                "<tool_call>" + json.dumps({"name": n, "arguments": a}) + "</tool_call>"
                for call in calls for n, a in call.items())
            reference = {"function": question["function"], "ground_truth": truth}
            samples.append(Sample(response=text, reference=reference))
            expected.append(float(ast_checker(question["function"], calls, truth,
                                              language.PYTHON, category,
                                              bfcl_cases.MODEL)["valid"]))
    outcomes = reward.score(samples)
    assert [o.score for o in outcomes] == expected
    assert 0 < sum(expected) < len(expected)


def test_underscore_names_agree_with_bfcl_s_per_model_flag(checker):
    """BFCL's ``underscore_to_dot`` models must write ``math.gcd`` as ``math_gcd``."""
    ast_checker, language = checker
    checked = dotted = 0
    for category in bfcl_cases.CATEGORIES:
        for question, answer in bfcl_cases.load_category(category)[::5]:
            truth = answer["ground_truth"]
            for calls in list(bfcl_cases.candidates(truth))[:6]:
                for rename in (False, True):
                    named = [{(n.replace(".", "_") if rename else n): a
                              for n, a in c.items()} for c in calls]
                    theirs = ast_checker(question["function"], named, truth, language.PYTHON,
                                         category, bfcl_cases.MODEL_UNDERSCORE)["valid"]
                    ours = check_calls(question["function"], truth,
                                       [next(iter(c.items())) for c in named],
                                       underscore_to_dot=True) is None
                    assert ours == theirs, (question["id"], named)
                    checked += 1
                    dotted += any("." in n for c in calls for n in c)
    assert checked > 500 and dotted > 50
