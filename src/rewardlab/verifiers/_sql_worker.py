"""Child process that runs SQL for the ``sql`` reward (standard library only).

The host (:class:`rewardlab.verifiers._sql_runner.QueryRunner`) starts this file with
``python -I`` and kills it when a query outlives its deadline: SQLite's progress handler
only fires between virtual-machine steps, so one long built-in call (``instr`` over a
10 MB ``printf`` string, a ``replace`` or ``zeroblob`` chain) cannot be stopped from inside.

Protocol on stdin/stdout: 4-byte big-endian length, then a ``marshal`` payload. Request:
``(db_uri, sql, max_rows, soft_timeout)``. Reply: ``("ok", rows)``, ``("error", kind,
message)`` or ``("timeout",)``. Rows are tuples of ``None``/``int``/``float``/``str``/
``bytes``, which ``marshal`` carries exactly.
"""

from __future__ import annotations

import contextlib
import marshal
import sqlite3
import struct
import sys
import time
from typing import Any

MAX_VALUE_BYTES = 50_000_000
"""Largest string or blob a query may build (SQLite's own default is 1 GB)."""
MAX_RESULT_BYTES = 64_000_000
"""Largest total size of the text and blob values of one result."""
MEMORY_LIMIT = 2 << 30
"""Address-space limit of this process: a query cannot exhaust the host's memory."""

# The same read-only rule as sql.py's host-side connection (this file runs under `python -I`
# and imports nothing from rewardlab, so the set is written out here too).
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                 sqlite3.SQLITE_RECURSIVE}


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def _connect(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    return conn


def _run(conn: sqlite3.Connection, sql: str, max_rows: int, soft_timeout: float) -> tuple:
    deadline = time.monotonic() + soft_timeout
    expired = False

    def check() -> int:
        nonlocal expired
        expired = time.monotonic() > deadline
        return 1 if expired else 0

    conn.set_progress_handler(check, 10_000)
    try:
        cursor = conn.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
    except sqlite3.Error as exc:
        if expired:
            return ("timeout",)
        return ("error", type(exc).__name__, str(exc))
    except (ValueError, OverflowError, MemoryError) as exc:  # e.g. "one statement at a time"
        return ("error", type(exc).__name__, str(exc))
    finally:
        conn.set_progress_handler(None, 0)
    if len(rows) > max_rows:
        return ("error", "TooManyRows", f"query returned more than {max_rows} rows")
    size = sum(len(v) for row in rows for v in row if isinstance(v, str | bytes))
    if size > MAX_RESULT_BYTES:
        return ("error", "ResultTooLarge", f"the result holds more than {MAX_RESULT_BYTES} "
                "bytes of text and blobs")
    return ("ok", [tuple(row) for row in rows])


def _read_exact(stream: Any, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _limit_self() -> None:
    # Die with the host (a killed engine worker must not leave a query running) and cap memory.
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    with contextlib.suppress(Exception):
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main() -> None:
    """Serve requests until stdin closes."""
    _limit_self()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    connections: dict[str, sqlite3.Connection] = {}
    while True:
        header = _read_exact(stdin, 4)
        if header is None:
            return
        payload = _read_exact(stdin, struct.unpack(">I", header)[0])
        if payload is None:
            return
        uri, sql, max_rows, soft_timeout = marshal.loads(payload)
        try:
            conn = connections.get(uri)
            if conn is None:
                conn = connections[uri] = _connect(uri)
            reply = _run(conn, sql, max_rows, soft_timeout)
        except sqlite3.Error as exc:
            reply = ("error", type(exc).__name__, str(exc))
        try:
            data = marshal.dumps(reply)
        except ValueError as exc:
            data = marshal.dumps(("error", "ValueError", str(exc)))
        stdout.write(struct.pack(">I", len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    main()
