"""End-to-end evaluation runs on the fixtures, the CLI, and resume after ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.evaluate import evaluate, load_items
from rewardlab.evaluate.failures import chance_level
from rewardlab.evaluate.summary import summarize

REPO = Path(__file__).resolve().parents[2]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hh_rlhf_with_length_baseline(fixtures_dir, tmp_path):
    items = list(load_items(fixtures_dir / "hh_rlhf/harmless-base-test.jsonl", "hh_rlhf"))
    run = evaluate("length_baseline", items, tmp_path / "hh", data_format="hh_rlhf",
                   progress=False)
    s = run.summary
    assert s["items"] == 800 and s["statuses"] == {"ok": 1600}
    # recompute the accuracy from the raw data: chosen strictly longer than rejected
    wins = sum(len(it.responses[0]) > len(it.responses[1]) for it in items)
    assert s["accuracy"]["mean"] == pytest.approx(wins / 800)
    assert s["accuracy"]["low"] < s["accuracy"]["mean"] < s["accuracy"]["high"]
    assert 0 <= s["calibration"]["ece"] <= 1 and s["calibration"]["temperature"] > 0
    rows = _rows(tmp_path / "hh/samples.jsonl")
    assert len(rows) == 800 and rows[0]["scores"] == [float(len(r)) for r in items[0].responses]
    assert (tmp_path / "hh/report.html").stat().st_size > 1000
    # the length baseline and a length reward agree on every item
    assert s["length_baseline"]["agreement_with_length"] == 1.0


def test_pandalm_annotator_agreement(fixtures_dir, tmp_path):
    path = fixtures_dir / "pandalm/testset-v1.jsonl"
    items = list(load_items(path, "pandalm"))
    run = evaluate("length_baseline", items, tmp_path / "panda", progress=False)
    agreement = run.summary["agreement"]
    assert agreement["n"] == 200
    # recompute from the raw records: the longer response wins, equal lengths are a tie;
    # the gold label is the majority of the three annotators, a three-way split is a tie
    hits, ties = 0, 0
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        a, b = len(str(rec["response1"])), len(str(rec["response2"]))
        pred = 1 if a > b else 2 if b > a else 0
        votes = [rec["annotator1"], rec["annotator2"], rec["annotator3"]]
        top = max(set(votes), key=votes.count)
        gold = top if votes.count(top) > 1 else 0
        hits += pred == gold
        ties += gold == 0
    assert agreement["accuracy"] == pytest.approx(hits / 200)
    assert agreement["ties_in_gold"] == ties > 0
    assert 0.5 < agreement["human_pairwise_agreement"] <= 1.0


def test_qwen_math_with_stored_scores(fixtures_dir, tmp_path):
    items = list(load_items(fixtures_dir / "qwen_math_bon/math_cot.jsonl", "qwen_math"))
    run = evaluate("stored_score", items, tmp_path / "qwen", progress=False)
    bon = run.summary["best_of_n"]
    assert 0.0 <= bon["random_pick"] <= bon["oracle_pass_at_n"] <= 1.0
    # top-1 by the stored RM must match a direct computation (ties share credit)
    expected = []
    for it in items:
        top = max(it.stored_scores)
        at_top = [i for i, s in enumerate(it.stored_scores) if s == top]
        expected.append(sum(it.labels[i] for i in at_top) / len(at_top))
    assert bon["top1_accuracy"]["mean"] == pytest.approx(sum(expected) / len(expected))
    corr = run.summary["calibration"]["correlation"]
    assert corr["auroc"] is not None and corr["n"] == 160


def test_summary_is_a_function_of_the_rows(fixtures_dir, tmp_path):
    items = list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))
    run = evaluate("length_baseline", items, tmp_path / "llm", progress=False, report=False)
    again = summarize(_rows(tmp_path / "llm/samples.jsonl"), data_format="auto")
    # run settings, and the chance level and failure examples (which need the items' texts,
    # see rewardlab.evaluate.failures) are added by evaluate()
    added = ("run", "chance", "examples")
    assert again == {k: v for k, v in run.summary.items() if k not in added}
    assert run.summary["chance"] == chance_level(_rows(tmp_path / "llm/samples.jsonl"))


def test_cli_eval_and_report(fixtures_dir, tmp_path, capsys):
    data = fixtures_dir / "llmbar/natural.jsonl"
    code = main(["eval", "--reward", "length_baseline", "--data", str(data), "--format", "llmbar",
                 "-o", str(tmp_path / "a"), "--no-progress", "--probes", "length,rewrites",
                 "--probe-limit", "20"])
    assert code == 0
    code = main(["eval", "--reward", "{name: length_baseline, unit: words}", "--data", str(data),
                 "-o", str(tmp_path / "b"), "--no-progress"])
    assert code == 0
    summary = json.loads((tmp_path / "a/summary.json").read_text())
    assert summary["run"]["format"] == "llmbar"
    assert set(summary["probes"]) == {"length", "rewrites"}
    assert json.loads((tmp_path / "b/summary.json").read_text())["run"]["format"] == "llmbar"
    out = tmp_path / "cmp.html"
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out)]) == 0
    html = out.read_text()
    assert html.count('data-chart="subsets"') == 1 and "length_baseline" in html
    combined = json.loads(out.with_suffix(".json").read_text())
    assert set(combined["runs"]) == {"a", "b"}
    # characters vs. words: nearly the same reward, compared on the same items
    (cmp,) = combined["comparisons"]
    assert cmp["items"] == 100 and cmp["same_decision"] > 0.9
    assert 0.0 <= cmp["starc_distance"] < 0.2 and cmp["spearman"] > 0.9
    assert "STARC" in html


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main(["eval", "--reward", "length_baseline", "--data", str(tmp_path / "none.jsonl"),
                 "--format", "llmbar", "--no-progress"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["eval", "--reward", "no_such_reward", "--data", "x.jsonl", "--no-progress"]) == 2
    assert "unknown reward" in capsys.readouterr().err
    assert main(["eval", "--reward", "length_baseline", "--data", "x.jsonl", "--probes", "bogus",
                 "--no-progress"]) == 2
    assert "unknown probes" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "summary.json" in capsys.readouterr().err


_SLOW_PLUGIN = '''
import asyncio
from rewardlab import Outcome, Reward, register

@register("slow_length_for_test")
class SlowLength(Reward):
    """Length reward that takes a while per batch, so a run can be killed halfway."""
    async def score_batch(self, samples):
        await asyncio.sleep(0.03)
        return [Outcome.ok(float(len(s.response) % 97)) for s in samples]
'''


def _eval_cmd(plugin_dir: Path, data: Path, out: Path, *extra: str) -> list[str]:
    code = (f"import sys; sys.path.insert(0, {str(plugin_dir)!r}); import slow_plugin; "
            "from rewardlab.cli import main; sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, "eval", "--reward", "slow_length_for_test", "--data",
            str(data), "--format", "hh_rlhf", "-o", str(out), "--batch-size", "4",
            "--limit", "240", "--no-progress", *extra]


def test_resume_after_kill_9_gives_identical_results(fixtures_dir, tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "slow_plugin.py").write_text(_SLOW_PLUGIN)
    data = fixtures_dir / "hh_rlhf/harmless-base-test.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    reference = tmp_path / "reference"
    subprocess.run(_eval_cmd(plugin, data, reference), env=env, check=True, timeout=120)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_eval_cmd(plugin, data, killed), env=env, start_new_session=True)
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if samples.exists() and samples.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = samples.read_bytes().count(b"\n")
    assert 40 <= done_before < 240, "the run should have been killed halfway"

    subprocess.run(_eval_cmd(plugin, data, killed, "--resume"), env=env, check=True, timeout=120)
    assert samples.read_bytes() == (reference / "samples.jsonl").read_bytes()
    rows = _rows(samples)
    assert len(rows) == 240 and len({r["id"] for r in rows}) == 240
    strip = lambda s: {k: v for k, v in s.items() if k != "run"}  # noqa: E731
    assert strip(json.loads((killed / "summary.json").read_text())) == \
        strip(json.loads((reference / "summary.json").read_text()))


def test_prompt_relevance_baseline_with_the_offline_embedding_model(fixtures_dir, tmp_path):
    pytest.importorskip("sentence_transformers")
    from rewardlab.evaluate import EvalItem

    on_topic = EvalItem(id="bread", kind="pairwise", prompt="How do I bake a loaf of bread?",
                        responses=("Mix flour, water, yeast and salt, knead, let the dough rise, "
                                   "then bake the loaf at 230 C for about 35 minutes.",
                                   "The stock market closed higher today after strong earnings."),
                        labels=(1, 0))
    llmbar = list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))[:5]
    run = evaluate("prompt_relevance", [on_topic, *llmbar], tmp_path / "rel", progress=False,
                   report=False)
    assert run.summary["statuses"] == {"ok": 12}
    assert run.rows[0]["result"] == 1.0 and run.rows[0]["margin"] > 0.2
    assert all(-1.0 <= s <= 1.0 for row in run.rows for s in row["scores"])
    no_prompt = EvalItem(id="np", kind="pairwise", responses=("a", "b"), labels=(1, 0))
    skipped = evaluate("prompt_relevance", [no_prompt], tmp_path / "np", progress=False,
                       report=False)
    assert skipped.summary["statuses"] == {"skipped": 2}

def test_qwen_math_with_the_math_reward_and_probes(fixtures_dir, tmp_path):
    pytest.importorskip("math_verify")
    items = list(load_items(fixtures_dir / "qwen_math_bon/math_cot.jsonl", "qwen_math"))
    run = evaluate("math", items, tmp_path / "math", probes=["master_keys", "rewrites"],
                   probe_limit=8, progress=False, report=False)
    s = run.summary
    # the verifier's verdicts against the correctness labels shipped with the data
    agree = [float(score == label) for row in run.rows
             for score, label in zip(row["scores"], row["labels"], strict=True)]
    assert sum(agree) / len(agree) > 0.95
    assert s["calibration"]["correlation"]["auroc"] > 0.95
    assert s["best_of_n"]["top1_accuracy"]["mean"] <= s["best_of_n"]["oracle_pass_at_n"]
    # content-free answers never beat a correct solution, and rewrites keep the verdicts
    assert s["probes"]["master_keys"]["flips"] == 0
    assert s["probes"]["master_keys"]["false_accept_rate"] == 0.0
    assert s["probes"]["rewrites"]["variants"]["answer_restated"]["flips"] == 0


def test_resume_refuses_different_data_and_is_a_no_op_when_done(fixtures_dir, tmp_path):
    items = list(load_items(fixtures_dir / "llmbar/natural.jsonl", "llmbar"))
    first = evaluate("length_baseline", items[:20], tmp_path / "r", progress=False, report=False)
    before = (tmp_path / "r/samples.jsonl").read_bytes()
    again = evaluate("length_baseline", items[:20], tmp_path / "r", resume=True, progress=False,
                     report=False)
    assert (tmp_path / "r/samples.jsonl").read_bytes() == before
    assert again.summary["accuracy"] == first.summary["accuracy"]
    with pytest.raises(RuntimeError, match="other items"):
        evaluate("length_baseline", items[5:25], tmp_path / "r", resume=True, progress=False,
                 report=False)
    with pytest.raises(ValueError, match="unique"):
        evaluate("length_baseline", [items[0], items[0]], tmp_path / "dup", progress=False)
    longer = tmp_path / "r/samples.jsonl"
    with pytest.raises(RuntimeError, match="other items"):
        evaluate("length_baseline", items[5:40], tmp_path / "r", resume=True, progress=False)
    assert longer.read_bytes() == before  # nothing appended to a mismatched run


def test_cli_lists_formats_and_requires_reward_and_data(capsys):
    assert main(["eval", "--list-formats"]) == 0
    assert "rewardbench2" in capsys.readouterr().out
    assert main(["eval", "--data", "x.jsonl"]) == 2
    assert "--reward required" in capsys.readouterr().err
