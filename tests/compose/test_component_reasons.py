"""Combinators keep their children's reasons and details (issue 17): "gate failed" and "math
wrong" stay distinguishable in the combined outcome."""

from __future__ import annotations

from rewardlab import Outcome, Reward, Sample, Status, build_reward


class Verdict(Reward):
    """ok/fail with a reason and details read from the sample's metadata."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def score_batch(self, samples):
        out = []
        for s in samples:
            score, reason = s.metadata[self.key]
            if isinstance(score, str):
                out.append(Outcome.fail(Status(score), reason, where=self.key))
            else:
                out.append(Outcome.ok(score, reason, where=self.key))
        return out


def test_weighted_sum_of_a_gate_and_a_check_keeps_each_childs_outcome():
    spec = {"name": "weighted_sum", "on_failure": "zero", "rewards": {
        "format": {"name": "gated", "gate": Verdict("gate"), "reward": Verdict("soft")},
        "math": Verdict("math")}}
    reward = build_reward(spec)
    gate_failed = Sample(response="r", metadata={"gate": (0.0, "no <answer> tag"),
                                                 "soft": (1.0, ""), "math": (1.0, "")})
    math_wrong = Sample(response="r", metadata={"gate": (1.0, ""), "soft": (1.0, ""),
                                                "math": (0.0, "expected 4, got 5")})
    grader_broke = Sample(response="r", metadata={"gate": (1.0, ""), "soft": (1.0, ""),
                                                  "math": ("timeout", "sympy took 10 s")})
    a, b, c = reward.score([gate_failed, math_wrong, grader_broke])
    assert a.score == 1.0 and b.score == 1.0  # the same total...
    parts_a, parts_b = a.details["component_outcomes"], b.details["component_outcomes"]
    # ...but different stories
    assert parts_a["format"]["reason"] == "gate not passed: no <answer> tag"
    assert parts_a["format"]["details"]["gate_passed"] is False
    assert parts_a["format"]["details"]["component_outcomes"]["gate"]["details"]["where"] == "gate"
    assert parts_b["math"]["reason"] == "expected 4, got 5" and parts_b["format"]["score"] == 1.0
    assert "math: expected 4, got 5" in b.reason and "no <answer> tag" in a.reason
    assert parts_b["math"]["details"] == {"where": "math"}
    assert c.details["failed"] == {"math": "timeout"}
    assert c.details["component_outcomes"]["math"]["reason"] == "sympy took 10 s"


def test_failed_child_keeps_its_status_reason_and_details():
    reward = build_reward({"name": "product", "rewards": [Verdict("x"), Verdict("y")]})
    out = reward.score_one(Sample(response="r", metadata={"x": (0.5, ""),
                                                         "y": ("unparseable", "no number")}))
    assert out.status is Status.UNPARSEABLE
    parts = out.details["component_outcomes"]
    assert parts["Verdict_2"]["status"] == "unparseable"
    assert parts["Verdict_2"]["reason"] == "no number"
    assert parts["Verdict"]["score"] == 0.5


def test_hero_and_hierarchy_keep_child_outcomes():
    hero = build_reward({"name": "hero", "verifier": Verdict("v"), "reward_model": Verdict("rm")})
    out = hero.score_one(Sample(response="r", metadata={"v": (0.0, "wrong"), "rm": (0.3, "")}))
    assert out.details["component_outcomes"]["verifier"]["reason"] == "wrong"
    hier = build_reward({"name": "hierarchy", "constraints": {"safe": Verdict("s")},
                         "objective": Verdict("o")})
    out = hier.score_one(Sample(response="r", metadata={"s": (1.0, "ok"), "o": (0.5, "meh")}))
    assert out.details["component_outcomes"]["objective"]["reason"] == "meh"
