"""The ``sql`` reward on a handmade SQLite database."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from rewardlab import Sample, Status, build_reward
from rewardlab.verifiers._sql_compare import spider_orders
from rewardlab.verifiers.sql import extract_sql, ngram_similarity, results_equal


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("sql") / "company.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE department (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE employee (id INTEGER PRIMARY KEY, name TEXT, salary REAL, dept_id INTEGER
                               REFERENCES department(id));
        INSERT INTO department VALUES (1, 'Research'), (2, 'Sales'), (3, 'Legal');
        INSERT INTO employee VALUES (1, 'Ada', 120.0, 1), (2, 'Bob', 80.5, 2),
                                    (3, 'Cy', 95.0, 1), (4, 'Di', 80.5, 3);
    """)
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="module")
def sql():
    return build_reward({"name": "sql", "query_timeout": 1.0})


def sample(db, predicted: str, gold: str) -> Sample:
    return Sample(response=predicted, reference={"query": gold, "db_path": str(db)})


def test_equivalent_query_matches_regardless_of_row_order(sql, db):
    gold = "SELECT name FROM employee WHERE salary > 90"
    outcome = sql.score_one(sample(db, "select e.name from employee as e where e.salary >= 95 "
                                       "order by name desc", gold))
    assert outcome.score == 1.0
    assert outcome.details["ordered"] is False


def test_order_matters_when_the_gold_query_orders(sql, db):
    gold = "SELECT name FROM employee ORDER BY salary DESC, name"
    assert spider_orders(gold)
    wrong_order = sql.score_one(sample(db, "SELECT name FROM employee ORDER BY name", gold))
    assert wrong_order.score == 0.0
    right = sql.score_one(sample(db, "```sql\nSELECT name FROM employee ORDER BY salary DESC,"
                                     " name;\n```", gold))
    assert right.score == 1.0


def test_order_rule_is_the_spider_test_suite_s_substring_test():
    # exec_eval.py: order_matters = 'order by' in g_str.lower(), wherever it occurs.
    assert spider_orders("SELECT * FROM (SELECT a FROM t ORDER BY a) LIMIT 3")
    assert spider_orders("SELECT a FROM t ORDER  BY a") is False
    assert spider_orders("select a from t order by a")


def test_wrong_result_and_duplicates(sql, db):
    gold = "SELECT salary FROM employee"
    assert sql.score_one(sample(db, "SELECT DISTINCT salary FROM employee", gold)).score == 0.0
    assert sql.score_one(sample(db, "SELECT salary FROM employee WHERE id < 4", gold)).score == 0


def test_malformed_sql_is_a_wrong_answer_with_the_error(sql, db):
    outcome = sql.score_one(sample(db, "SELEC name FROM employee", "SELECT name FROM employee"))
    assert outcome.status is Status.OK and outcome.score == 0.0
    assert outcome.details["syntax"] == 0.0
    assert "syntax error" in outcome.details["error"]


def test_slow_query_hits_the_deadline(sql, db):
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT count(*) FROM c")
    outcome = sql.score_one(sample(db, slow, "SELECT count(*) FROM employee"))
    assert outcome.status is Status.TIMEOUT and outcome.score is None
    assert outcome.details["timed_out"] is True and outcome.details["query"] == "predicted"
    slow_gold = sql.score_one(sample(db, "SELECT 1", slow))
    assert slow_gold.status is Status.TIMEOUT


def test_writes_are_refused_and_the_database_is_untouched(sql, db):
    for attack in ["DELETE FROM employee", "DROP TABLE employee",
                   "SELECT 1; DELETE FROM employee", "ATTACH DATABASE '/tmp/x.db' AS x",
                   "PRAGMA writable_schema = ON", "INSERT INTO department VALUES (9, 'X')"]:
        outcome = sql.score_one(sample(db, attack, "SELECT count(*) FROM employee"))
        assert outcome.score == 0.0, attack
        assert outcome.details["syntax"] == 0.0, attack
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM employee").fetchone() == (4,)
    assert conn.execute("SELECT count(*) FROM department").fetchone() == (3,)
    conn.close()


def test_partial_credit_components(db):
    reward = build_reward({"name": "sql", "weights": {"execution": 0.5, "syntax": 0.1,
                                                      "schema": 0.2, "ngram": 0.2}})
    gold = "SELECT name FROM employee WHERE dept_id = 1"
    close = reward.score_one(sample(db, "SELECT name FROM employee WHERE dept_id = 2", gold))
    d = close.details
    assert d["execution"] == 0.0 and d["syntax"] == 1.0 and d["schema"] == 1.0
    assert 0.5 < d["ngram"] < 1.0
    assert close.score == pytest.approx(0.1 + 0.2 + 0.2 * d["ngram"])
    far = reward.score_one(sample(db, "SELECT id FROM department", gold))
    assert far.details["schema"] == 0.0
    assert far.score < close.score
    exact = reward.score_one(sample(db, gold, gold))
    assert exact.score == pytest.approx(1.0)


def test_bad_references_and_empty_responses(sql, db, tmp_path):
    missing = sql.score_one(Sample(response="SELECT 1", reference={
        "query": "SELECT 1", "db_path": str(tmp_path / "nope.sqlite")}))
    assert missing.status is Status.BAD_REFERENCE
    broken_gold = sql.score_one(sample(db, "SELECT 1", "SELECT nope FROM nowhere"))
    assert broken_gold.status is Status.BAD_REFERENCE
    no_query = sql.score_one(Sample(response="SELECT 1", reference={"db_path": str(db)}))
    assert no_query.status is Status.BAD_REFERENCE
    empty = sql.score_one(sample(db, "```sql\n```", "SELECT 1"))
    assert empty.status is Status.UNPARSEABLE


def test_db_id_layout(db):
    reward = build_reward({"name": "sql", "db_root": str(db.parent.parent)})
    ref = {"query": "SELECT count(*) FROM department", "db_id": db.parent.name}
    (db.parent / f"{db.parent.name}.sqlite").write_bytes(db.read_bytes())
    assert reward.score_one(Sample(response="SELECT 3", reference=ref)).score == 1.0


def test_helpers():
    assert extract_sql("Reasoning...\n<answer>SELECT 1;</answer>") == "SELECT 1"
    assert extract_sql("```\nSELECT 2\n```") == "SELECT 2"
    assert results_equal([(1, 2.0)], [(1, 2)], "SELECT a, b FROM t ORDER BY a")
    assert not results_equal([(1,), (2,)], [(2,), (1,)], "SELECT a FROM t ORDER BY a")
    assert results_equal([(1,), (2,)], [(2,), (1,)], "SELECT a FROM t")
    assert ngram_similarity("SELECT a FROM t", "select a from t") == 1.0


def test_bad_options():
    with pytest.raises(Exception, match="weight"):
        build_reward({"name": "sql", "weights": {"speed": 1.0}})


def test_queries_run_on_a_read_only_copy_that_follows_the_original(tmp_path):
    from rewardlab.verifiers.sql import read_only_copy

    path = tmp_path / "counter.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
    conn.commit()
    copy = read_only_copy(path)
    assert copy != path and copy.read_bytes() == path.read_bytes()
    assert not os.access(copy, os.W_OK) or os.getuid() == 0
    assert copy.stat().st_mode & 0o222 == 0
    assert read_only_copy(path) == copy  # made once
    reward = build_reward({"name": "sql", "isolation": "inline"})
    ref = {"query": "SELECT count(*) FROM t", "db_path": str(path)}
    assert reward.score_one(Sample(response="SELECT 1", reference=ref)).score == 1.0
    conn.execute("INSERT INTO t VALUES (2)")
    conn.commit()
    conn.close()
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new version of the file
    assert read_only_copy(path) != copy
    assert reward.score_one(Sample(response="SELECT 2", reference=ref)).score == 1.0
