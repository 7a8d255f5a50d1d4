"""``rewardlab sandbox``: check the code sandbox on this machine, or run a program in it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewardlab.cli._errors import print_error


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sandbox", help="check the code sandbox (bubblewrap) here, or run a program in it")
    p.add_argument("program", nargs="?", type=Path,
                   help="a Python file to run in the sandbox (stdin is passed through)")
    p.add_argument("--timeout", type=float, default=10.0, help="wall-clock deadline, seconds")
    p.add_argument("--allow-weaker", action="store_true",
                   help="use plain process isolation if bubblewrap does not work")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rewardlab.engine.sandbox import SandboxPool, SandboxUnavailable, bwrap_status

    ok, detail = bwrap_status()
    print(f"bubblewrap: {'ok (' + detail + ')' if ok else detail}", file=sys.stderr)
    try:
        pool = SandboxPool(1, allow_weaker=args.allow_weaker)
    except SandboxUnavailable as exc:
        print_error("sandbox", exc)
        return 2
    try:
        if args.program is None:
            probe = pool.run("script", "import socket, os\n"
                             "try:\n    socket.create_connection(('1.1.1.1', 53), 2)\n"
                             "    print('network: reachable')\n"
                             "except OSError:\n    print('network: blocked')\n"
                             "print('uid:', os.getuid())\n", timeout=args.timeout)
            print(f"isolation: {probe.isolation}")
            print(probe.stdout, end="")
            return 0 if probe.exit_code == 0 else 1
        stdin = "" if sys.stdin.isatty() else sys.stdin.read()
        result = pool.run("script", args.program.read_text(), stdin=stdin, timeout=args.timeout)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(json.dumps({"exit_code": result.exit_code, "signal": result.signal,
                          "killed": result.killed, "wall_s": round(result.wall_s, 3),
                          "isolation": result.isolation}), file=sys.stderr)
        return result.exit_code if result.exit_code is not None else 1
    finally:
        pool.close()
