"""Host side of SQL execution: a child process per runner, killed at a query's deadline.

Two layers stop a query: inside the child, SQLite's progress handler ends it at
``timeout`` (between virtual-machine steps: joins, scans, recursive CTEs); outside, the host
waits at most ``timeout + grace`` for the reply and otherwise kills the child (one long
built-in function call never reaches the progress handler) and starts a new one for the
next query. Either way the caller gets :class:`QueryTimeout`.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rewardlab.errors import RewardlabError

_WORKER = Path(__file__).with_name("_sql_worker.py")
GRACE = 0.5
"""Seconds past the deadline the progress handler gets before the child is killed."""


class QueryTimeout(RewardlabError, RuntimeError):
    """A query ran past its deadline."""


class QueryError(RewardlabError, RuntimeError):
    """The query failed (invalid SQL, refused by the authorizer, too many rows...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class QueryRunner:
    """Runs read-only queries on SQLite files in a killable child process (thread-safe)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.kills = 0

    def _start(self) -> subprocess.Popen[bytes]:
        # -I: the child sees no user site or PYTHONPATH; it needs the standard library only.
        return subprocess.Popen([sys.executable, "-I", str(_WORKER)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            self._kill()

    def _read(self, proc: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        data = b""
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def run(self, db_path: str | os.PathLike[str], sql: str, timeout: float,
            max_rows: int) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` on a read-only, immutable view of ``db_path``.

        Raises:
            QueryTimeout: the query ran past ``timeout`` seconds.
            QueryError: the query failed or returned more than ``max_rows`` rows.
        """
        uri = f"file:{Path(db_path)}?mode=ro&immutable=1"
        request = marshal.dumps((uri, sql, int(max_rows), float(timeout)))
        with self._lock:
            for attempt in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    self._kill()
                    self._proc = self._start()
                proc = self._proc
                assert proc.stdin is not None
                try:
                    proc.stdin.write(struct.pack(">I", len(request)) + request)
                    proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    self._kill()
                    if attempt:
                        raise QueryError("WorkerError",
                                         "the SQL worker could not start") from None
                    continue
                deadline = time.monotonic() + timeout + GRACE
                try:
                    size = struct.unpack(">I", self._read(proc, 4, deadline))[0]
                    reply = marshal.loads(self._read(proc, size, deadline + 5.0))
                except TimeoutError:
                    self.kills += 1
                    self._kill()
                    raise QueryTimeout(f"query exceeded its {timeout:g} s deadline "
                                       "(killed)") from None
                except EOFError:
                    # The child died mid-query (memory limit, crash): not a timeout.
                    self._kill()
                    raise QueryError("WorkerCrashed", "the SQL worker died running the "
                                     "query") from None
                break
        if reply[0] == "ok":
            return [tuple(row) for row in reply[1]]
        if reply[0] == "timeout":
            raise QueryTimeout(f"query exceeded its {timeout:g} s deadline")
        raise QueryError(reply[1], reply[2])


_runners: dict[int, QueryRunner] = {}
_runners_lock = threading.Lock()


def default_runner() -> QueryRunner:
    """This process's runner (one child per process; a forked worker gets its own)."""
    with _runners_lock:
        runner = _runners.get(os.getpid())
        if runner is None:
            runner = _runners[os.getpid()] = QueryRunner()
        return runner
