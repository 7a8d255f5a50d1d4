"""``rewardlab sandbox``: the setup check and running a program, in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewardlab.engine.sandbox import bwrap_status

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not bwrap_status()[0], reason="bubblewrap is not usable here")


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "rewardlab", "sandbox", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_check_reports_isolation_and_blocked_network():
    proc = run_cli()
    assert proc.returncode == 0, proc.stderr
    assert "isolation: bwrap" in proc.stdout
    assert "network: blocked" in proc.stdout
    # Unprivileged: 65534, or (as root) a uid of the sandbox's own (issue 14).
    uid = int(proc.stdout.split("uid:")[1].split()[0])
    assert uid == 65534 or uid >= 200_000


def test_runs_a_program_with_stdin_and_reports_deadlines(tmp_path):
    program = tmp_path / "add.py"
    program.write_text("print(sum(map(int, input().split())))\n")
    proc = run_cli(str(program), stdin="3 4\n")
    assert proc.returncode == 0 and proc.stdout == "7\n"
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["isolation"].startswith("bwrap") and report["killed"] is None
    spin = tmp_path / "spin.py"
    spin.write_text("while True: pass\n")
    proc = run_cli(str(spin), "--timeout", "1")
    assert proc.returncode == 1
    assert json.loads(proc.stderr.strip().splitlines()[-1])["killed"] == "timeout"
