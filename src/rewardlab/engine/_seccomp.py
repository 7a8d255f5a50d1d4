"""The seccomp filter for sandboxed programs, compiled on the host by libseccomp.

``pyseccomp`` (ctypes bindings with the API of libseccomp's own Python bindings) drives the
system's ``libseccomp.so.2``; the compiled BPF program travels to the sandbox server as bytes and
is installed in each candidate process with ``prctl(PR_SET_SECCOMP)`` just before its program
runs. Denied calls kill the process with ``SIGSYS`` (uncatchable), so a hit is visible as the
program's death by ``SIGSYS``; ``clone3`` instead fails with ``ENOSYS`` because its flags cannot
be inspected, which makes the C library fall back to ``clone``, whose namespace flags are.
"""

from __future__ import annotations

import errno
import functools
import io
import logging
import os
import tempfile

log = logging.getLogger(__name__)

# Kernel interfaces a test program never needs, and which are common attack surface.
DENIED = (
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "keyctl", "add_key", "request_key",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "userfaultfd",
    "fanotify_init", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "vhangup", "move_pages", "migrate_pages",
)
# clone() flags that would create namespaces (CLONE_NEWNS ... CLONE_NEWNET).
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                         0x20000000, 0x40000000)


@functools.cache
def compiled_filter() -> tuple[bytes, str]:
    """The BPF program (empty when libseccomp is unavailable) and a note on why not."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:
        return b"", f"seccomp unavailable: {exc}"
    try:
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in DENIED:
            try:
                flt.add_rule(seccomp.KILL_PROCESS, name)
            except (OSError, ValueError, RuntimeError):  # unknown on this architecture
                log.debug("seccomp: no syscall %s here", name)
        for flag in CLONE_NAMESPACE_FLAGS:
            flt.add_rule(seccomp.KILL_PROCESS, "clone",
                         seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        with tempfile.TemporaryFile() as out:
            flt.export_bpf(out)
            out.seek(0, io.SEEK_SET)
            program = out.read()
    except Exception as exc:
        return b"", f"seccomp unavailable: {type(exc).__name__}: {exc}"
    if not program or len(program) % 8:
        return b"", "seccomp unavailable: libseccomp exported no program"
    return program, f"libseccomp filter, {len(program) // 8} instructions"


def seccomp_wanted() -> bool:
    """False only when ``REWARDLAB_NO_SECCOMP=1`` (to compare with and without in tests)."""
    return os.environ.get("REWARDLAB_NO_SECCOMP") != "1"
