"""``sql`` gives the official Spider and BIRD execution-accuracy verdicts on Spider data.

Oracles: the official evaluation code as packaged on PyPI in ``nl2sql360`` (installed with
``--no-deps`` by ``scripts/test.sh``): ``evaluator/test_suite_sql_eval/exec_eval.py`` (the
Spider test-suite script; its ``result_eq``/``eval_exec_match`` are line for line those of
test-suite-sql-eval) and ``evaluator/bird_eval/bird_accuracy.py`` (BIRD's ``evaluation.py``:
``set(predicted_res) == set(ground_truth_res)``). They are loaded from their files so the
package's other evaluators (which need database drivers) are not imported.

Data: the ``department_store`` database of Spider 1.0 and its 88 gold queries, read from the
shared fixtures (``$REWARDLAB_FIXTURES/spider_department_store``, CC BY-SA 4.0, see its README);
public data is not copied into this repository.
Predictions: every gold query against every other (the same database, different questions),
and rewrites a policy might emit (``DISTINCT`` toggled, order flipped, rows duplicated,
truncated, wrapped).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.verifiers._sql_compare import results_equal

pytest.importorskip("nl2sql360", reason="nl2sql360 is installed by scripts/test.sh")

DATA = Path(os.environ.get("REWARDLAB_FIXTURES", Path(__file__).resolve().parents[3] / "shared"
                          / "fixtures")) / "spider_department_store"
if not (DATA / "gold.sql").is_file():
    pytest.skip(f"Spider department_store data not found at {DATA}", allow_module_level=True)
GOLD = [line for line in (DATA / "gold.sql").read_text().splitlines() if line.strip()]


def _official():
    """(Spider's exec_eval module, BIRD's evaluation module) from the installed package."""
    root = Path(importlib.util.find_spec("nl2sql360").origin).parent / "evaluator"
    if "spider_official" not in sys.modules:
        folder = root / "test_suite_sql_eval"
        spec = importlib.util.spec_from_file_location(
            "spider_official", folder / "__init__.py", submodule_search_locations=[str(folder)])
        package = importlib.util.module_from_spec(spec)
        sys.modules["spider_official"] = package
        spec.loader.exec_module(package)
    spider = importlib.import_module("spider_official.exec_eval")
    if "bird_official" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "bird_official", root / "bird_eval" / "bird_accuracy.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bird_official"] = module
        spec.loader.exec_module(module)
    return spider, sys.modules["bird_official"]



@pytest.fixture(scope="module")
def official():
    return _official()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    # A private folder: Spider's eval_exec_match runs on every .sqlite file beside `db`, and
    # both official scripts open the file read-write.
    folder = tmp_path_factory.mktemp("department_store")
    path = folder / "department_store.sqlite"
    shutil.copyfile(DATA / "department_store.sqlite", path)
    return path


def rewrites(gold: str) -> list[str]:
    """Predictions a policy might emit for ``gold``."""
    out = [gold, f"SELECT * FROM ({gold})", f"SELECT * FROM ({gold}) LIMIT 1"]
    upper = gold.upper()
    if "DISTINCT" in upper:
        out.append(gold.replace("DISTINCT", "", 1).replace("distinct", "", 1))
    else:
        out.append("SELECT DISTINCT " + gold[len("SELECT "):])
    if " DESC" in upper:
        out.append(gold.replace(" DESC", " ASC").replace(" desc", " asc"))
    if "ORDER BY" not in upper and "LIMIT" not in upper:
        out.append(f"{gold} UNION ALL {gold}")
        out.append(f"SELECT * FROM ({gold}) ORDER BY 1 DESC")
    return out


def test_the_slice_is_real(db):
    assert len(GOLD) == 88
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert all(conn.execute(q).fetchall() for q in GOLD)  # every gold query has rows
    conn.close()


@pytest.mark.parametrize("compare", ["spider", "bird"])
def test_every_gold_pair_compares_as_the_official_script_does(official, db, compare):
    """88 x 88 (gold, prediction) pairs, rows from each script's own execution."""
    spider, _bird = official
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = [conn.execute(q).fetchall() for q in GOLD]
    conn.close()
    agree = matches = 0
    for g, gold_sql in enumerate(GOLD):
        for p in range(len(GOLD)):
            if compare == "spider":
                theirs = spider.result_eq(rows[g], rows[p], order_matters="order by"
                                          in gold_sql.lower())
            else:
                theirs = set(rows[p]) == set(rows[g])
            ours = results_equal(rows[g], rows[p], gold_sql, compare)
            agree += ours == theirs
            matches += theirs
    assert agree == len(GOLD) ** 2
    assert matches > len(GOLD)  # some different questions share an answer: both see it


@pytest.mark.parametrize("compare", ["spider", "bird"])
def test_the_reward_end_to_end_matches_the_official_verdicts(official, db, compare):
    spider, bird = official
    reward = build_reward({"name": "sql", "compare": compare, "isolation": "inline"})
    samples, expected = [], []
    for i, gold in enumerate(GOLD):
        for predicted in [*rewrites(gold), GOLD[(i + 7) % len(GOLD)]]:
            if compare == "spider":
                verdict = spider.eval_exec_match(str(db), predicted, gold, plug_value=False,
                                                 keep_distinct=True,
                                                 progress_bar_for_each_datapoint=False)
            else:
                try:
                    verdict = bird.execute_sql(predicted, gold, str(db))
                except sqlite3.Error:
                    verdict = 0
            samples.append(Sample(response=predicted, reference={"query": gold,
                                                                 "db_path": str(db)}))
            expected.append(float(verdict))
    outcomes = reward.score(samples)
    assert all(o.status is Status.OK for o in outcomes)
    got = [o.score for o in outcomes]
    assert [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b] == []
    assert 0 < sum(expected) < len(expected)
