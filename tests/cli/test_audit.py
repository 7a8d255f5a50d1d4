"""``rewardlab audit``: two rewards on the same rollouts, disagreements by class."""

from __future__ import annotations

import json

from rewardlab.cli import main
from rewardlab.cli.audit import AuditReport, audit
from rewardlab.spec import reward_from_spec
from rewardlab.types import Sample

MATH = "{name: math, isolation: inline}"
PLAIN = "{name: math_verify, isolation: inline}"


def test_disagreements_are_classed_counted_and_exampled(tmp_path, capsys):
    rows = [
        # both right, both wrong: agreement
        {"response": "so \\boxed{4}", "reference": "4", "ok": True},
        {"response": "so \\boxed{5}", "reference": "4", "ok": False},
        # hedges math-verify credits and math does not
        {"response": "$\\sqrt{9}$ or maybe $4$", "reference": "4", "ok": False},
        {"response": "\\boxed{4 \\text{ thousand}}", "reference": "4", "ok": False},
        {"response": "\\boxed{y=3}", "reference": "x=3", "ok": False},
        # a complete multi-part answer math credits
        {"response": "\\boxed{-2, 1}", "reference": "\\(\\boxed{1}\\) and \\(\\boxed{-2}\\)",
         "ok": True},
    ]
    path = tmp_path / "rollouts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    out = tmp_path / "report.json"
    code = main(["audit", str(path), "--a", MATH, "--b", PLAIN, "--label", "ok",
                 "--json", str(out), "--examples", "1"])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["total"] == 6 and report["unreadable_lines"] == 1
    assert report["agree"] + report["disagree"] == 6
    assert report["disagree"] >= 2
    for key, entry in report["classes"].items():
        assert key.startswith("A ") and entry["count"] >= 1 and len(entry["examples"]) == 1
    # every class where exactly one side credits says which side the label agrees with
    credited = [e for k, e in report["classes"].items() if "credit /" in k and e["right"]]
    assert all(set(e["right"]) <= {"A", "B"} for e in credited)
    # math is the side that is right on each disagreement here
    assert sum(e["right"].get("B", 0) for e in report["classes"].values()) == 0
    text = capsys.readouterr().out
    assert "disagree" in text and "A = " in text


def test_audit_on_gsm8k_model_solutions(fixtures_dir):
    """math against plain math-verify on real GSM8K solutions (first 20 questions x 2)."""
    lines = (fixtures_dir / "gsm8k" / "model_solutions.jsonl").read_text().splitlines()[:20]
    rows = []
    for n, line in enumerate(lines, 1):
        record = json.loads(line)
        for key in ("6b_finetuning", "175b_verification"):
            rows.append((n, Sample(response=record[key]["solution"],
                                   reference=record["ground_truth"]),
                         record[key]["is_correct"]))
    report = audit(rows, reward_from_spec(MATH), reward_from_spec(PLAIN),
                   AuditReport(MATH, PLAIN))
    data = report.to_dict()
    assert data["total"] == 40
    # math agrees with every label here, so any disagreement is math-verify's mistake
    assert all(e["right"].get("B", 0) == 0 for e in data["classes"].values())


def test_bad_spec_and_missing_file_are_clear_errors(tmp_path, capsys):
    assert main(["audit", str(tmp_path / "none.jsonl"), "--a", MATH, "--b", PLAIN]) == 2
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n")
    assert main(["audit", str(path), "--a", "no_such_reward", "--b", PLAIN]) == 2
    assert "rewardlab audit" in capsys.readouterr().err
