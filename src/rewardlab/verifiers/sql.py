"""``sql``: execution match of a predicted SQL query against a gold query on SQLite.

Both queries run on a private read-only copy of the database (the original file is never
opened for writing, an authorizer refuses anything but reads, and only one statement runs)
in a child process, with a row cap and a per-query deadline held by SQLite's progress
handler inside the child and by killing the child from outside
(:mod:`rewardlab.verifiers._sql_runner`): a query that outlives it, whatever function it
spends its time in, makes the outcome ``timeout``.

Results compare by Spider's test-suite rules by default (exact values, multisets of rows
unless the gold query says ``order by``, column order free) or by BIRD's (``compare="bird"``:
sets of rows); see :mod:`rewardlab.verifiers._sql_compare`. Float rounding and numeric-text
folding are explicit options, off by default.

Besides execution match, the partial-credit components of Reasoning-SQL (Pourreza et al.,
2025) are computed and reported: ``syntax`` (the prediction executes), ``schema`` (Jaccard
overlap of the tables and columns the two queries mention) and ``ngram`` (Jaccard overlap of
token bigrams). ``weights`` mixes them into the score; by default the score is execution match.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from rewardlab.registry import register
from rewardlab.reward import CpuReward
from rewardlab.types import Outcome, Sample, Status
from rewardlab.verifiers._reasoning import REASONING_TAGS, answer_part
from rewardlab.verifiers._sql_compare import COMPARE_MODES, results_equal, spider_orders
from rewardlab.verifiers._sql_runner import QueryError, QueryTimeout, default_runner

__all__ = ["QueryError", "QueryTimeout", "SqlReward", "extract_sql", "ngram_similarity",
           "read_only_copy", "results_equal", "schema_linking"]

_COMPONENTS = ("execution", "syntax", "schema", "ngram")
_FENCE = re.compile(r"```[ \t]*(\w*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|'(?:[^']|'')*'|\"[^\"]*\"|[^\s\w]")
_STRINGS = re.compile(r"'(?:[^']|'')*'")
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                 sqlite3.SQLITE_RECURSIVE}


def extract_sql(response: str, reasoning_tags: Sequence[str] = REASONING_TAGS) -> str:
    """The SQL in the answer part of a response (reasoning blocks cut, see
    :func:`rewardlab.verifiers._reasoning.answer_part`): the last ```sql fence, else the last
    fence, else the last ``<answer>``, else the text."""
    response = answer_part(response, reasoning_tags)
    fences = _FENCE.findall(response)
    sql_fences = [body for tag, body in fences if tag.lower() in ("sql", "sqlite")]
    if sql_fences:
        text = sql_fences[-1]
    elif fences:
        text = fences[-1][1]
    else:
        answers = _ANSWER.findall(response)
        text = answers[-1] if answers else response
    return text.strip().rstrip(";").strip()


_copies: dict[str, Path] = {}
_copies_lock = threading.Lock()


def _copies_dir() -> Path:
    # Shared by the engine's worker processes (one copy per database version, not per worker);
    # under the temp dir, so it goes away with it.
    folder = Path(tempfile.gettempdir()) / f"rewardlab-sql-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def read_only_copy(db_path: str | os.PathLike[str]) -> Path:
    """A read-only copy of the database file, made once per content version.

    The copy is written under a temporary name and renamed into place, so concurrent workers
    never see a partial file.
    """
    source = Path(db_path)
    stat = source.stat()
    key = f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    with _copies_lock:
        copy = _copies.get(key)
        if copy is not None and copy.exists():
            return copy
        copy = _copies_dir() / (hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
                                + ".sqlite")
        if not copy.exists():
            fd, partial = tempfile.mkstemp(dir=copy.parent, suffix=".partial")
            os.close(fd)
            try:
                shutil.copyfile(source, partial)
                os.chmod(partial, 0o444)
                os.replace(partial, copy)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)
        _copies[key] = copy
        return copy


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def connect_read_only(copy: Path) -> sqlite3.Connection:
    """Open a database copy read-only, refusing anything but reads."""
    conn = sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    return conn


def tokens(sql: str) -> list[str]:
    """Lower-cased SQL tokens (identifiers, numbers, string literals, punctuation)."""
    return [t.lower() if not t.startswith("'") else t for t in _TOKEN.findall(sql)]


def _jaccard(a: set[Any], b: set[Any]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def ngram_similarity(predicted: str, gold: str, n: int = 2) -> float:
    """Jaccard overlap of token n-grams."""
    def grams(sql: str) -> set[tuple[str, ...]]:
        toks = tokens(sql)
        return {tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))}

    return _jaccard(grams(predicted), grams(gold))


def schema_items(conn: sqlite3.Connection) -> set[str]:
    """Lower-cased table and column names of the database (``table`` and ``table.column``)."""
    conn.set_authorizer(None)
    try:
        items: set[str] = set()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        for table in tables:
            items.add(table.lower())
            quoted = table.replace('"', '""')
            for col in conn.execute(f'PRAGMA table_info("{quoted}")'):
                items.add(f"{table.lower()}.{col[1].lower()}")
        return items
    finally:
        conn.set_authorizer(_authorizer)


def schema_linking(predicted: str, gold: str, schema: set[str]) -> float:
    """Jaccard overlap of the schema items (tables, columns) each query mentions."""
    columns: dict[str, set[str]] = {}
    for item in schema:
        if "." in item:
            table, column = item.split(".", 1)
            columns.setdefault(column, set()).add(table)

    def mentioned(sql: str) -> set[str]:
        words = {t.strip('"') for t in tokens(sql)}
        tables = {w for w in words if w in schema and "." not in w}
        found = set(tables)
        for word in words:
            for table in columns.get(word, ()):
                if table in tables or len(columns[word]) == 1:
                    found.add(f"{table}.{word}")
        return found

    return _jaccard(mentioned(predicted), mentioned(gold))


@register("sql")
class SqlReward(CpuReward):
    """Execution match of predicted SQL against gold SQL on a read-only SQLite copy.

    The reference is ``{"query": gold_sql, "db_path": path}`` (``sql``/``gold`` are accepted
    for the query), or ``{"query": ..., "db_id": name}`` with ``db_root`` set
    (Spider/BIRD layout: ``{db_root}/{db_id}/{db_id}.sqlite``).

    Args:
        weights: Mix of ``execution``, ``syntax``, ``schema`` and ``ngram`` (normalized). The
            default scores execution match only; all components are always in the details.
        compare: ``spider`` (test-suite rules: multisets unless the gold says ``order by``,
            columns may be permuted) or ``bird`` (sets of rows).
        round_floats: Round floats to this many decimals before comparing (off: exact).
        fold_types: Let a text that reads as a number equal that number (off: ``'5'`` is not
            ``5``). Blobs never equal texts either way.
        db_root: Folder of databases for references that give a ``db_id``.
        query_timeout: Seconds each query may run; past it the outcome is ``timeout``.
        max_rows: Largest result set read.
        extract: Take the SQL from fences / ``<answer>`` tags when present.
        reasoning_tags: Reasoning block tags whose content is never taken as the answer
            (with ``extract``); ``[]`` reads the whole text.
        timeout: Per-sample deadline of the worker process (covers both queries).
        isolation: ``process`` (default) or ``inline``.
    """

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        compare: Literal["spider", "bird"] = "spider",
        round_floats: int | None = None,
        fold_types: bool = False,
        db_root: str | None = None,
        query_timeout: float = 5.0,
        max_rows: int = 100_000,
        extract: bool = True,
        reasoning_tags: Sequence[str] = REASONING_TAGS,
        timeout: float = 30.0,
        isolation: Literal["process", "inline"] | None = None,
    ) -> None:
        super().__init__(timeout=timeout, isolation=isolation)
        weights = dict(weights or {"execution": 1.0})
        unknown = set(weights) - set(_COMPONENTS)
        if unknown:
            raise ValueError(f"unknown weight(s) {sorted(unknown)}; use {list(_COMPONENTS)}")
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        total = sum(weights.values())
        self.weights = {k: weights.get(k, 0.0) / total for k in _COMPONENTS}
        if compare not in COMPARE_MODES:
            raise ValueError(f"compare must be one of {list(COMPARE_MODES)}")
        if round_floats is not None and (isinstance(round_floats, bool)
                                         or not isinstance(round_floats, int)
                                         or not 0 <= round_floats <= 15):
            raise ValueError("round_floats must be an integer from 0 to 15, or None")
        if query_timeout <= 0 or max_rows <= 0:
            raise ValueError("query_timeout and max_rows must be positive")
        if self.isolation == "process" and timeout <= 2 * (query_timeout + 1):
            # Two queries run per sample; the worker's deadline must not cut the second short.
            raise ValueError("timeout must exceed 2 * (query_timeout + 1) seconds")
        self.compare = compare
        self.round_floats = round_floats
        self.fold_types = bool(fold_types)
        self.db_root = db_root
        self.query_timeout = float(query_timeout)
        self.max_rows = int(max_rows)
        self.extract = extract
        if isinstance(reasoning_tags, str) or not all(
                isinstance(t, str) and t.strip() for t in reasoning_tags):
            raise ValueError("reasoning_tags must be a list of tag names")
        self.reasoning_tags = tuple(reasoning_tags)

    def _database(self, reference: Mapping[str, Any]) -> Path:
        if reference.get("db_path"):
            return Path(reference["db_path"])
        db_id = reference.get("db_id")
        if db_id and self.db_root:
            return Path(self.db_root) / str(db_id) / f"{db_id}.sqlite"
        raise ValueError("the reference needs db_path (or db_id with the reward's db_root)")

    def compute(self, sample: Sample) -> Outcome:
        ref = sample.reference
        gold = ref.get(next((k for k in ("query", "sql", "gold") if k in ref), "query"),
                       None) if isinstance(ref, Mapping) else None
        if not isinstance(gold, str) or not gold.strip():
            return Outcome.fail(Status.BAD_REFERENCE,
                                "sql needs a reference {'query': gold SQL, 'db_path': ...}")
        try:
            db = self._database(ref)
            copy = read_only_copy(db)
        except (ValueError, OSError) as exc:
            return Outcome.fail(Status.BAD_REFERENCE, f"database unavailable: {exc}"[:300])
        predicted = (extract_sql(sample.response, self.reasoning_tags) if self.extract
                     else sample.response.strip())
        if not predicted:
            return Outcome.fail(Status.UNPARSEABLE, "the response contains no SQL")
        runner = default_runner()
        try:
            gold_rows = runner.run(copy, gold, self.query_timeout, self.max_rows)
        except QueryTimeout as exc:
            return Outcome.fail(Status.TIMEOUT, f"gold query: {exc}", query="gold")
        except QueryError as exc:
            if exc.kind in ("WorkerError", "WorkerCrashed"):  # the grader failed, not the gold
                return Outcome.fail(Status.ERROR, f"gold query: {exc}"[:300])
            return Outcome.fail(Status.BAD_REFERENCE, f"gold query failed: {exc}"[:300])
        try:
            pred_rows: list[tuple[Any, ...]] | None = runner.run(
                copy, predicted, self.query_timeout, self.max_rows)
            error = None
        except QueryTimeout as exc:
            # Not a wrong answer: the query's value is unknown. Callers decide what a
            # timeout is worth (see docs/code-sandbox.md).
            return Outcome.fail(Status.TIMEOUT, f"predicted query: {exc}", query="predicted",
                                predicted_sql=predicted[:2000], timed_out=True)
        except QueryError as exc:
            pred_rows, error = None, str(exc)
        conn = connect_read_only(copy)
        try:
            schema = schema_items(conn)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        components = {
            "execution": float(pred_rows is not None and results_equal(
                gold_rows, pred_rows, gold, self.compare, self.round_floats,
                self.fold_types)),
            "syntax": float(pred_rows is not None),
            "schema": schema_linking(predicted, gold, schema),
            "ngram": ngram_similarity(predicted, gold),
        }
        score = sum(self.weights[k] * components[k] for k in _COMPONENTS)
        details: dict[str, Any] = {**components, "compare": self.compare,
                                   "predicted_sql": predicted[:2000],
                                   "gold_rows": len(gold_rows), "timed_out": False}
        if self.compare == "spider":
            details["ordered"] = spider_orders(gold)
        if pred_rows is not None:
            details["predicted_rows"] = len(pred_rows)
        if error:
            details["error"] = error[:500]
        if components["execution"] == 1.0:
            reason = ""
        elif error:
            reason = f"predicted query failed: {error}"[:300]
        else:
            reason = "result differs from the gold query's"
        return Outcome.ok(score, reason, **details)
