"""OpenAI grader JSON import: every grader type, templates, the safe formula, the sandbox."""

from __future__ import annotations

import json

import pytest
from compose_helpers import sample

from rewardlab import Sample, SpecError, Status, build_reward
from rewardlab.backends.llm import ChatResult, LLMBackend
from rewardlab.compose.formula import Formula, FormulaError
from rewardlab.compose.openai_graders import grader_from_openai, render
from rewardlab.engine.sandbox import bwrap_status


def check(operation, reference="{{ item.answer }}"):
    return {"type": "string_check", "name": "check", "input": "{{ sample.output_text }}",
            "reference": reference, "operation": operation}


def row(response, **item):
    return Sample(response=response, metadata=item)


def test_templates_read_item_and_sample():
    s = Sample(response='{"city": "Paris"}', reference={"answer": "Paris"},
               metadata={"meta": {"k": [1, 2]}})
    assert render("{{item.answer}} {{ item.meta.k.1 }} {{ sample.output_json.city }}", s) == \
        "Paris 2 Paris"
    assert render("{{ item.reference }}", Sample(response="x", reference="r")) == "r"
    with pytest.raises(ValueError, match=r"item\.missing"):
        render("{{ item.missing }}", s)


def test_string_check_operations():
    s = row("The answer is Paris", answer="paris")
    scores = {op: grader_from_openai(check(op)).score_one(s).score
              for op in ("eq", "ne", "like", "ilike")}
    assert scores == {"eq": 0.0, "ne": 1.0, "like": 0.0, "ilike": 1.0}
    missing = grader_from_openai(check("eq")).score_one(row("x"))
    assert missing.status is Status.BAD_REFERENCE
    not_json = grader_from_openai(check("eq", "{{ sample.output_json.a }}")).score_one(row("x"))
    assert not_json.status is Status.UNPARSEABLE
    with pytest.raises(ValueError, match="operation"):
        grader_from_openai(check("regex"))


def test_text_similarity_metrics():
    s = row("the cat sat on the mat", ref="the cat sat on a mat")
    base = {"type": "text_similarity", "name": "sim", "input": "{{ sample.output_text }}",
            "reference": "{{ item.ref }}", "pass_threshold": 0.5}
    got = {}
    for metric in ("fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_l"):
        out = grader_from_openai({**base, "evaluation_metric": metric}).score_one(s)
        assert out.is_ok, (metric, out.reason)
        got[metric] = out.score
    assert 0.8 < got["fuzzy_match"] < 1.0
    assert got["rouge_1"] == pytest.approx(5 / 6)
    assert 0 < got["bleu"] < 1 and 0 < got["gleu"] < 1
    identical = grader_from_openai({**base, "evaluation_metric": "fuzzy_match"}).score_one(
        row("same", ref="same"))
    assert identical.score == 1.0 and identical.details["passed"] is True
    with pytest.raises(ValueError, match="evaluation_metric"):
        grader_from_openai({**base, "evaluation_metric": "wer"})


def test_cosine_uses_offline_embeddings():
    grader = grader_from_openai({"type": "text_similarity", "name": "cos",
                                 "input": "{{ sample.output_text }}",
                                 "reference": "{{ item.ref }}", "evaluation_metric": "cosine"})
    out = grader.score([row("A cat sits on the mat.", ref="A cat is sitting on a mat."),
                        row("Stock prices fell sharply.", ref="A cat is sitting on a mat.")])
    assert out[0].score > out[1].score


def test_formula_is_parsed_never_evaluated():
    f = Formula("0.5 * a + 0.5 * min(b, 1) - -c / 2 ** 2", ["a", "b", "c"])
    assert f.evaluate({"a": 1, "b": 3, "c": 4}) == pytest.approx(2.0)
    for bad in ("__import__('os').system('id')", "a.__class__", "[a for a in b]", "a if b else c",
                "lambda: 1", "'text'", "open('f')", "a[0]", "d + 1", "min(a, key=b)"):
        with pytest.raises(FormulaError):
            Formula(bad, ["a", "b", "c"])
    with pytest.raises(FormulaError, match="evaluate"):
        Formula("a / b", ["a", "b"]).evaluate({"a": 1, "b": 0})
    with pytest.raises(FormulaError):
        Formula("a ** 1000", ["a"]).evaluate({"a": 10})
    with pytest.raises(FormulaError):
        Formula("(0 - a) ** 0.5", ["a"]).evaluate({"a": 4})


def test_multi_grader_combines_with_the_formula():
    multi = {"type": "multi", "name": "combo", "calculate_output": "0.75 * exact + 0.25 * fuzzy",
             "graders": {"exact": check("eq"),
                         "fuzzy": {"type": "text_similarity", "name": "fuzzy",
                                   "input": "{{ sample.output_text }}",
                                   "reference": "{{ item.answer }}",
                                   "evaluation_metric": "fuzzy_match"}}}
    reward = build_reward({"name": "openai_grader", "grader": multi})
    out = reward.score([row("Paris", answer="Paris"), row("Pariss", answer="Paris"), row("x")])
    assert out[0].score == 1.0
    assert out[1].score == pytest.approx(0.25 * 10 / 11)
    assert out[1].details["components"] == {"exact": 0.0, "fuzzy": pytest.approx(10 / 11)}
    assert out[2].status is Status.BAD_REFERENCE
    with pytest.raises(SpecError, match="unknown name 'other'"):
        build_reward({"name": "openai_grader",
                      "grader": {**multi, "calculate_output": "exact + other"}})


def test_model_grader_validation(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"type": "label_model", "name": "judge", "model": "m",
                                "input": [{"role": "user", "content": "{{ item.x }}"}],
                                "labels": ["good", "bad"], "passing_labels": ["great"]}))
    with pytest.raises(SpecError, match="not in labels"):
        build_reward({"name": "openai_grader", "path": str(path)})
    with pytest.raises(SpecError, match="unknown grader type"):
        build_reward({"name": "openai_grader", "grader": {"type": "endpoint"}})
    with pytest.raises(SpecError, match="exactly one"):
        build_reward({"name": "openai_grader"})
    with pytest.raises(SpecError, match="list of messages"):
        build_reward({"name": "openai_grader",
                      "grader": {"type": "score_model", "model": "m", "input": "text"}})


class ScriptedBackend(LLMBackend):
    """A backend replying with fixed texts (unit test of the verdict logic only)."""

    def __init__(self, *replies):
        super().__init__()
        self.replies, self.seen = list(replies), []

    async def chat(self, messages, **kwargs):
        self.seen.append(messages)
        return ChatResult(text=self.replies.pop(0))

    async def continuation_logprobs(self, context, continuation):
        raise NotImplementedError


def test_model_grader_verdicts():
    score = {"type": "score_model", "name": "s", "model": "m", "range": [1, 5],
             "input": [{"role": "user", "content": [
                 {"type": "input_text", "text": "Q: {{ item.q }} A: {{ sample.output_text }}"}]}]}
    backend = ScriptedBackend('{"result": 4}', '{"result": 9}', "no idea")
    out = grader_from_openai(score, backend=backend).score([row("x", q="2+2")] * 3)
    assert out[0].score == 4.0
    # the guide: "The output of the grader will be truncated to the given range"
    assert out[1].score == 5.0 and out[1].details["clipped_from"] == 9.0
    assert out[2].status is Status.UNPARSEABLE
    assert "Q: 2+2 A: x" in backend.seen[0][-1]["content"]
    label = {**score, "type": "label_model", "labels": ["yes", "no"], "passing_labels": ["yes"]}
    out = grader_from_openai(label, backend=ScriptedBackend('{"result": "no"}')).score_one(
        row("x", q="1"))
    assert out.score == 0.0 and out.details["label"] == "no"


@pytest.mark.slow
def test_score_and_label_model_graders_against_a_real_server(llama_server):
    backend = {"type": "openai", "base_url": llama_server.base_url, "model": llama_server.model}
    score_grader = {
        "type": "score_model", "name": "quality", "model": "gpt-4o", "range": [0, 10],
        "sampling_params": {"temperature": 0.0, "max_completions_tokens": 16},
        "input": [{"role": "system", "content": "Rate the answer from 0 to 10."},
                  {"role": "user", "content": "Question: {{ item.question }}\n"
                                              "Answer: {{ sample.output_text }}"}]}
    label_grader = {**score_grader, "type": "label_model", "name": "verdict",
                    "labels": ["correct", "incorrect"], "passing_labels": ["correct"]}
    label_grader.pop("range")
    rows = [row("Paris", question="Capital of France?"),
            row("Paris")]  # no question: the template cannot be filled
    scored = build_reward({"name": "openai_grader", "grader": score_grader,
                           "backend": backend}).score(rows)
    labelled = build_reward({"name": "openai_grader", "grader": label_grader,
                             "backend": backend}).score(rows)
    # a 270M base model under load: the plumbing is tested (a real request, a typed answer),
    # not the judgement; an unreadable verdict must come back as unparseable, never as a score
    assert scored[0].status in (Status.OK, Status.UNPARSEABLE), scored[0].reason
    if scored[0].is_ok:
        assert 0.0 <= scored[0].score <= 10.0
    assert labelled[0].status in (Status.OK, Status.UNPARSEABLE), labelled[0].reason
    if labelled[0].is_ok:
        assert labelled[0].score == (1.0 if labelled[0].details["label"] == "correct" else 0.0)
    assert scored[1].status is Status.BAD_REFERENCE and labelled[1].status is Status.BAD_REFERENCE


@pytest.mark.skipif(not bwrap_status()[0], reason="bubblewrap is not usable here")
def test_python_grader_runs_in_the_sandbox():
    source = '''
import os

def grade(sample, item):
    if item.get("probe") == "fs":
        return 1.0 if os.path.exists("/work") else 0.0
    if item.get("probe") == "boom":
        raise RuntimeError("bad grader")
    if item.get("probe") == "text":
        return "not a number"
    return float(sample["output_text"].strip() == item["answer"])
'''
    grader = grader_from_openai({"type": "python", "name": "py", "source": source}, timeout=20)
    out = grader.score([row("42", answer="42"), row("41", answer="42"), row("x", probe="fs"),
                        row("x", probe="boom"), row("x", probe="text")])
    assert [o.score for o in out[:3]] == [1.0, 0.0, 0.0]  # project files are not visible
    assert out[0].details["isolation"].startswith("bwrap")
    assert out[3].status is Status.ERROR and "bad grader" in out[3].reason
    assert out[4].status is Status.ERROR and "finite number" in out[4].reason
    with pytest.raises(ValueError, match="does not parse"):
        grader_from_openai({"type": "python", "name": "py", "source": "def grade(:"})


@pytest.mark.skipif(not bwrap_status()[0], reason="bubblewrap is not usable here")
def test_python_grader_timeout():
    source = "def grade(sample, item):\n    while True:\n        pass\n"
    out = grader_from_openai({"type": "python", "name": "spin", "source": source},
                             timeout=1).score_one(sample())
    assert out.status is Status.TIMEOUT


def test_example_grader_file():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "openai_multi_grader.json"
    reward = build_reward({"name": "openai_grader", "path": str(example)})
    item = {"answer": "42", "explanation": "six times seven is forty two"}
    out = reward.score([
        row(json.dumps({"answer": "42", "explanation": "six times seven is forty two"}), **item),
        row(json.dumps({"answer": "41", "explanation": "six times seven"}), **item),
        row("42", **item),  # not JSON: output_json has no answer
    ])
    assert out[0].score == pytest.approx(1.0)
    assert out[1].score == pytest.approx(0.2 * 2 / 3)  # rouge-L: precision 1, recall 1/2
    assert out[2].status is Status.UNPARSEABLE
