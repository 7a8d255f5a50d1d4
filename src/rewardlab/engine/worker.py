"""The engine's worker process: ``main([TASK_FD, RESULT_FD, MEM_MB])`` in a fresh interpreter.

It reads ``(task_id, pickled (fn, arg), imports)`` messages from ``TASK_FD``, imports the
modules the task needs (then says ``STARTED``, so import time is not billed to the task's
deadline), runs ``fn(arg)`` and writes ``(DONE, task_id, pickled Outcome, retiring)`` to
``RESULT_FD``. It never enforces its own deadline: the parent
kills it from outside when an item overruns. It dies with its parent (``PR_SET_PDEATHSIG``) so
a crashed caller never leaves spinning workers behind.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import pickle
import resource
import runpy
import signal
import sys
import types
from multiprocessing.connection import Connection

# Messages sent to the parent.
READY = "ready"
STARTED = "started"  # sent after a task's imports, when its clock should start
DONE = "done"


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the task pipe's EOF still ends the loop
        pass


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _load_main_script(path: str) -> None:
    """Make the parent's ``__main__`` script importable, as multiprocessing's spawn does, so
    rewards and task functions defined in a user's script unpickle here. The script runs
    under the name ``__mp_main__``: its ``if __name__ == "__main__"`` block does not run."""
    if not path:
        return
    main_module = types.ModuleType("__mp_main__")
    main_module.__dict__.update(runpy.run_path(path, run_name="__mp_main__"))
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main_module


def _run(fn_and_arg: bytes) -> bytes:
    # Imported here so a worker that fails to import rewardlab still reports the task failure.
    # rewardlab.errors, not rewardlab.reward: the engine imports no reward module (no cycle).
    from rewardlab.errors import error_outcome
    from rewardlab.types import Outcome, Status

    try:
        fn, arg = pickle.loads(fn_and_arg)
    except Exception as exc:
        outcome = error_outcome(exc, "cannot load the task in the worker")
    else:
        try:
            outcome = fn(arg)
            if not isinstance(outcome, Outcome):
                outcome = Outcome.fail(
                    Status.ERROR, f"task returned a {type(outcome).__name__}, not an Outcome"
                )
        except MemoryError:
            raise
        except BaseException as exc:  # SystemExit from graded code is a failure, not an exit
            outcome = error_outcome(exc)
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return pickle.dumps(error_outcome(exc, "cannot send the outcome back"))


def main(argv: list[str]) -> int:
    """Serve tasks until the parent closes the task pipe."""
    _die_with_parent()
    task_fd, result_fd = int(argv[0]), int(argv[1])
    memory_mb = int(argv[2]) if len(argv) > 2 else 0
    tasks = Connection(task_fd, writable=False)
    results = Connection(result_fd, readable=False)
    _load_main_script(os.environ.get("REWARDLAB_MAIN_PATH", ""))
    for module in filter(None, os.environ.get("REWARDLAB_PRELOAD", "").split(",")):
        importlib.import_module(module)  # warm imports before saying ready
    # No warm import of rewardlab.reward here: a CpuReward task names its own module in
    # ``imports``, which the loop below imports before STARTED, so it is never billed.

    _limit_memory(memory_mb)
    results.send((READY, os.getpid()))
    while True:
        try:
            task_id, payload, imports = tasks.recv()
        except (EOFError, OSError):
            return 0
        missing = [m for m in imports if m not in sys.modules]
        if missing:
            try:
                for module in missing:
                    importlib.import_module(module)
            except Exception:
                pass  # unpickling the task reports the failure properly
            results.send((STARTED, task_id))
        try:
            reply = _run(payload)
        except MemoryError:
            from rewardlab.types import Outcome, Status

            failed = Outcome.fail(Status.ERROR, "out of memory (worker memory limit reached)")
            # The heap may be in a bad state: tell the parent to retire this worker.
            results.send((DONE, task_id, pickle.dumps(failed), True))
            return 3
        results.send((DONE, task_id, reply, False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
