import asyncio
import json
from collections import Counter

import pytest

from rewardlab import Sample, build_reward
from rewardlab.evaluate.best_of_n import bon_report, qwen_math_bon_groups, selection_accuracy
from rewardlab.search.best_of_n import argmax_index, best_of_n, softmax_weights, vote_index


def test_selection_rules_by_hand():
    assert argmax_index([0.1, 0.7, 0.7, None]) == 1  # earliest on ties
    assert argmax_index([None, None]) is None
    assert vote_index(["a", "b", "b", "a", "c"]) == 0  # a and b tie at 2: a was seen first
    assert vote_index(["a", "b", "b"]) == 1
    assert vote_index(["a", "b", "b"], [0.9, 0.3, 0.4]) == 0  # weighted: a 0.9 > b 0.7
    assert vote_index([None, "x"], [5.0, None]) is None
    w = softmax_weights([0.0, 1.0, None])
    assert w[1] == 1.0 and w[0] == pytest.approx(0.36787944) and w[2] is None
    with pytest.raises(ValueError, match="non-negative"):
        vote_index(["a"], [-1.0])
    with pytest.raises(ValueError, match="not finite"):
        argmax_index([float("nan")])


@pytest.fixture(scope="module")
def bon_path(fixtures_dir):
    return fixtures_dir / "qwen_math_bon" / "math_cot.jsonl"


def _direct_figures(path):
    """Oracle, majority and RM@8 accuracies computed straight from the file, independently."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    oracle = sum(any(r["score"]) for r in rows) / len(rows)
    maj = 0
    rm = 0
    for r in rows:
        top = Counter(r["pred"]).most_common(1)[0][0]
        maj += r["score"][r["pred"].index(top)]
        flat = [s[0] for s in r["pred_score"]]
        rm += r["score"][flat.index(max(flat))]
    return oracle, maj / len(rows), rm / len(rows)


def test_bon_report_reproduces_file_figures(bon_path):
    oracle, majority, rm8 = _direct_figures(bon_path)
    groups = qwen_math_bon_groups(bon_path)
    assert len(groups) == 20 and all(len(g.responses) == 8 for g in groups)
    report = bon_report(groups)
    assert report["oracle"] == pytest.approx(oracle)
    assert report["majority"] == pytest.approx(majority)
    assert report["rm_best"] == pytest.approx(rm8)
    # the figures themselves (so a wrong loader cannot agree with a wrong direct computation)
    assert (oracle, majority, rm8) == pytest.approx((0.95, 0.95, 0.95))


def test_best_of_n_through_the_stored_score_reward_gives_rm_at_8(bon_path):
    _, _, rm8 = _direct_figures(bon_path)
    reward = build_reward("stored_score")
    groups = qwen_math_bon_groups(bon_path)

    async def run(method):
        return [
            (await best_of_n(reward, g.samples(), method=method, answers=g.answers)).index
            for g in groups
        ]

    chosen = asyncio.run(run("best"))
    assert selection_accuracy(groups, chosen) == pytest.approx(rm8)
    with open(bon_path, encoding="utf-8") as f:
        flat = [[s[0] for s in json.loads(line)["pred_score"]] for line in f]
    assert chosen == [row.index(max(row)) for row in flat]  # the very same candidates
    weighted = selection_accuracy(groups, asyncio.run(run("weighted")))
    assert weighted == pytest.approx(bon_report(groups)["rm_weighted"])


def test_best_of_n_with_a_real_reward_reaches_oracle(bon_path):
    # exact_match over the extracted answers: any correct candidate scores 1, so BoN = oracle
    reward = build_reward({"name": "exact_match"})
    groups = qwen_math_bon_groups(bon_path)

    async def run():
        return [
            await best_of_n(
                reward, [Sample(response=a or "", reference=g.reference) for a in g.answers]
            )
            for g in groups
        ]

    selections = asyncio.run(run())
    assert all(len(s.outcomes) == 8 for s in selections)
    choices = [s.index for s in selections]
    assert selection_accuracy(groups, choices) == pytest.approx(bon_report(groups)["oracle"])


def test_best_of_n_bad_input():
    with pytest.raises(ValueError, match="extracted answers"):
        asyncio.run(best_of_n(None, [Sample("a")], method="majority"))
    with pytest.raises(ValueError, match="unknown method"):
        asyncio.run(best_of_n(None, [Sample("a")], method="vote"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing or bad field"):
        qwen_math_bon_groups([{"idx": 1, "code": ["a"]}])
    with pytest.raises(ValueError, match="differ in length"):
        qwen_math_bon_groups([{"code": ["a", "b"], "pred": ["1"], "score": [True]}])


def test_best_of_n_with_the_math_reward_as_selector(bon_path):
    """rewardlab's math verifier picks among the full responses; it agrees with the file's flags."""
    reward = build_reward("math")
    groups = qwen_math_bon_groups(bon_path)

    async def run():
        return [await best_of_n(reward, g.samples()) for g in groups]

    selections = asyncio.run(run())
    verdicts = [o.score == 1.0 for s in selections for o in s.outcomes]
    flags = [c for g in groups for c in g.correct]
    assert verdicts == flags  # all 160 verdicts match the data set's own correctness flags
    choices = [s.index for s in selections]
    assert selection_accuracy(groups, choices) == pytest.approx(bon_report(groups)["oracle"])
    # weighted self-consistency with the verifier's scores as weights
    weighted = asyncio.run(
        best_of_n(reward, groups[5].samples(), method="weighted", answers=groups[5].answers)
    )
    assert groups[5].correct[weighted.index]
