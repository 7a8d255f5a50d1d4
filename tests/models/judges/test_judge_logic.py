"""Judge logic with a scripted backend: grammars, retries, screening, swap consistency, voting,
checklist weighting, listwise picks, and typed failures."""

from __future__ import annotations

import math

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.backends.llm import LLMBackend, LLMError
from rewardlab.backends.scripted_backend import ScriptedBackend, reply_json
from rewardlab.judges.base import JudgeOptions, aggregate_values
from rewardlab.judges.checks import ChecklistJudge, VerificationJudge, parse_checklist
from rewardlab.judges.comparative import ListwiseJudge, PairwiseJudge
from rewardlab.judges.grammar import ChoiceGrammar, ScoreGrammar, Unparseable, strip_thinking
from rewardlab.judges.pointwise import PrincipleJudge, RubricJudge

SAMPLE = Sample(prompt="Name the capital of France.", response="Paris is the capital.",
                reference="Paris")


def last_user(messages) -> str:
    return messages[-1]["content"]


# --- grammars --------------------------------------------------------------------------------


def test_score_grammar_reads_the_last_marker_and_checks_the_range():
    g = ScoreGrammar(1, 5)
    assert g.parse("draft [RESULT] 2 ... on reflection [RESULT] 4") == 4
    assert g.parse("Feedback: ok.\n[RESULT]: **5**") == 5
    for bad in ("[RESULT] 7", "[RESULT] 3.5", "score: 4", "[RESULT] n", ""):
        with pytest.raises(Unparseable):
            g.parse(bad)


def test_choice_grammar_is_case_insensitive_and_whole_word():
    g = ChoiceGrammar({"A": "correct", "B": "incorrect"})
    assert g.parse("[RESULT] b") == "incorrect"
    with pytest.raises(Unparseable):
        g.parse("[RESULT] Absolutely")
    assert g.instruction.startswith('End your reply with a line "[RESULT] X"')


def test_strip_thinking():
    assert strip_thinking("<think>[RESULT] 1</think> fine [RESULT] 5") == "fine [RESULT] 5"
    assert strip_thinking("hidden reasoning [RESULT] 1 </think> [RESULT] 4") == "[RESULT] 4"
    assert strip_thinking("ok <think> still thinking [RESULT] 3") == "ok"


def test_aggregation():
    assert aggregate_values([4, 4, 2], "vote") == (4, pytest.approx(2 / 3))
    assert aggregate_values([4, None, 2], "vote") == (3.0, 0.5)  # tie between scores: mean
    assert aggregate_values(["A", "B"], "vote") == (None, 0.5)  # tie between labels
    value, agreement = aggregate_values([5, 3, 4], "mean", span=4)
    assert value == 4 and agreement == 0.5
    with pytest.raises(Unparseable):
        aggregate_values([None, None], "vote")
    with pytest.raises(ValueError, match="numeric"):
        aggregate_values(["A"], "mean")


# --- pointwise -------------------------------------------------------------------------------


def test_rubric_judge_scores_and_keeps_feedback():
    backend = ScriptedBackend(["Accurate and complete.\n[RESULT] 4"])
    judge = RubricJudge(backend, rubric={"criteria": "Correctness", "1": "wrong", "5": "right"})
    outcome = judge.score_one(SAMPLE)
    assert outcome.status is Status.OK and outcome.score == 0.75
    assert outcome.details["raw_score"] == 4.0
    assert outcome.details["feedback"] == "Accurate and complete."
    prompt = last_user(backend.calls[0]["messages"])
    assert "Score 5: right" in prompt and "Paris is the capital." in prompt
    assert "[RESULT] n" in prompt  # the grammar's instruction, with no concrete example


def test_unparseable_after_bounded_retries_never_defaults():
    backend = ScriptedBackend(["I think it is good.", "Quite good", "[RESULT] 9"])
    judge = RubricJudge(backend, options=JudgeOptions(max_parse_retries=2))
    outcome = judge.score_one(SAMPLE)
    assert outcome.status is Status.UNPARSEABLE and outcome.score is None
    assert len(backend.calls) == 3
    assert outcome.details["attempts"] == 3
    # each retry is a fresh sample (distinct cache key), not the same cached reply
    assert [c["sample_index"] for c in backend.calls] == [0, 1, 2]
    assert [c["temperature"] for c in backend.calls] == [0.0, 0.7, 0.7]


def test_retry_recovers_when_a_later_reply_parses():
    backend = ScriptedBackend(["no verdict", "Good. [RESULT] 5"])
    outcome = RubricJudge(backend).score_one(SAMPLE)
    assert outcome.score == 1.0 and outcome.details["attempts"] == 2


def test_reasoning_judge_strips_thinking_and_votes():
    replies = iter(["<think>maybe [RESULT] 1</think> [RESULT] 4",
                    "<think>hmm</think>Solid. [RESULT] 4",
                    "<think>x</think> [RESULT] 2"])
    backend = ScriptedBackend(lambda messages: next(replies))
    judge = build_reward({"name": "judge_reasoning", "backend": backend, "samples": 3})
    outcome = judge.score_one(SAMPLE)
    assert outcome.details["raw_score"] == 4.0
    assert sorted(outcome.details["samples"]) == [2, 4, 4]
    assert outcome.details["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert "<think>" in last_user(backend.calls[0]["messages"])
    assert all(c["temperature"] == 0.7 for c in backend.calls)


def test_mean_aggregation_for_k_samples():
    replies = iter(["[RESULT] 5", "[RESULT] 3", "[RESULT] 4"])
    backend = ScriptedBackend(lambda messages: next(replies))
    judge = RubricJudge(backend, normalize=False,
                        options=JudgeOptions(samples=3, aggregate="mean"))
    assert judge.score_one(SAMPLE).score == 4.0


def test_principle_judge_uses_sample_principle_and_needs_one():
    backend = ScriptedBackend(["Follows it. [RESULT] 10"])
    judge = PrincipleJudge(backend)
    sample = Sample(prompt="Hi", response="Hello!", metadata={"principle": "Be concise."})
    assert judge.score_one(sample).score == 1.0
    assert "Be concise." in last_user(backend.calls[0]["messages"])
    assert judge.score_one(Sample(prompt="Hi", response="Hello!")).status is Status.BAD_REFERENCE


def test_json_output_mode():
    backend = ScriptedBackend([reply_json(feedback="Right answer.", verdict=5)])
    outcome = RubricJudge(backend, options=JudgeOptions(output="json")).score_one(SAMPLE)
    assert outcome.score == 1.0 and outcome.details["feedback"] == "Right answer."
    bad = ScriptedBackend([reply_json(feedback="x", verdict=9)])
    outcome = RubricJudge(bad, options=JudgeOptions(output="json")).score_one(SAMPLE)
    assert outcome.status is Status.UNPARSEABLE


# --- screening -------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", [":", "Thought process:", "", "かいせつ"])
def test_master_keys_are_screened_before_the_judge(attack):
    backend = ScriptedBackend(["[RESULT] 5"])
    judge = VerificationJudge(backend)
    outcome = judge.score_one(Sample(prompt="2+2?", response=attack, reference="4"))
    assert outcome.status is Status.OK and outcome.score == 0.0
    assert outcome.details["master_key"]["kind"] in ("empty", "symbols_only", "reasoning_opener")
    assert backend.calls == []
    assert judge.screen_hits == 1


def test_screen_can_be_turned_off():
    backend = ScriptedBackend(["[RESULT] A"])
    judge = VerificationJudge(backend, options=JudgeOptions(screen_master_keys=False))
    assert judge.score_one(Sample(prompt="2+2?", response=":", reference="4")).score == 1.0
    assert judge.screen_hits == 0


# --- pairwise --------------------------------------------------------------------------------


def fair_pairwise(messages) -> str:
    """Prefers the response containing 'Paris', wherever it is shown."""
    text = last_user(messages)
    a = text.split("### Response A")[1].split("### Response B")[0]
    return "[RESULT] A" if "Paris" in a else "[RESULT] B"


def test_pairwise_runs_both_orders_and_agrees():
    backend = ScriptedBackend(fair_pairwise)
    judge = PairwiseJudge(backend)
    win = judge.score_one(Sample(prompt="Capital?", response="Paris", reference="Lyon"))
    loss = judge.score_one(Sample(prompt="Capital?", response="Lyon", reference="Paris"))
    assert win.score == 1.0 and win.details["position_consistent"]
    assert win.details["verdicts"] == {"response_first": "A", "response_second": "B"}
    assert loss.score == 0.0 and loss.details["confidence"] == "high"
    assert len(backend.calls) == 4


def test_position_biased_judge_gives_low_confidence_tie():
    judge = PairwiseJudge(ScriptedBackend(["[RESULT] A"]))
    outcome = judge.score_one(Sample(prompt="Capital?", response="Paris", reference="Lyon"))
    assert outcome.score == 0.5
    assert outcome.details["position_consistent"] is False
    assert outcome.details["confidence"] == "low"


def test_pairwise_tie_and_missing_baseline():
    judge = PairwiseJudge(ScriptedBackend(["[RESULT] TIE"]))
    assert judge.score_one(Sample(prompt="Q", response="x1", reference="x2")).score == 0.5
    assert judge.score_one(Sample(prompt="Q", response="x1")).status is Status.BAD_REFERENCE


def test_master_key_loses_pairwise_without_a_call():
    backend = ScriptedBackend(["[RESULT] A"])
    outcome = PairwiseJudge(backend).score_one(Sample(prompt="Q", response="...",
                                                      reference="A real answer"))
    assert outcome.score == 0.0 and backend.calls == []


# --- listwise --------------------------------------------------------------------------------


def pick_paris(messages) -> str:
    text = last_user(messages)
    for block in text.split("### Candidate ")[1:]:
        number, body = block.split("\n", 1)
        if "Paris" in body:
            return f"Best is this one. [RESULT] {number.strip()}"
    return "[RESULT] 1"


def test_listwise_picks_per_group_and_reports_shares():
    backend = ScriptedBackend(pick_paris)
    judge = ListwiseJudge(backend, shuffles=3)
    samples = [Sample(prompt="Capital?", response=r, group="g1") for r in ("Lyon", "Paris", "Nice")]
    samples += [Sample(prompt="Other?", response="alone", group="g2"),
                Sample(prompt="Capital?", response=":", group="g1")]
    outcomes = judge.score(samples)
    assert [o.score for o in outcomes[:3]] == [0.0, 1.0, 0.0]
    assert outcomes[3].status is Status.SKIPPED
    assert outcomes[4].score == 0.0 and "master_key" in outcomes[4].details
    assert len(backend.calls) == 3  # one call per shuffle for the one real group
    assert ":" not in "".join(last_user(c["messages"]) for c in backend.calls).split("Candidate")


# --- checklist -------------------------------------------------------------------------------


def test_checklist_weights_items_and_judges_each_separately():
    def reply(messages):
        item = last_user(messages).split("### Requirement\n")[1].split("\n")[0]
        return "[RESULT] YES" if "greet" in item else "[RESULT] NO"

    backend = ScriptedBackend(reply)
    judge = ChecklistJudge(backend, checklist=[{"item": "It greets the user", "weight": 3},
                                               {"item": "It cites a source", "weight": 1}])
    outcome = judge.score_one(Sample(prompt="Say hi", response="Hello there!"))
    assert outcome.score == 0.75
    assert [c["satisfied"] for c in outcome.details["checks"]] == [True, False]
    assert len(backend.calls) == 2


def test_checklist_items_generated_once_per_instruction():
    def reply(messages):
        if "Write a checklist" in last_user(messages):
            return "- Mentions Paris\n- Is one sentence\n"
        return "[RESULT] YES"

    backend = ScriptedBackend(reply)
    judge = ChecklistJudge(backend)
    outcomes = judge.score([Sample(prompt="Capital of France?", response=r)
                            for r in ("Paris.", "It is Paris.")])
    assert [o.score for o in outcomes] == [1.0, 1.0]
    generations = [c for c in backend.calls if "Write a checklist" in last_user(c["messages"])]
    assert len(generations) == 1
    assert outcomes[0].details["checks"][0]["item"] == "Mentions Paris"


def test_checklist_with_an_unparseable_item_is_unparseable():
    def reply(messages):
        return "[RESULT] YES" if "first" in last_user(messages) else "unsure"

    judge = ChecklistJudge(ScriptedBackend(reply), checklist=["first item", "second item"],
                           options=JudgeOptions(max_parse_retries=1))
    outcome = judge.score_one(Sample(prompt="Q", response="An answer"))
    assert outcome.status is Status.UNPARSEABLE and outcome.score is None
    assert outcome.details["checks"][1]["satisfied"] is None


def test_parse_checklist_and_bad_checklists():
    assert parse_checklist("Items:\n- one\n2. two\n* one\nnot an item") == ["one", "two"]
    with pytest.raises(ValueError):
        ChecklistJudge(ScriptedBackend(["x"]), checklist=[{"item": "a", "weight": -1}])
    judge = ChecklistJudge(ScriptedBackend(["x"]), generate_items=False)
    assert judge.score_one(Sample(prompt="Q", response="A")).status is Status.BAD_REFERENCE


# --- verification and failures ---------------------------------------------------------------


@pytest.mark.parametrize(("reply", "score", "label"), [("[RESULT] A", 1.0, "correct"),
                                                       ("[RESULT] B", 0.0, "incorrect"),
                                                       ("Cut off. [RESULT] C", 0.0, "invalid")])
def test_verification_labels(reply, score, label):
    outcome = VerificationJudge(ScriptedBackend([reply])).score_one(SAMPLE)
    assert outcome.score == score and outcome.details["label"] == label


def test_verification_needs_a_reference_and_a_majority():
    judge = VerificationJudge(ScriptedBackend(["[RESULT] A"]))
    assert judge.score_one(Sample(prompt="Q", response="4")).status is Status.BAD_REFERENCE
    replies = iter(["[RESULT] A", "[RESULT] B"])
    split = VerificationJudge(ScriptedBackend(lambda m: next(replies)),
                              options=JudgeOptions(samples=2))
    assert split.score_one(SAMPLE).status is Status.UNPARSEABLE


class FailingBackend(ScriptedBackend):
    async def chat(self, messages, **params):
        if "Lyon" in last_user(messages):
            raise LLMError("server down")
        return await super().chat(messages, **params)


def test_backend_failure_is_an_error_for_that_sample_only():
    judge = RubricJudge(FailingBackend(["[RESULT] 5"]))
    ok, failed = judge.score([Sample(prompt="Q", response="Paris"),
                              Sample(prompt="Q", response="Lyon")])
    assert ok.score == 1.0
    assert failed.status is Status.ERROR and "server down" in failed.reason


def test_spec_errors_name_the_field():
    from rewardlab import SpecError

    with pytest.raises(SpecError, match="backend"):
        build_reward({"name": "judge_rubric"})
    with pytest.raises(SpecError, match="samples"):
        build_reward({"name": "judge_rubric", "backend": ScriptedBackend(["x"]), "samples": 0})
    assert isinstance(ScriptedBackend(["x"]), LLMBackend)


def test_weighted_rubric_score_uses_the_verdict_token_distribution():
    from rewardlab.backends.llm import ChatResult, TokenLogprob

    reply = ChatResult(text="Good. [RESULT] 4", logprobs=(
        TokenLogprob("Good.", -0.1), TokenLogprob(" [RESULT]", -0.1),
        TokenLogprob(" 4", -0.5, ((" 4", math.log(0.6)), (" 5", math.log(0.3)),
                                  (" six", math.log(0.05)), ("2", math.log(0.1)))),
    ))
    backend = ScriptedBackend([reply])
    outcome = RubricJudge(backend, weighted=True, normalize=False).score_one(SAMPLE)
    assert backend.calls[0]["logprobs"] is True and backend.calls[0]["top_logprobs"] == 20
    assert outcome.details["raw_score"] == 4.0
    assert outcome.score == pytest.approx((4 * 0.6 + 5 * 0.3 + 2 * 0.1) / 1.0)
    assert outcome.details["score_distribution"] == {"2": 0.1, "4": 0.6, "5": 0.3}
    with pytest.raises(ValueError, match="weighted"):
        RubricJudge(backend, weighted=True, options=JudgeOptions(output="json"))
