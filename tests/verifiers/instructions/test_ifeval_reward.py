"""The ``ifeval`` reward against the official IFEval checker: the fixture's official verdicts,
the official code run side by side on adversarial texts, and typed outcomes for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ifeval_official import official_ifeval, official_verdicts

from rewardlab import Sample, Status
from rewardlab.registry import get_reward_factory
from rewardlab.spec import build_reward
from rewardlab.verifiers.instructions.constraints import available_constraints
from rewardlab.verifiers.instructions.ifeval_reward import check_instructions
from rewardlab.verifiers.instructions.reference import bind_all, parse_instructions


def _records(fixtures_dir: Path) -> list[dict]:
    path = fixtures_dir / "ifeval" / "gpt4_official.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_all_25_ifeval_types_are_registered_with_the_official_ids() -> None:
    ours = set(available_constraints("ifeval"))
    assert len(ours) == 25
    assert ours == set(official_ifeval().INSTRUCTION_DICT)


def test_fixture_agreement_with_official_verdicts(fixtures_dir: Path) -> None:
    records = _records(fixtures_dir)
    total, disagree = 0, {"strict": [], "loose": []}
    for rec in records:
        verdicts = check_instructions(rec["response"], bind_all(parse_instructions(rec)))
        for v, strict, loose in zip(verdicts, rec["strict"], rec["loose"], strict=True):
            total += 1
            if v["strict"] != strict:
                disagree["strict"].append((rec["key"], v["id"]))
            if v["loose"] != loose:
                disagree["loose"].append((rec["key"], v["id"]))
    assert total == 156
    # docs/instruction-following.md explains every disagreement; there are none on this set.
    for mode in ("strict", "loose"):
        assert 1 - len(disagree[mode]) / total >= 0.99, disagree[mode]
    assert disagree == {"strict": [], "loose": []}


# Texts that stress whitespace, look-alike characters, markdown and sizes.
ADVERSARIAL = [
    "",
    "   \n\t  ",
    "\u00a0\u2003\u3000",  # Unicode spaces only
    "hello\u00a0world, here\u2003we go",  # NBSP and em space between words
    "Hello，world‚ no ASCII comma here ꓹ",  # noqa: RUF001 - look-alike commas on purpose
    "НЕLLO WОRLD",  # noqa: RUF001 - Cyrillic capitals that look Latin
    "ＡＬＬ ＣＡＰＳ ＦＵＬＬＷＩＤＴＨ",  # noqa: RUF001 - full-width letters
    "* one\n* two\n- three\n  * nested\n**bold** line\n*** \n***",
    "Paragraph one.\n\n***\n\nParagraph two.\n***\n\n***\nThree",
    "```json\n{\"a\": [1, 2, {\"b\": null}]}\n```",
    "```\n[1, 2\n```",
    "<<Title>> then *highlight* and **bold** and ** ** and *\n*",
    "\"Quoted answer, with a comma.\"",
    "SECTION 1\nintro\nSECTION 2 body Section 3\n\nP.S. p.p.s later",
    "First line\nMy answer is yes.\nlast line ******",
    "answer one\n******\nanswer two",
    "Mr. Smith met Dr. Who at 5 p.m. on Jan. 3. They talked! Did they? Yes... e.g. twice.",
    "THE U.S.A. AND THE U.K. ARE NOT THE SAME.\nWHY? BECAUSE.",
    "il était une fois une petite fille qui aimait les fleurs et le soleil du matin",
    "1234 5678 !!! ???",
    "[name] lives at [address] and [ ] is empty [",
    "word " * 400,
]

INSTRUCTIONS = [
    ("keywords:existence", {"keywords": ["hello", "world"]}),
    ("keywords:frequency", {"keyword": "the", "frequency": 2, "relation": "at least"}),
    ("keywords:forbidden_words", {"forbidden_words": ["answer", "yes"]}),
    ("keywords:letter_frequency", {"letter": "e", "let_frequency": 3, "let_relation": "less than"}),
    ("language:response_language", {"language": "fr"}),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}),
    ("length_constraints:number_words", {"num_words": 10, "relation": "less than"}),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "paragraph"}),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}),
    ("detectable_format:number_bullet_lists", {"num_bullets": 3}),
    ("detectable_format:constrained_response", {}),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 2}),
    ("detectable_format:json_format", {}),
    ("detectable_format:title", {}),
    ("combination:two_responses", {}),
    ("combination:repeat_prompt", {"prompt_to_repeat": "First line"}),
    ("startend:end_checker", {"end_phrase": "Yes."}),
    ("change_case:capital_word_frequency",
     {"capital_frequency": 3, "capital_relation": "at least"}),
    ("change_case:english_capital", {}),
    ("change_case:english_lowercase", {}),
    ("punctuation:no_comma", {}),
    ("startend:quotation", {}),
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=[f"text{i}" for i in range(len(ADVERSARIAL))])
def test_matches_the_official_checker_on_adversarial_texts(text: str) -> None:
    ids = [i for i, _ in INSTRUCTIONS]
    kwargs = [k for _, k in INSTRUCTIONS]
    official = official_verdicts("prompt", text, ids, kwargs)
    ours = check_instructions(text, bind_all(list(zip(ids, kwargs, strict=True))))
    mismatches = [(v["id"], (v["strict"], v["loose"]), o)
                  for v, o in zip(ours, official, strict=True) if (v["strict"], v["loose"]) != o]
    assert mismatches == []


def test_reward_scores_fraction_all_and_modes() -> None:
    ref = {"instruction_id_list": ["punctuation:no_comma", "startend:quotation"],
           "kwargs": [{}, {}]}
    text = "**\"no commas here\"**"  # quotation only holds once '*' are removed (loose)
    strict = build_reward({"name": "ifeval", "isolation": "inline"})
    loose = build_reward({"name": "ifeval", "mode": "loose", "isolation": "inline"})
    every = build_reward({"name": "ifeval", "aggregate": "all", "isolation": "inline"})
    s = Sample(response=text, reference=ref)
    assert strict.score_one(s).score == 0.5
    assert loose.score_one(s).score == 1.0
    assert every.score_one(s).score == 0.0
    out = strict.score_one(s)
    assert out.details["instructions"] == [
        {"id": "punctuation:no_comma", "strict": True, "loose": True},
        {"id": "startend:quotation", "strict": False, "loose": True}]
    assert out.details["prompt_loose"] is True and out.details["prompt_strict"] is False
    assert "startend:quotation" in out.reason


@pytest.mark.parametrize("reference", [
    {"instruction_id_list": ["no_such:instruction"], "kwargs": [{}]},
    {"instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": 5}]},
    {"instruction_id_list": ["length_constraints:number_words"],
     "kwargs": [{"num_words": "many", "relation": "at least"}]},
    {"instruction_id_list": ["length_constraints:number_words"],
     "kwargs": [{"num_words": 5, "relation": "about"}]},
    {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{"typo": 1}]},
    {"instruction_id_list": ["punctuation:no_comma", "startend:quotation"], "kwargs": [{}]},
    {"instruction_id_list": ["length_constraints:nth_paragraph_first_word"],
     "kwargs": [{"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "x"}]},
    {"instruction_id_list": ["keywords:letter_frequency"],
     "kwargs": [{"letter": "ab", "let_frequency": 1, "let_relation": "at least"}]},
    {"instruction_id_list": [], "kwargs": []},
    "not json at all {",
    {"func_name": "validate_lowercase", "N": None},
    42,
    [1, 2],
])
def test_bad_references_are_bad_reference(reference: object) -> None:
    reward = build_reward({"name": "ifeval", "isolation": "inline"})
    out = reward.score_one(Sample(response="some text", reference=reference))
    assert out.status is Status.BAD_REFERENCE, out
    assert out.reason


def test_no_reference_and_no_spec_instructions_is_bad_reference() -> None:
    reward = build_reward({"name": "ifeval", "isolation": "inline"})
    assert reward.score_one(Sample(response="x")).status is Status.BAD_REFERENCE


def test_spec_instructions_apply_to_samples_without_reference() -> None:
    reward = build_reward({"name": "ifeval", "isolation": "inline", "instructions": [
        {"id": "change_case:english_lowercase"}]})
    assert reward.score_one(Sample(response="all lowercase english words here")).score == 1.0
    with pytest.raises(ValueError, match="unknown instruction"):
        build_reward({"name": "ifeval", "instructions": [{"id": "nope:nope"}]})


@pytest.mark.parametrize("reference", [
    # IFBench / open-instruct IF-RLVR ground truth, as text
    "[{'instruction_id': ['punctuation:no_comma'], 'kwargs': [None]}]",
    json.dumps({"instruction_id": "punctuation:no_comma", "kwargs": {}}),
    [{"instruction_id": "punctuation:no_comma", "kwargs": {}}],
    # the Hugging Face IFEval rows carry every kwarg name with None for unused ones
    {"instruction_id_list": ["punctuation:no_comma"],
     "kwargs": [{"num_words": None, "relation": None, "keywords": None}]},
])
def test_reference_shapes_of_open_rlvr_data(reference: object) -> None:
    reward = build_reward({"name": "ifeval", "isolation": "inline"})
    assert reward.score_one(Sample(response="no commas", reference=reference)).score == 1.0


def test_undecidable_language_policy() -> None:
    ref = {"instruction_id_list": ["language:response_language"], "kwargs": [{"language": "fr"}]}
    digits = Sample(response="12345 678", reference=ref)
    official = build_reward({"name": "ifeval", "isolation": "inline"})
    strict = build_reward({"name": "ifeval", "isolation": "inline", "undecidable": "fail"})
    assert official.score_one(digits).score == 1.0  # the official checker's choice
    assert strict.score_one(digits).score == 0.0


def test_registered_under_ifeval() -> None:
    assert "IFEval" in get_reward_factory("ifeval").summary


def test_non_letter_in_letter_frequency_is_counted_as_written(fixtures_dir: Path) -> None:
    # IFEval record 1122 asks for the "letter" '#' at least 4 times. The official checker
    # replaces a non-letter by a random ASCII letter, so its verdict there is a coin toss
    # (docs/instruction-following.md); rewardlab counts '#' itself, deterministically.
    rec = next(r for r in _records(fixtures_dir) if r["key"] == 1122)
    assert rec["kwargs"][1]["letter"] == "#" and rec["response"].count("#") == 4
    verdicts = check_instructions(rec["response"], bind_all(parse_instructions(rec)))
    assert verdicts[1] == {"id": "keywords:letter_frequency", "strict": True, "loose": True}
    assert rec["strict"][1] is True  # what the official run behind the fixture happened to draw


def test_capital_word_count_shortcuts_change_no_count(fixtures_dir: Path) -> None:
    from rewardlab.verifiers.instructions._text import count_capital_words, word_tokens

    texts = [r["response"] for r in _records(fixtures_dir)] + ADVERSARIAL
    for text in texts:
        full = sum(1 for t in word_tokens(text) if t.isupper())
        assert count_capital_words(text) == full
        assert count_capital_words(text, stop_at=2) == full if full < 2 else \
            count_capital_words(text, stop_at=2) >= 2


def test_capital_word_shortcut_is_exact_on_generated_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rewardlab.verifiers.instructions._text import count_capital_words, word_tokens

    pieces = st.sampled_from(["DOn't", "CANnot", "GONna", "I", "a", "Mr.", "U.S.A.", "x", "ABc",
                              "d'YE", "'TIS", "more'N", "hello", "World", "WORLD", "\u24b6",
                              "\u216b", "e.g.", ",", ".", "?", "!", "\"", "'", "(", ")", "--",
                              "O'NEIL", "ROCK'n'ROLL", "can't", "WON'T", "\u00e9T\u00c9", "_X_",
                              "A1b", "\n", "\n\n", "..."])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=30).map(" ".join))
    def check(text: str) -> None:
        assert count_capital_words(text) == sum(1 for t in word_tokens(text) if t.isupper())

    check()
