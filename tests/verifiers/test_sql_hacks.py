"""Reward hacks on ``sql``: numeric and type tricks earn nothing, slow queries are timeouts.

Thinking like a policy: round to look equal, return a literal that prints like the answer,
return text where the gold has a blob, pad the result, or stall the grader with a function
SQLite's progress handler never interrupts.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from rewardlab import Sample, Status, build_reward

DEADLINE = 1.0


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlhacks") / "hacks.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE m (id INTEGER PRIMARY KEY, x REAL, code TEXT, raw BLOB, n INTEGER);
        INSERT INTO m VALUES (1, 0.1, '4142', x'4142', 5), (2, 0.2, 'AB', x'00ff', 7),
                             (3, 0.7, '5', NULL, 5);
    """)
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="module")
def sql():
    return build_reward({"name": "sql", "query_timeout": DEADLINE, "isolation": "inline"})


def run(reward, db, predicted: str, gold: str):
    return reward.score_one(Sample(response=predicted, reference={"query": gold,
                                                                  "db_path": str(db)}))


@pytest.mark.parametrize(("predicted", "gold"), [
    ("SELECT ROUND(AVG(x), 6) FROM m", "SELECT AVG(x) FROM m"),
    ("SELECT 0.3", "SELECT SUM(x) FROM m WHERE id < 3"),  # 0.30000000000000004
    ("SELECT CAST(SUM(x) AS TEXT) FROM m WHERE id < 3", "SELECT SUM(x) FROM m WHERE id < 3"),
    ("SELECT '4142'", "SELECT raw FROM m WHERE id = 1"),  # hex text of the blob
    ("SELECT 'AB'", "SELECT raw FROM m WHERE id = 1"),  # its characters
    ("SELECT hex(raw) FROM m WHERE id = 1", "SELECT raw FROM m WHERE id = 1"),
    ("SELECT x'4142'", "SELECT code FROM m WHERE id = 1"),  # blob for text, the other way
    ("SELECT '5'", "SELECT n FROM m WHERE id = 1"),  # 5 vs "5"
    ("SELECT 1", "SELECT n = 5 FROM m WHERE id = 1 AND 0"),  # something vs nothing
    ("SELECT NULL", "SELECT n FROM m WHERE 0"),
    ("SELECT n FROM m", "SELECT DISTINCT n FROM m"),  # duplicates padded in
    ("SELECT n FROM m UNION ALL SELECT 9", "SELECT n FROM m"),  # an extra row
    ("SELECT id, n FROM m", "SELECT n FROM m"),  # an extra column
    ("SELECT n FROM m ORDER BY n DESC", "SELECT n FROM m ORDER BY n"),
])
def test_tricks_earn_no_execution_credit(sql, db, predicted, gold):
    for reward in (sql, build_reward({"name": "sql", "compare": "bird",
                                      "query_timeout": DEADLINE, "isolation": "inline"})):
        outcome = run(reward, db, predicted, gold)
        if reward.compare == "bird" and predicted == "SELECT n FROM m":
            assert outcome.score == 1.0  # BIRD compares sets: duplicates are free there
            continue
        if reward.compare == "bird" and "DESC" in predicted:
            assert outcome.score == 1.0  # BIRD ignores order
            continue
        assert outcome.status is Status.OK and outcome.score == 0.0, (reward.compare, predicted)


def test_loosenings_are_explicit_options(db):
    rounded = build_reward({"name": "sql", "round_floats": 6, "isolation": "inline"})
    assert run(rounded, db, "SELECT ROUND(AVG(x), 6) FROM m", "SELECT AVG(x) FROM m").score == 1
    assert run(rounded, db, "SELECT 0.3", "SELECT SUM(x) FROM m WHERE id < 3").score == 1.0
    folded = build_reward({"name": "sql", "fold_types": True, "isolation": "inline"})
    assert run(folded, db, "SELECT '5'", "SELECT n FROM m WHERE id = 1").score == 1.0
    # Blobs stay blobs under every option.
    for reward in (rounded, folded):
        assert run(reward, db, "SELECT '4142'", "SELECT raw FROM m WHERE id = 1").score == 0.0
    with pytest.raises(ValueError, match="round_floats"):
        build_reward({"name": "sql", "round_floats": -1})
    with pytest.raises(ValueError, match="compare"):
        build_reward({"name": "sql", "compare": "fuzzy"})


def test_spider_lets_columns_be_permuted_bird_does_not(db):
    spider = build_reward({"name": "sql", "isolation": "inline"})
    bird = build_reward({"name": "sql", "compare": "bird", "isolation": "inline"})
    assert run(spider, db, "SELECT n, id FROM m", "SELECT id, n FROM m").score == 1.0
    assert run(bird, db, "SELECT n, id FROM m", "SELECT id, n FROM m").score == 0.0


SLOW = {
    # One call of a built-in: the progress handler never runs inside it.
    "instr over a 10 MB printf": "SELECT instr(printf('%.*c', 10000000, 'a'), "
                                 "printf('%.*c', 100000, 'a') || 'b')",
    "recursive CTE": "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) "
                     "SELECT count(*) FROM c",
    "huge cross join": "SELECT count(*) FROM m a, m b, m c, m d, m e, m f, m g, m h, m i, "
                       "m j, m k, m l, m n, m o, m p, m q, m r, m s, m t, m u, m v, m w",
    "LIKE with wildcards over 10 MB": "SELECT printf('%.*c', 10000000, 'a') LIKE "
                                      "'%' || printf('%.*c', 1000, 'a') || 'b%'",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW))
def test_slow_queries_are_typed_timeouts_within_the_deadline(sql, db, name):
    start = time.monotonic()
    outcome = run(sql, db, SLOW[name], "SELECT count(*) FROM m")
    elapsed = time.monotonic() - start
    assert outcome.status is Status.TIMEOUT and outcome.score is None, outcome
    assert outcome.details["timed_out"] is True and outcome.details["query"] == "predicted"
    # The deadline plus the kill grace (0.5 s), with room for a busy machine; each of these
    # queries runs for many seconds when left alone.
    assert elapsed < DEADLINE + 2.5, elapsed
    # The next sample runs normally (a killed worker is replaced).
    assert run(sql, db, "SELECT count(*) FROM m", "SELECT 3").score == 1.0


@pytest.mark.slow
def test_a_slow_gold_query_is_a_timeout_too(sql, db):
    outcome = run(sql, db, "SELECT 1", SLOW["instr over a 10 MB printf"])
    assert outcome.status is Status.TIMEOUT and outcome.details["query"] == "gold"


def test_timeouts_through_the_engine_are_typed(db):
    reward = build_reward({"name": "sql", "query_timeout": DEADLINE})  # process isolation
    outcomes = reward.score([
        Sample(response=SLOW["instr over a 10 MB printf"],
               reference={"query": "SELECT 1", "db_path": str(db)}),
        Sample(response="SELECT 1", reference={"query": "SELECT 1", "db_path": str(db)})])
    assert [o.status for o in outcomes] == [Status.TIMEOUT, Status.OK]
    assert outcomes[1].score == 1.0


def test_statement_and_write_tricks_are_refused(sql, db):
    for attack in ["SELECT 3; SELECT 3", "SELECT 3 -- \n; DELETE FROM m",
                   "WITH d AS (DELETE FROM m RETURNING n) SELECT count(*) FROM d",
                   "SELECT load_extension('/tmp/x.so')"]:
        outcome = run(sql, db, attack, "SELECT 3")
        assert outcome.score == 0.0, attack
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM m").fetchone() == (3,)
    conn.close()


@pytest.mark.parametrize("query", [
    "SELECT length(zeroblob(2000000000))",
    "WITH RECURSIVE r(s, i) AS (SELECT 'x', 0 UNION ALL SELECT s || s, i + 1 FROM r "
    "WHERE i < 40) SELECT max(length(s)) FROM r",
    "SELECT printf('%.*c', 30000000, 'a') FROM m",  # 90 MB of text in one result
])
def test_memory_hungry_queries_fail_cleanly(db, query):
    # A generous deadline: these stop at SQLite's 50 MB value limit or the 64 MB result
    # limit of the worker, after a second or two of copying on a busy machine.
    sql = build_reward({"name": "sql", "query_timeout": 10.0, "isolation": "inline"})
    outcome = run(sql, db, query, "SELECT 3")
    assert outcome.status is Status.OK and outcome.score == 0.0
    assert outcome.details["syntax"] == 0.0 and outcome.details["error"]
    assert run(sql, db, "SELECT count(*) FROM m", "SELECT 3").score == 1.0


def test_sql_only_inside_reasoning_is_not_an_answer(sql, db):
    hidden = "<think>Maybe ```sql\nSELECT count(*) FROM m\n``` but I am unsure.</think>I give up."
    outcome = run(sql, db, hidden, "SELECT 3")
    assert outcome.score in (None, 0.0)
    assert run(sql, db, "<think>SELECT 1</think>```sql\nSELECT count(*) FROM m\n```",
               "SELECT 3").score == 1.0
    anywhere = build_reward({"name": "sql", "reasoning_tags": [], "isolation": "inline"})
    assert run(anywhere, db, "<think>```sql\nSELECT count(*) FROM m\n```</think>",
               "SELECT 3").score == 1.0
