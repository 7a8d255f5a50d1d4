"""Run untrusted programs in a bubblewrap sandbox, fast, with verdicts decided outside them.

Each :class:`Sandbox` is one long-lived fork server (``_sandbox_server.py``) started inside
``bwrap`` with no network, its own PID/IPC/UTS namespaces, a read-only view of the system
(``/usr`` and the Python installation only: no home, no project files, no ``/etc``), a size-capped
tmpfs on ``/tmp``, a cleared environment and unprivileged uids. Per job:

* a **candidate** process, forked from a zygote that never held any job's data, runs the
  program in fresh user, PID and mount namespaces (own ``/tmp`` and ``/proc``), without
  capabilities, under rlimits and a seccomp filter (:mod:`rewardlab.engine._seccomp`);
* for tests, a **judge** process runs the trusted test code with pristine builtins; every name
  the solution defines is a proxy that sends arguments to the candidate and receives return
  values through a data-only codec, so comparisons and assertions never run in the candidate;
* the server enforces wall-clock deadlines (total and per test) and output caps from outside.

Forking a warm interpreter costs about a millisecond, instead of the ~20-50 ms a fresh Python
start costs, so sandboxing does not make code rewards slow.

Without bubblewrap, :class:`SandboxPool` refuses to start unless ``allow_weaker=True``: then
the same server runs as a plain subprocess (rlimits, own session, deadline kill, but no
namespaces). Every :class:`RunResult` says which ``isolation`` it ran under.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import itertools
import json
import logging
import os
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.engine._seccomp import compiled_filter, seccomp_wanted
from rewardlab.errors import RewardlabError

log = logging.getLogger(__name__)

SERVER_SOURCE = Path(__file__).with_name("_sandbox_server.py")
_SANDBOX_PYTHON = "/opt/python"
_GRACE_S = 5.0
_START_TIMEOUT_S = 30.0

Isolation = Literal["bwrap", "process"]


class SandboxUnavailable(RewardlabError, RuntimeError):
    """bubblewrap is missing or does not work here, and weaker isolation was not allowed."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed job.

    Args:
        cpu_s: CPU seconds (``RLIMIT_CPU``); the process gets SIGXCPU/SIGKILL past it.
        memory_mb: Address space per process (``RLIMIT_AS``). The machine's cgroups are not
            used (see ``docs/code-sandbox.md``), so a sample's worst case is
            ``processes * memory_mb`` (:attr:`memory_bound_mb`).
        processes: Processes and threads the sample may have at once (``RLIMIT_NPROC``; with
            a uid of its own per sandbox this counts the sample's processes only).
        file_size_mb: Largest file the sample may write (``RLIMIT_FSIZE``).
        open_files: Open file descriptors (``RLIMIT_NOFILE``).
        output_bytes: Bytes of stdout (and of stderr) kept; more kills the job.
        work_mb: Size of the private tmpfs work dir.
    """

    cpu_s: float = 10.0
    memory_mb: int = 1024
    processes: int = 32
    file_size_mb: int = 16
    open_files: int = 256
    output_bytes: int = 1 << 20
    work_mb: int = 64

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")

    @property
    def memory_bound_mb(self) -> int:
        """The most memory one sample can hold: every process at its address-space limit."""
        return int(self.processes * self.memory_mb)


@dataclass
class RunResult:
    """What happened to one sandboxed job.

    Attributes:
        exit_code: The program's exit status (``None`` when a signal ended it).
        signal: The signal name that ended it, if any (``SIGKILL``, ``SIGXCPU``...).
        stdout: Captured standard output (capped).
        stderr: The tail of standard error.
        events: Events from the judge (tests and call modes): ``load``, ``begin``/``end``
            per test, ``error``, ``candidate_gone``, ``finished``. Only the judge writes them;
            the candidate has no access to this channel.
        forged_events: Kept for compatibility; always 0 (the candidate cannot write events).
        killed: Why the sandbox killed it: ``timeout``, ``test_timeout``, ``output_limit``,
            ``sandbox_crashed``, ``sandbox_timeout`` (the server itself did not answer within
            the deadline plus a grace period) or ``None``.
        judge_failed: The judge (trusted test runner) did not finish cleanly.
        seccomp: Whether the candidate ran under the seccomp filter.
        separate_uids: Whether the server/judge and the candidate ran under different uids.
        open_test: The test running when it was killed.
        wall_s: Wall-clock seconds.
        isolation: ``bwrap`` (with ``+ns`` when each sample had its own namespaces) or
            ``process``.
    """

    exit_code: int | None
    signal: str | None
    stdout: str = ""
    stderr: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    forged_events: int = 0
    killed: str | None = None
    open_test: int | None = None
    wall_s: float = 0.0
    isolation: str = ""
    judge_failed: bool = False
    seccomp: bool = False
    separate_uids: bool = False

    @property
    def timed_out(self) -> bool:
        """True when a total or per-test deadline killed the job."""
        return self.killed in ("timeout", "test_timeout")


@functools.cache
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap works here, and why not if it does not (probed once)."""
    path = shutil.which("bwrap")
    if path is None:
        return False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    cmd = [path, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        probe = subprocess.run(cmd, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap does not run: {exc}"
    if probe.returncode != 0:
        return False, "bwrap cannot create namespaces here: " + probe.stderr.decode()[-300:]
    return True, path


def _namespace_args() -> list[str]:
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if os.getuid() != 0:
        # Unprivileged: a user namespace maps us to "nobody". As root we skip it so that the
        # server can drop to a real unprivileged uid, which the process limit applies to
        # (the kernel exempts uid 0 from RLIMIT_NPROC).
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    return args


def _python_prefix() -> tuple[Path, str]:
    prefix = Path(os.path.realpath(sys.base_prefix))
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in (version, "python3"):
        if (prefix / "bin" / name).exists():
            return prefix, name
    raise SandboxUnavailable(f"no Python interpreter found under {prefix}/bin")


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


_uid_counter = itertools.count()


def _server_args(uids: bool) -> list[str]:
    """The server's arguments: the seccomp program and (as root) a judge/candidate uid pair."""
    program = compiled_filter()[0] if seccomp_wanted() else b""
    uid_arg = "-"
    if uids and os.getuid() == 0:
        # A pair of uids of its own per sandbox: RLIMIT_NPROC then counts one sample's
        # processes, and nothing the candidate runs as may signal the server or the judge.
        slot = (os.getpid() * 64 + next(_uid_counter)) % 1_000_000
        uid_arg = f"{200_000 + 2 * slot}:{200_001 + 2 * slot}"
    return [program.hex() or "-", uid_arg]


def bwrap_command(limits: Limits, python_paths: tuple[str, ...] = ()) -> list[str]:
    """The ``bwrap`` command line that starts a sandboxed fork server.

    ``python_paths`` (for example a site-packages folder) are bound read-only at the same place
    and added to the sandboxed interpreter's ``sys.path``.
    """
    ok, path = bwrap_status()
    if not ok:
        raise SandboxUnavailable(path)
    prefix, exe = _python_prefix()
    cmd = [path, *_namespace_args(), "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
           "--setenv", "LANG", "C.UTF-8", *_system_binds(),
           "--proc", "/proc", "--dev", "/dev",
           "--perms", "1777", "--size", str(max(limits.work_mb, 16) * 1024 * 1024 * 2),
           "--tmpfs", "/tmp",
           "--perms", "0755", "--dir", "/opt",
           "--ro-bind", str(prefix), _SANDBOX_PYTHON]
    # Mounted under /opt/paths: bwrap would create the parents of a bind at its host path
    # with mode 0700, unreadable for the sandbox's uid.
    paths = [f"/opt/paths/{i}" for i in range(len(python_paths))]
    if paths:
        cmd += ["--perms", "0755", "--dir", "/opt/paths"]
    for host, inside in zip(python_paths, paths, strict=True):
        cmd += ["--ro-bind", os.path.realpath(host), inside]
    cmd += ["--chdir", "/tmp", f"{_SANDBOX_PYTHON}/bin/{exe}", "-I", "-c",
            SERVER_SOURCE.read_text(), "--sandboxed", *_server_args(True), *paths]
    return cmd


def _spawner() -> concurrent.futures.ThreadPoolExecutor:
    return _spawner_for(os.getpid())  # a forked child needs its own thread


@functools.cache
def _spawner_for(pid: int) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rewardlab-sandbox-spawn")


def _process_command(python_paths: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-I", "-c", SERVER_SOURCE.read_text(), "--process",
            *_server_args(False), *(os.path.realpath(p) for p in python_paths)]


def _write_message(fd: int, obj: Any) -> None:
    data = json.dumps(obj).encode()
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _read_message(fd: int, deadline: float) -> Any:
    """One framed JSON message, or None on EOF or when ``deadline`` passes."""
    buf = b""
    need = 4
    length = None
    while True:
        while len(buf) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, max(need - len(buf), 65536 if length else 4 - len(buf)))
            if not chunk:
                return None
            buf += chunk
        if length is None:
            length = struct.unpack(">I", buf[:4])[0]
            buf = buf[4:]
            need = length
            continue
        return json.loads(buf[:length])


class Sandbox:
    """One sandboxed fork server; runs one job at a time (thread-safe).

    Args:
        isolation: ``"bwrap"`` or ``"process"`` (weaker: no namespaces).
        limits: Default limits for jobs.
        python_paths: Folders programs may import from (for example a site-packages with
            numpy), visible read-only in the sandbox and added to ``sys.path``.
        namespaces: Give each sample its own user/PID/mount namespaces when the kernel allows
            it (``False`` only to exercise the plain ``bwrap`` level, e.g. in tests).
    """

    def __init__(self, isolation: Isolation = "bwrap", limits: Limits | None = None,
                 python_paths: tuple[str, ...] = (), namespaces: bool = True) -> None:
        for path in python_paths:
            if not os.path.isdir(path):
                raise ValueError(f"python path {path!r} is not a directory")
        if isolation not in ("bwrap", "process"):
            raise ValueError(f"isolation must be 'bwrap' or 'process', got {isolation!r}")
        self.isolation = isolation
        self.limits = limits or Limits()
        self.python_paths = tuple(python_paths)
        self.namespaces = namespaces
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._nested = False
        self._hello: dict[str, Any] = {}
        self._errlog: Any = None
        self.restarts = 0

    @property
    def isolation_level(self) -> str:
        """``bwrap+ns`` (per-sample namespaces), ``bwrap`` or ``process``."""
        if self.isolation == "bwrap" and self._nested:
            return "bwrap+ns"
        return self.isolation

    def start(self) -> None:
        """Start the server now (otherwise the first job starts it)."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop()
        cmd = (bwrap_command(self.limits, self.python_paths) if self.isolation == "bwrap"
               else _process_command(self.python_paths))
        errlog = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the server runs
        # bwrap --die-with-parent follows the *thread* that started it, so servers are started
        # from one thread that lives as long as the process (not from short-lived workers).
        self._proc = _spawner().submit(
            subprocess.Popen, cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog,
            start_new_session=True, close_fds=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        ).result()
        hello = _read_message(self._proc.stdout.fileno(), time.monotonic() + _START_TIMEOUT_S)
        if not hello or not hello.get("ready"):
            self._stop()
            errlog.seek(0)
            detail = errlog.read().decode(errors="replace")[-1000:]
            raise SandboxUnavailable(f"the sandbox server did not start: {detail or 'no output'}")
        self._errlog = errlog
        self._hello = hello
        self._nested = bool(hello.get("nested_namespaces")) and self.namespaces

    def _death_note(self) -> str:
        proc = self._proc
        code = None if proc is None else proc.poll()
        note = "the sandbox server stopped answering"
        if code is not None:
            note = f"the sandbox server exited (code {code})"
        if self._errlog is not None:
            with contextlib.suppress(OSError):
                self._errlog.seek(0)
                tail = self._errlog.read().decode(errors="replace")[-500:].strip()
                if tail:
                    note += f": {tail}"
        return note

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def run(
        self,
        mode: Literal["script", "tests", "call"],
        code: str,
        *,
        stdin: str = "",
        tests: list[str] | None = None,
        prelude: str = "",
        names: list[str] | None = None,
        solution_wins: list[str] | None = None,
        fn_name: str | None = None,
        calls: list[list[Any]] | None = None,
        timeout: float = 10.0,
        test_timeout: float | None = None,
        limits: Limits | None = None,
    ) -> RunResult:
        """Run one job in a fresh sandboxed process and wait for it.

        Args:
            mode: ``script`` (run ``code`` with ``stdin``), ``tests`` (the judge runs
                ``prelude`` and the instrumented ``tests`` against the program ``code``) or
                ``call`` (the judge calls ``fn_name`` with each argument list in ``calls``).
            code: The untrusted program.
            stdin: Standard input for the program (``script``).
            tests: Test sources (``tests`` mode), run by the judge.
            prelude: Trusted source the judge runs before the tests (prompt helpers, imports).
            names: Names the tests use that the solution may define (proxied to it).
            solution_wins: Names for which the solution's definition replaces the prelude's.
            fn_name: Function to call (``call`` mode).
            calls: Argument lists (``call`` mode).
            timeout: Wall-clock deadline for the whole job.
            test_timeout: Deadline for each instrumented test.
            limits: Resource limits (default: the sandbox's).

        Returns:
            The :class:`RunResult`; sandbox failures come back as ``killed="sandbox_crashed"``.
        """
        limits = limits or self.limits
        cand_limits = {**asdict(limits), "cpu_s": max(1, round(min(limits.cpu_s, timeout + 1)))}
        job = {
            "mode": mode, "code": code, "stdin": stdin, "tests": tests or [],
            "prelude": prelude, "names": names or [], "solution_wins": solution_wins or [],
            "fn_name": fn_name, "calls": calls or [], "timeout": timeout,
            "test_timeout": test_timeout, "namespaces": self.namespaces,
            "limits": cand_limits,
        }
        with self._lock:
            self._ensure_started()
            assert self._proc is not None and self._proc.stdin and self._proc.stdout
            if self._hello.get("separate_uids"):
                # The zygote and the waiter share the candidate's uid (and so its count).
                job["limits"]["processes"] = limits.processes + 2
            deadline = time.monotonic() + timeout + _GRACE_S
            try:
                _write_message(self._proc.stdin.fileno(), job)
                reply = _read_message(self._proc.stdout.fileno(), deadline)
            except OSError:
                reply = None
            if reply is None or "server_error" in reply:
                why = (reply or {}).get("server_error") or self._death_note()
                level = self.isolation_level
                late = reply is None and time.monotonic() >= deadline
                self._stop()
                self.restarts += 1
                return RunResult(None, None, stderr=why, isolation=level,
                                 killed="sandbox_timeout" if late else "sandbox_crashed")
        return _to_result(reply, self.isolation_level, self._hello)

    def close(self) -> None:
        """Stop the server. Safe to call twice."""
        with self._lock:
            self._stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_result(reply: dict[str, Any], isolation: str, hello: dict[str, Any]) -> RunResult:
    events = [e for e in reply.get("events", []) if isinstance(e, dict)]
    return RunResult(
        exit_code=reply.get("exit_code"), signal=reply.get("signal"),
        stdout=reply.get("stdout", ""), stderr=reply.get("stderr", ""), events=events,
        killed=reply.get("killed"), open_test=reply.get("open_test"),
        wall_s=float(reply.get("wall_s", 0.0)), isolation=isolation,
        judge_failed=bool(reply.get("judge_failed")), seccomp=bool(hello.get("seccomp")),
        separate_uids=bool(hello.get("separate_uids")),
    )


def resolve_isolation(isolation: Literal["auto", "bwrap", "process"], allow_weaker: bool) -> str:
    """Pick the isolation to use, or raise :class:`SandboxUnavailable`.

    ``process`` (no namespaces) is only ever used when asked for by name or when
    ``allow_weaker`` is set and bubblewrap does not work.
    """
    if isolation == "process":
        if not allow_weaker:
            raise SandboxUnavailable(
                "isolation='process' is weaker than the bubblewrap sandbox; "
                "pass allow_weaker=True to use it")
        return "process"
    if isolation not in ("auto", "bwrap"):
        raise ValueError(f"isolation must be 'auto', 'bwrap' or 'process', got {isolation!r}")
    ok, why = bwrap_status()
    if ok:
        return "bwrap"
    if allow_weaker:
        log.warning("code sandbox: %s; falling back to process isolation (weaker)", why)
        return "process"
    raise SandboxUnavailable(f"{why}. Install bubblewrap, or allow weaker isolation "
                             "explicitly (allow_weaker=True)")


class SandboxPool:
    """A fixed set of sandboxes; each job borrows one (blocking until one is free).

    Args:
        size: Number of sandboxes, i.e. jobs running at once (default: CPU count).
        isolation: ``"auto"``/``"bwrap"`` (bubblewrap, required unless ``allow_weaker``)
            or ``"process"``.
        allow_weaker: Permit the ``process`` fallback when bubblewrap does not work.
        limits: Default limits for jobs.
        python_paths: Folders programs may import from (read-only, added to ``sys.path``).
    """

    def __init__(self, size: int | None = None, *, isolation: Literal["auto", "bwrap",
                 "process"] = "auto", allow_weaker: bool = False, limits: Limits | None = None,
                 python_paths: tuple[str, ...] = ()) -> None:
        self.isolation = resolve_isolation(isolation, allow_weaker)
        self.size = max(1, size or os.cpu_count() or 1)
        self._all = [Sandbox(self.isolation, limits, python_paths)  # type: ignore[arg-type]
                     for _ in range(self.size)]
        self._free: queue.SimpleQueue[Sandbox] = queue.SimpleQueue()
        for box in self._all:
            self._free.put(box)
        self._closed = False
        self._waiters = concurrent.futures.ThreadPoolExecutor(
            self.size, thread_name_prefix="rewardlab-sandbox-wait")

    def run(self, *args: Any, **kwargs: Any) -> RunResult:
        """:meth:`Sandbox.run` on the next free sandbox."""
        if self._closed:
            raise RuntimeError("the sandbox pool is closed")
        box = self._free.get()
        try:
            return box.run(*args, **kwargs)
        finally:
            self._free.put(box)

    async def arun(self, *args: Any, **kwargs: Any) -> RunResult:
        """Async :meth:`run` (the waiting happens in one of the pool's own threads, so every
        sandbox can be busy at once whatever the event loop's default executor size)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._waiters, functools.partial(self.run, *args,
                                                                           **kwargs))

    def warm_up(self) -> None:
        """Start every sandbox now rather than on first use."""
        for box in self._all:
            box.start()

    @property
    def isolation_level(self) -> str:
        """The isolation jobs get (``bwrap+ns``, ``bwrap`` or ``process``)."""
        box = self._all[0]
        if box._proc is None:
            with contextlib.suppress(SandboxUnavailable):
                box.start()
        return box.isolation_level

    def close(self) -> None:
        """Stop all sandboxes."""
        self._closed = True
        for box in self._all:
            box.close()
        self._waiters.shutdown(wait=False)


_pools: dict[tuple[Any, ...], SandboxPool] = {}
_pools_lock = threading.Lock()


def shared_pool(size: int | None = None, isolation: Literal["auto", "bwrap", "process"] = "auto",
                allow_weaker: bool = False, python_paths: tuple[str, ...] = ()) -> SandboxPool:
    """A process-wide pool per configuration, so rewards share warm sandboxes."""
    key = (size, isolation, allow_weaker, tuple(python_paths), os.getpid())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool._closed:
            pool = _pools[key] = SandboxPool(size, isolation=isolation,
                                             allow_weaker=allow_weaker,
                                             python_paths=tuple(python_paths))
        return pool


def _close_pools() -> None:
    for key, pool in list(_pools.items()):
        if key[-1] == os.getpid():
            pool.close()


atexit.register(_close_pools)
