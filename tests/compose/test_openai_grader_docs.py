"""The OpenAI Graders guide's and API reference's examples, run through rewardlab.

Examples are from https://developers.openai.com/api/docs/guides/graders (templating, tool-call
grading, string check, combined graders, score model) and the shapes from the ``openai`` SDK's
own ``openai.types.graders`` models (the API reference's types). OpenAI retires its graders API
on 2026-11-30; these tests pin the documented semantics users migrate with.
"""

from __future__ import annotations

import json

import pytest

from rewardlab import Sample, SpecError, Status, build_reward
from rewardlab.backends.llm import ChatResult, LLMBackend
from rewardlab.compose.formula import Formula
from rewardlab.compose.openai_graders import grader_from_openai, render

TOOL_CALL_GRADER = {  # the guide, "Details on grading tool calls"
    "type": "multi",
    "graders": {
        "function_name": {"name": "function_name", "type": "string_check",
                          "input": "get_acceptors",
                          "reference": "{{sample.output_tools[0].function.name}}",
                          "operation": "eq"},
        "arguments": {"name": "arguments", "type": "string_check",
                      "input": "{\"smiles\": \"{{item.smiles}}\"}",
                      "reference": "{{sample.output_tools[0].function.arguments}}",
                      "operation": "eq"},
    },
    "calculate_output": "0.5 * function_name + 0.5 * arguments",
}

COMBINED_GRADER = {  # the guide, "Combined graders"
    "type": "multi",
    "graders": {
        "name": {"name": "name_grader", "type": "text_similarity",
                 "input": "{{sample.output_json.name}}", "reference": "{{item.name}}",
                 "evaluation_metric": "fuzzy_match", "pass_threshold": 0.9},
        "email": {"name": "email_grader", "type": "string_check",
                  "input": "{{sample.output_json.email}}", "reference": "{{item.email}}",
                  "operation": "eq"},
    },
    "calculate_output": "(name + email) / 2",
}


def _call(name: str, arguments: str) -> dict:
    return {"id": "call_0", "type": "function",
            "function": {"name": name, "arguments": arguments}}


def test_guide_tool_call_grader():
    grader = grader_from_openai(TOOL_CALL_GRADER)
    args = '{"smiles": "CCO"}'
    batch = [
        Sample(response="", metadata={"smiles": "CCO",
                                      "tool_calls": [_call("get_acceptors", args)]}),
        Sample(response="", metadata={"smiles": "CCO",
                                      "tool_calls": [_call("get_acceptors", '{"smiles": "C"}')]}),
        Sample(response="", metadata={"smiles": "CCO", "tool_calls": [_call("other", args)]}),
        Sample(response="no tool call", metadata={"smiles": "CCO"}),
    ]
    out = grader.score(batch)
    assert [o.score for o in out[:3]] == [1.0, 0.5, 0.5]
    assert out[3].status is Status.UNPARSEABLE  # no output_tools: never a silent 0
    assert "output_tools[0]" in out[3].reason


def test_guide_combined_grader():
    pytest.importorskip("rapidfuzz")
    grader = grader_from_openai(COMBINED_GRADER)
    item = {"name": "John Doe", "email": "john.doe@gmail.com"}
    exact = Sample(response=json.dumps(item), metadata=item)
    typo = Sample(response=json.dumps({**item, "name": "Jon Doe"}), metadata=item)
    wrong_email = Sample(response=json.dumps({**item, "email": "x@y.z"}), metadata=item)
    out = grader.score([exact, typo, wrong_email])
    assert out[0].score == 1.0
    assert 0.5 < out[1].score < 1.0  # "samples that get the email right score 0.5-1.0"
    assert out[2].score == 0.5  # ... and 0-0.5 when it is wrong
    named = out[1].details["component_outcomes"]["name"]
    assert named["details"]["passed"] is (named["score"] >= 0.9)


def test_guide_score_model_example_renders_and_truncates_to_range():
    grader = {  # the guide's runnable score_model sample
        "type": "score_model", "name": "my_score_model",
        "input": [
            {"role": "system", "content": "You are an expert grader. If the reference and model "
             "answer are exact matches, output a score of 1. If they are somewhat similar in "
             "meaning, output a score in 0.5. Otherwise, give a score of 0."},
            {"role": "user", "content": "Reference: {{ item.reference_answer }}. Model answer: "
             "{{ sample.output_text }}"},
        ],
        "pass_threshold": 0.5, "model": "o4-mini-2025-04-16", "range": [0, 1],
        "sampling_params": {"max_completions_tokens": 32768, "top_p": 1,
                            "reasoning_effort": "medium"},
    }
    backend = Replies('{"result": 1}', '{"result": 1.7}', '{"result": -3}')
    out = grader_from_openai(grader, backend=backend).score(
        [Sample(response="0.9", metadata={"reference_answer": 1.0})] * 3)
    assert backend.seen[0][1]["content"].startswith("Reference: 1.0. Model answer: 0.9")
    assert [o.score for o in out] == [1.0, 1.0, 0.0]
    assert out[1].details["clipped_from"] == 1.7 and out[0].details["passed"] is True


class Replies(LLMBackend):
    """Fixed replies in order (the verdict logic only)."""

    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.replies, self.seen = list(replies), []

    async def chat(self, messages, **kwargs):
        self.seen.append(messages)
        return ChatResult(text=self.replies.pop(0))

    async def continuation_logprobs(self, context, continuation):
        raise NotImplementedError


@pytest.mark.parametrize(("operation", "expected"), [
    ("eq", 0.0), ("ne", 1.0), ("neq", 1.0), ("like", 0.0), ("ilike", 1.0)])
def test_string_check_operations_including_the_guides_neq(operation, expected):
    grader = grader_from_openai({"type": "string_check", "name": "c", "operation": operation,
                                 "input": "{{ sample.output_text }}",
                                 "reference": "{{ item.city }}"})
    assert grader.score_one(Sample(response="It is Paris", metadata={"city": "paris"})).score \
        == expected


def test_indexes_and_nested_fields_in_templates():
    s = Sample(response='{"a": [{"b": "deep"}]}', reference={"answers": ["Paris", "Lyon"]},
               metadata={"tool_calls": [_call("f", "{}")]})
    assert render("{{item.answers[0]}}/{{ item.answers[1] }}", s) == "Paris/Lyon"
    assert render("{{ sample.output_json.a[0].b }}", s) == "deep"
    assert render("{{sample.output_tools[0].function.name}}", s) == "f"
    grader = grader_from_openai({"type": "string_check", "name": "c", "operation": "eq",
                                 "input": "{{ sample.output_text }}",
                                 "reference": "{{ item.answers[0] }}"})
    assert grader.score_one(Sample(response="Paris", reference={"answers": ["Paris"]})).score == 1
    missing = grader.score_one(Sample(response="Paris", reference={"answers": []}))
    assert missing.status is Status.BAD_REFERENCE  # an index past the end: not a silent 0


@pytest.mark.parametrize("template", [
    "{{ answer }}", "{{ items.answer }}", "{{ item }}", "{{ item.answer | upper }}",
    "{{ item.answers[-1] }}", "{{ item['answer'] }}", "{{ sample.output_audio.transcript }}",
    "{{ sample.unknown }}", "{{ item.a + item.b }}", "{{ item.[0] }}",
])
def test_unsupported_template_forms_fail_at_build_time(template):
    with pytest.raises(SpecError, match="template"):
        build_reward({"name": "openai_grader", "grader": {
            "type": "string_check", "name": "c", "operation": "eq",
            "input": "{{ sample.output_text }}", "reference": template}})


def test_model_grader_messages_are_checked_at_build_time():
    with pytest.raises(ValueError, match="template"):
        grader_from_openai({"type": "score_model", "name": "s", "model": "m",
                            "input": [{"role": "user", "content": "{{ item.x || 1 }}"}]},
                           backend=Replies())


def test_power_is_caret_with_mathematical_precedence():
    f = Formula("2 * a ^ 2 - b ^ 0.5 + -a ^ 2", ["a", "b"])
    assert f.evaluate({"a": 3.0, "b": 4.0}) == 2 * 9 - 2 - 9
    grader = grader_from_openai({**TOOL_CALL_GRADER,
                                 "calculate_output": "function_name ^ 2 * arguments"})
    s = Sample(response="", metadata={"smiles": "C",
                                      "tool_calls": [_call("get_acceptors", '{"smiles": "C"}')]})
    assert grader.score_one(s).score == 1.0


def test_graders_as_a_list_or_as_a_single_grader():
    one = TOOL_CALL_GRADER["graders"]["function_name"]
    both = list(TOOL_CALL_GRADER["graders"].values())
    s = Sample(response="", metadata={"smiles": "C",
                                      "tool_calls": [_call("get_acceptors", "{}")]})
    single = grader_from_openai({"type": "multi", "name": "m", "graders": one,
                                 "calculate_output": "function_name"})
    assert single.score_one(s).score == 1.0
    listed = grader_from_openai({"type": "multi", "name": "m", "graders": both,
                                 "calculate_output": "0.5 * function_name + 0.5 * arguments"})
    assert listed.score_one(s).score == 0.5
    with pytest.raises(ValueError, match="name"):
        grader_from_openai({"type": "multi", "name": "m", "calculate_output": "x",
                            "graders": [{**one, "name": ""}]})


def test_multi_inside_multi_is_rejected():
    with pytest.raises(SpecError, match="nesting"):
        build_reward({"name": "openai_grader", "grader": {
            "type": "multi", "name": "outer", "calculate_output": "inner",
            "graders": {"inner": TOOL_CALL_GRADER}}})


def test_every_sdk_grader_shape_is_accepted():
    """Shapes built and dumped by the ``openai`` SDK's own grader types."""
    graders = pytest.importorskip("openai.types.graders")
    string_check = graders.StringCheckGrader(
        type="string_check", name="exact", operation="ne", input="{{ sample.output_text }}",
        reference="{{ item.answers[0] }}")
    similarity = graders.TextSimilarityGrader(
        type="text_similarity", name="sim", evaluation_metric="bleu",
        input="{{ sample.output_text }}", reference="{{ item.answers[0] }}")
    multi = graders.MultiGrader(type="multi", name="multi", graders=string_check,
                                calculate_output="exact ^ 2")
    python = graders.PythonGrader(type="python", name="py",
                                  source="def grade(sample, item):\n    return 1.0")
    score_model = graders.ScoreModelGrader(
        type="score_model", name="judge", model="m", range=[0, 10],
        input=[{"role": "user", "content": "Rate {{ sample.output_text }}"}])
    label_model = graders.LabelModelGrader(
        type="label_model", name="label", model="m", labels=["good", "bad"],
        passing_labels=["good"], input=[{"role": "user", "content": "{{ item.answers[0] }}"}])
    s = Sample(response="Lyon", reference={"answers": ["Paris"]})
    for model in (string_check, similarity, multi, python, score_model, label_model):
        config = model.model_dump(exclude_none=True)
        built = grader_from_openai(config, backend=Replies('{"result": 3}',
                                                           '{"result": "good"}'))
        if model.type in ("string_check", "multi"):
            assert built.score_one(s).score == 1.0, model.type
