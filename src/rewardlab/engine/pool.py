"""A process pool for CPU-bound reward work that never hangs and never lies.

Guarantees:

* Every item has a wall-clock deadline that starts when a worker actually starts it (queueing
  time is not counted) and is enforced from outside the worker by a dispatcher thread, so it
  works from any thread, inside event loops and inside other worker processes (no signals).
* A worker that overruns, crashes (segfault, ``os._exit``), runs out of memory or hangs is
  killed (its whole process group) and replaced; its item gets ``timeout`` or ``error``; the
  other items go on.
* Bounded queue (``submit`` blocks, or raises :class:`QueueFull` when asked not to block), an
  input size cap (over it: an ``error`` outcome), and an optional content-keyed LRU cache.

Workers are plain subprocesses (not ``multiprocessing`` children), so a pool can be created even
inside a daemonic ``multiprocessing`` worker.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import hashlib
import itertools
import logging
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from rewardlab.engine.worker import DONE, READY, STARTED
from rewardlab.errors import RewardlabError
from rewardlab.types import Outcome, Status

log = logging.getLogger(__name__)

Task = Callable[[Any], Outcome]
_CACHEABLE = frozenset({Status.OK, Status.UNPARSEABLE, Status.BAD_REFERENCE, Status.SKIPPED})
# Worker start-up failures (a crash or a kill before the worker said "ready") never leave the
# engine dead: spawning backs off exponentially from _BOOT_BACKOFF_S up to _BOOT_BACKOFF_MAX_S
# between attempts and keeps trying for as long as the engine lives. Only after
# _MIN_BOOT_FAILURES failures in a row *and* ``start_grace`` seconds without any ready worker do
# queued items fail (and new ones fail at once) instead of waiting; the first worker that
# starts again clears that state.
_MIN_BOOT_FAILURES = 3
_BOOT_BACKOFF_S = 0.1
_BOOT_BACKOFF_MAX_S = 5.0
_BOOT_TIMEOUT_S = 60.0
# Longest per-item deadline: larger (or infinite) ones are clamped to it. poll() takes an int of
# milliseconds, so an unbounded value would overflow the dispatcher's wait.
MAX_TIMEOUT_S = 1_000_000.0
# The dispatcher never sleeps longer than this in one wait, whatever the deadlines say.
_MAX_WAIT_S = 3600.0
# Time allowed for a task's imports (sympy alone takes ~1 s, far more on a loaded machine)
# before its own deadline starts.
_IMPORT_BUDGET_S = 120.0
# Only items this small are queued in a busy worker's pipe: a larger one could fill the pipe
# buffer and block the dispatcher (and with it every deadline) until the worker reads it.
_PREFETCH_MAX_BYTES = 16 * 1024
_WORKER_BOOT = "import sys; from rewardlab.engine.worker import main; sys.exit(main(sys.argv[1:]))"


class QueueFull(RewardlabError, RuntimeError):
    """Raised by a non-blocking submit when the engine's queue is at capacity."""


class EngineClosed(RewardlabError, RuntimeError):
    """Raised when submitting to a closed engine."""


def checked_timeout(value: Any) -> float:
    """A usable per-item deadline: a positive number of seconds, clamped to ``MAX_TIMEOUT_S``.

    Raises:
        ValueError: ``value`` is not a number, is NaN, or is not positive.
    """
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond float range: as good as infinite
        seconds = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        raise ValueError(f"timeout must be a number of seconds, got {value!r}") from None
    if math.isnan(seconds) or seconds <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {value!r}")
    return min(seconds, MAX_TIMEOUT_S)


@dataclass
class _Item:
    id: int
    payload: bytes
    timeout: float
    future: concurrent.futures.Future[Outcome]
    cache_key: bytes | None
    imports: tuple[str, ...] = ()


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    tasks: Connection
    results: Connection
    started_at: float
    ready: bool = False
    # Items sent to this worker, oldest (running) first; the others wait in its pipe.
    items: deque[_Item] = field(default_factory=deque)
    head_started: float = 0.0
    head_importing: bool = False  # the running item is still importing its modules
    loaded: set[str] = field(default_factory=set)
    done_count: int = 0
    stderr_tail: list[str] = field(default_factory=list)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[bytes, Outcome] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: bytes) -> Outcome | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: bytes, value: Outcome) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _main_script_path() -> str:
    """The parent's ``__main__`` script when it was run as ``python script.py`` (not ``-m``,
    ``-c`` or interactive): workers load it so functions defined there unpickle."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and path and path.endswith(".py"):
        return os.path.abspath(path)
    return ""


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class Engine:
    """Worker processes with hard per-item deadlines.

    Args:
        workers: Number of worker processes (default: CPU count).
        timeout: Default per-item deadline in seconds.
        max_pending: Items queued or running before ``submit`` blocks (back-pressure).
        max_input_bytes: Largest pickled item accepted; larger ones get an ``error`` outcome.
        cache_size: Entries in the content-keyed outcome cache (0 disables it).
        memory_limit_mb: Address-space limit per worker (``RLIMIT_AS``); 0 for none.
        max_tasks_per_worker: Recycle a worker after this many items (0: never).
        prefetch: Items queued in each worker's pipe so it never waits for the dispatcher
            between items (each item's deadline still starts when the worker starts it).
        preload: Modules each worker imports before accepting work (warm start).
        start_grace: Seconds worker start-ups may keep failing (with no worker ready) before
            queued items fail instead of waiting; spawning goes on with back-off regardless.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = 10.0,
        max_pending: int = 4096,
        max_input_bytes: int = 16 * 1024 * 1024,
        cache_size: int = 0,
        memory_limit_mb: int = 4096,
        max_tasks_per_worker: int = 0,
        prefetch: int = 2,
        preload: Iterable[str] = (),
        start_grace: float = 30.0,
    ) -> None:
        self.timeout = checked_timeout(timeout)
        self.num_workers = max(1, workers or os.cpu_count() or 1)
        self.start_grace = max(0.0, float(start_grace))
        self.max_pending = max_pending
        self.max_input_bytes = max_input_bytes
        self.memory_limit_mb = memory_limit_mb
        self.max_tasks_per_worker = max_tasks_per_worker
        self.prefetch = max(1, prefetch)
        self.preload = tuple(preload)
        self._cache = _LRU(cache_size) if cache_size > 0 else None
        self._slots = threading.BoundedSemaphore(max_pending)
        self._queue: deque[_Item] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._workers: list[_Worker] = []
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._closing = False
        self._broken: str | None = None  # the dispatcher itself died (a bug): permanent
        self._boot_failures = 0  # consecutive worker start-up failures
        self._failing_since: float | None = None  # first of those failures
        self._start_failed: str | None = None  # set while start-ups keep failing (see above)
        self._next_spawn_at = 0.0
        self._last_boot_failure = ""
        self._pid = os.getpid()
        self.stats = {"submitted": 0, "completed": 0, "timeouts": 0, "crashes": 0, "restarts": 0}
        # The finalizer reaps workers of an engine that is garbage-collected unclosed; at exit,
        # _close_all_engines closes engines properly (dispatcher first), so it must not run then.
        self._finalizer = weakref.finalize(self, Engine._cleanup, self._workers, self._wake_r,
                                           self._wake_w)
        self._finalizer.atexit = False
        _live_engines.add(self)

    # -- public API -------------------------------------------------------------------------

    def submit(
        self,
        fn: Task,
        arg: Any,
        *,
        timeout: float | None = None,
        cache: bool = False,
        block: bool = True,
        imports: Sequence[str] = (),
    ) -> concurrent.futures.Future[Outcome]:
        """Queue ``fn(arg)`` for a worker; the future resolves to an :class:`Outcome`.

        ``fn`` and ``arg`` must be picklable (``fn`` importable by name). The future never
        raises: failures resolve to ``timeout``/``error`` outcomes. ``imports`` names modules
        the task needs; a worker that has not loaded them yet imports them before the task's
        deadline starts (import time is bounded separately).

        Raises:
            QueueFull: ``block=False`` and the queue is at capacity.
            EngineClosed: the engine was closed.
        """
        if self._closing:
            raise EngineClosed("the engine is closed")
        if os.getpid() != self._pid:
            raise RuntimeError("this Engine belongs to another process; create a new one")
        future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        try:
            deadline = self.timeout if timeout is None else checked_timeout(timeout)
        except ValueError as exc:
            future.set_result(Outcome.fail(Status.ERROR, f"invalid item deadline: {exc}"))
            return future
        try:
            payload = pickle.dumps((fn, arg), protocol=pickle.HIGHEST_PROTOCOL)
        except (Exception, RecursionError) as exc:
            future.set_result(Outcome.fail(
                Status.ERROR, f"item cannot be sent to a worker (not picklable): {exc}"[:300]))
            return future
        if len(payload) > self.max_input_bytes:
            future.set_result(Outcome.fail(
                Status.ERROR,
                f"input too large: {len(payload)} bytes exceeds the "
                f"{self.max_input_bytes}-byte cap",
                input_bytes=len(payload), limit_bytes=self.max_input_bytes,
            ))
            return future
        failed = self._broken or self._start_failed
        if failed:
            future.set_result(Outcome.fail(Status.ERROR, failed))
            return future
        key = None
        if cache and self._cache is not None:
            key = hashlib.blake2b(payload, digest_size=20).digest()
            hit = self._cache.get(key)
            if hit is not None:
                future.set_result(hit)
                return future
        if not self._slots.acquire(blocking=block):
            raise QueueFull(f"engine queue is full ({self.max_pending} items pending)")
        future.add_done_callback(lambda _f: self._slots.release())
        item = _Item(next(self._ids), payload, deadline, future, key, tuple(imports))
        with self._lock:
            if self._closing:
                future.set_result(Outcome.fail(Status.ERROR, "the engine was closed"))
                return future
            self._queue.append(item)
            self.stats["submitted"] += 1
            self._ensure_started()
        self._wake()
        return future

    def map(self, fn: Task, args: Iterable[Any], *, timeout: float | None = None,
            cache: bool = False, imports: Sequence[str] = ()) -> list[Outcome]:
        """Run ``fn`` over ``args``; outcomes in input order."""
        futures = [self.submit(fn, a, timeout=timeout, cache=cache, imports=imports)
                   for a in args]
        return [f.result() for f in futures]

    async def asubmit(self, fn: Task, arg: Any, *, timeout: float | None = None,
                      cache: bool = False, imports: Sequence[str] = ()) -> Outcome:
        """Async :meth:`submit`: waits for queue space without blocking the event loop."""
        kwargs = {"timeout": timeout, "cache": cache, "imports": imports}
        try:
            future = self.submit(fn, arg, block=False, **kwargs)
        except QueueFull:
            future = await asyncio.to_thread(self.submit, fn, arg, **kwargs)
        return await asyncio.wrap_future(future)

    async def amap(self, fn: Task, args: Iterable[Any], *, timeout: float | None = None,
                   cache: bool = False, imports: Sequence[str] = ()) -> list[Outcome]:
        """Async :meth:`map`."""
        return list(await asyncio.gather(
            *(self.asubmit(fn, a, timeout=timeout, cache=cache, imports=imports)
              for a in args)))

    @property
    def pending(self) -> int:
        """Items queued or running."""
        with self._lock:
            return len(self._queue) + sum(len(w.items) for w in self._workers)

    def health(self) -> dict[str, Any]:
        """Whether a worker can serve right now, and why not.

        ``healthy`` is false while the engine is closed or broken, and while its workers have
        been started but none is ready (booting, or start-ups failing); an engine that has not
        started its workers yet is healthy (they start on first use).
        """
        with self._lock:
            started = self._thread is not None
            ready = sum(1 for w in self._workers if w.ready)
            workers = len(self._workers)
        reason = None
        if self._closing:
            reason = "the engine is closed"
        elif self._broken:
            reason = self._broken
        elif started and not ready:
            reason = self._start_failed or (
                f"no worker is ready ({self._boot_failures} start-up failures in a row)"
                if self._boot_failures else "workers are starting")
        return {"healthy": reason is None, "reason": reason, "workers": workers,
                "ready_workers": ready, "start_failures": self._boot_failures}

    @property
    def healthy(self) -> bool:
        """Shorthand for ``health()["healthy"]``."""
        return bool(self.health()["healthy"])

    @property
    def cache_hits(self) -> int:
        return self._cache.hits if self._cache else 0

    def close(self) -> None:
        """Stop the workers; unfinished items resolve to ``error`` outcomes."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            thread = self._thread
        self._wake()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._fail_all("the engine was closed")
        self._finalizer()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatcher -------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._dispatch_loop, name="rewardlab-engine",
                                            daemon=True)
            self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _spawn(self) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        env = dict(os.environ)
        # Workers must import what the parent imports (pickled functions travel by name).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        env["REWARDLAB_PRELOAD"] = ",".join(self.preload)
        env["REWARDLAB_MAIN_PATH"] = _main_script_path()
        cmd = [sys.executable or "python3", "-c", _WORKER_BOOT,
               str(task_r), str(result_w), str(self.memory_limit_mb)]
        try:
            proc = subprocess.Popen(
                cmd, pass_fds=(task_r, result_w), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, start_new_session=True, close_fds=True,
            )
        finally:
            os.close(task_r)
            os.close(result_w)
        worker = _Worker(proc, Connection(task_w, readable=False),
                         Connection(result_r, writable=False), time.monotonic())
        with self._lock:
            self._workers.append(worker)

    def _kill(self, worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            worker.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.proc.wait(timeout=5)
        for conn in (worker.tasks, worker.results):
            with contextlib.suppress(OSError):
                conn.close()
        with self._lock, contextlib.suppress(ValueError):
            self._workers.remove(worker)

    def _resolve(self, item: _Item, outcome: Outcome) -> None:
        if item.cache_key is not None and outcome.status in _CACHEABLE and self._cache:
            self._cache.put(item.cache_key, outcome)
        self.stats["completed"] += 1
        if not item.future.done():
            item.future.set_result(outcome)

    def _fail_all(self, reason: str) -> None:
        with self._lock:
            items = list(self._queue)
            self._queue.clear()
        items += [item for w in list(self._workers) for item in w.items]
        for item in items:
            if not item.future.done():
                item.future.set_result(Outcome.fail(Status.ERROR, reason))

    def _dispatch_loop(self) -> None:
        try:
            while not self._closing:
                self._top_up_workers()
                self._assign()
                self._wait_and_handle()
                self._enforce_deadlines()
        except BaseException as exc:  # never leave callers waiting forever
            log.exception("engine dispatcher crashed")
            self._broken = f"engine dispatcher crashed: {exc!r}"
            self._fail_all(self._broken)
        finally:
            self._fail_all(self._broken or "the engine was closed")
            for worker in list(self._workers):
                self._kill(worker)

    def _top_up_workers(self) -> None:
        if self._broken or self._closing or time.monotonic() < self._next_spawn_at:
            return
        while len(self._workers) < self.num_workers:
            try:
                self._spawn()
            except OSError as exc:  # fork/exec refused (out of pids, memory, fds): retry later
                self._boot_failed(f"cannot start a worker process: {exc}")
                return

    def _assign(self) -> None:
        for worker in self._workers:
            if not worker.ready:
                continue
            while len(worker.items) < self.prefetch:
                with self._lock:
                    if not self._queue:
                        return
                    item = self._queue[0]
                    if worker.items and len(item.payload) > _PREFETCH_MAX_BYTES:
                        break  # wait until this worker is idle
                    self._queue.popleft()
                if item.future.done():  # cancelled by the caller
                    continue
                worker.items.append(item)
                if len(worker.items) == 1:
                    self._start_head(worker)
                # A worker that died between "ready" and now: its EOF is handled next.
                with contextlib.suppress(OSError):
                    worker.tasks.send((item.id, item.payload, item.imports))

    @staticmethod
    def _start_head(worker: _Worker) -> None:
        """The worker's oldest item starts now (after importing what it needs, if anything)."""
        item = worker.items[0]
        worker.head_started = time.monotonic()
        missing = set(item.imports) - worker.loaded
        worker.head_importing = bool(missing)
        worker.loaded |= missing

    @staticmethod
    def _head_deadline(worker: _Worker) -> float:
        budget = _IMPORT_BUDGET_S if worker.head_importing else worker.items[0].timeout
        return worker.head_started + budget

    def _next_deadline(self) -> float | None:
        deadlines = [self._head_deadline(w) for w in self._workers if w.items]
        deadlines += [w.started_at + _BOOT_TIMEOUT_S for w in self._workers if not w.ready]
        if len(self._workers) < self.num_workers:
            deadlines.append(self._next_spawn_at)
        if self._failing_since is not None and self._start_failed is None:
            grace_ends = self._failing_since + self.start_grace
            if grace_ends > time.monotonic():  # once past, every later event re-checks it
                deadlines.append(grace_ends)
        return min(deadlines) if deadlines else None

    def _requeue_waiting(self, worker: _Worker) -> None:
        """Give items that were queued behind a lost worker's running item back to the queue."""
        waiting = list(worker.items)[1:]
        worker.items.clear()
        with self._lock:
            self._queue.extendleft(reversed(waiting))

    def _wait_and_handle(self) -> None:
        deadline = self._next_deadline()
        timeout = _MAX_WAIT_S if deadline is None else min(
            _MAX_WAIT_S, max(0.0, deadline - time.monotonic()))
        conns: list[Any] = [w.results for w in self._workers]
        ready = wait([*conns, self._wake_r], timeout)
        for obj in ready:
            if obj == self._wake_r:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self._wake_r, 65536)
                continue
            worker = next((w for w in self._workers if w.results is obj), None)
            if worker is not None:
                self._handle_message(worker)

    def _handle_message(self, worker: _Worker) -> None:
        try:
            message = worker.results.recv()
        except (EOFError, OSError):
            self._handle_death(worker)
            return
        if message[0] == READY:
            worker.ready = True
            self._boot_failures = 0
            self._failing_since = None
            if self._start_failed:
                log.warning("engine workers start again")
            self._start_failed = None
        elif message[0] == STARTED:
            if worker.items and worker.items[0].id == message[1]:
                worker.head_started = time.monotonic()  # imports done: the clock starts
                worker.head_importing = False
        elif message[0] == DONE:
            _, item_id, payload, retiring = message
            if not worker.items or worker.items[0].id != item_id:
                return
            item = worker.items.popleft()
            if worker.items:
                self._start_head(worker)  # the next item starts now
            worker.done_count += 1
            if retiring or (
                self.max_tasks_per_worker and worker.done_count >= self.max_tasks_per_worker
            ):
                worker.items.appendleft(item)  # so the requeue below skips it
                self._requeue_waiting(worker)
                self._kill(worker)
                self.stats["restarts"] += 1
            try:
                outcome = pickle.loads(payload)
            except Exception as exc:
                outcome = Outcome.fail(Status.ERROR, f"cannot read the worker's outcome: {exc}")
            self._resolve(item, outcome)

    def _handle_death(self, worker: _Worker) -> None:
        try:
            code = worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill(worker)
        if code is None:
            how = "worker stopped responding"
        elif code < 0:
            how = f"worker crashed ({_signal_name(code)})"
            if code == -signal.SIGKILL:
                how += "; killed from outside, often the kernel's out-of-memory killer"
        else:
            how = f"worker exited with code {code}"
        if not worker.ready:
            self._boot_failed(f"{how} during start-up")
            return
        self.stats["crashes"] += 1
        self.stats["restarts"] += 1
        if worker.items:
            running = worker.items[0]
            self._requeue_waiting(worker)
            self._resolve(running, Outcome.fail(Status.ERROR, how, exit_code=code))

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.items and now >= self._head_deadline(worker):
                item = worker.items[0]
                self._requeue_waiting(worker)
                self._kill(worker)
                self.stats["timeouts"] += 1
                self.stats["restarts"] += 1
                if worker.head_importing:
                    failed = Outcome.fail(
                        Status.TIMEOUT, f"importing {', '.join(item.imports)} took over "
                        f"{_IMPORT_BUDGET_S:g} s", timeout_s=_IMPORT_BUDGET_S)
                else:
                    failed = Outcome.fail(Status.TIMEOUT, f"exceeded the {item.timeout:g} s "
                                          "deadline", timeout_s=item.timeout)
                self._resolve(item, failed)
            elif not worker.ready and now >= worker.started_at + _BOOT_TIMEOUT_S:
                self._kill(worker)
                self._boot_failed(f"worker not ready after {_BOOT_TIMEOUT_S:g} s")
        self._check_start_grace(now)

    def _boot_failed(self, how: str) -> None:
        """A worker died before it was ready: retry later, never give up for good."""
        now = time.monotonic()
        self._boot_failures += 1
        if self._failing_since is None:
            self._failing_since = now
        backoff = min(_BOOT_BACKOFF_MAX_S, _BOOT_BACKOFF_S * 2 ** min(self._boot_failures - 1, 16))
        self._next_spawn_at = now + backoff
        self._last_boot_failure = how
        log.warning("engine worker start-up failed (%d in a row): %s; retrying in %.1f s",
                    self._boot_failures, how, backoff)
        self._check_start_grace(now)

    def _check_start_grace(self, now: float) -> None:
        """After ``start_grace`` seconds of failing start-ups, fail what waits (not forever)."""
        if (self._failing_since is None or self._boot_failures < _MIN_BOOT_FAILURES
                or now < self._failing_since + self.start_grace
                or any(w.ready for w in self._workers)):
            return
        if self._start_failed is None:
            self._start_failed = (
                f"engine cannot start workers: {self._last_boot_failure} "
                f"({self._boot_failures} attempts in a row); still retrying")
            log.error(self._start_failed)
        with self._lock:
            queued = list(self._queue)
            self._queue.clear()
        for item in queued:
            if not item.future.done():
                item.future.set_result(Outcome.fail(Status.ERROR, self._start_failed))

    @staticmethod
    def _cleanup(workers: list[_Worker], wake_r: int, wake_w: int) -> None:
        for worker in list(workers):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                worker.proc.kill()
                worker.proc.wait(timeout=5)
        for fd in (wake_r, wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


_live_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_default: Engine | None = None
_default_lock = threading.Lock()
_default_kwargs: dict[str, Any] = {}


def default_engine() -> Engine:
    """The process-wide engine used by CPU rewards (created on first use)."""
    global _default
    with _default_lock:
        if _default is None or _default._closing or _default._pid != os.getpid():
            _default = Engine(**_default_kwargs)
        return _default


def configure_engine(**kwargs: Any) -> Engine:
    """Replace the default engine with one built from ``kwargs`` (see :class:`Engine`)."""
    global _default
    with _default_lock:
        old, _default = _default, None
        _default_kwargs.clear()
        _default_kwargs.update(kwargs)
    if old is not None and old._pid == os.getpid():
        old.close()
    return default_engine()


def _forget_default_after_fork() -> None:
    global _default, _default_lock
    _default = None  # the parent's workers and dispatcher thread do not exist here
    _default_lock = threading.Lock()


def _close_all_engines() -> None:
    for engine in list(_live_engines):
        if engine._pid == os.getpid():
            engine.close()


os.register_at_fork(after_in_child=_forget_default_after_fork)
atexit.register(_close_all_engines)
