"""Every spec example in README.md and docs/*.md builds the same reward inline and from a file.

The examples are read from the Markdown itself (YAML code blocks and the `--spec '...'` /
`--reward '...'` strings of shell blocks), so a doc edit is tested without touching this file.
A block that lists alternatives (several top-level `reward:` lines) is split into one spec each.
Specs that need a model or server not present here must fail the same way both ways.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from rewardlab import Reward, SpecError, load_spec, rewards_from_spec

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_TOP = re.compile(r"^(reward|rewards):", re.M)


def _split(block: str) -> list[str]:
    """One spec per top-level `reward:`/`rewards:` line (other top-level keys stay attached)."""
    starts = [m.start() for m in _TOP.finditer(block)]
    if not starts:
        return []  # a fragment (e.g. a `backend:` block), not a spec
    return [block[a:b].strip() for a, b in zip(starts, [*starts[1:], len(block)], strict=True)]


def doc_specs() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S):
            if lang in ("yaml", "yml"):
                found += [(f"{doc.name}: {s.splitlines()[0][:50]}", s) for s in _split(body)]
            for spec in re.findall(r"--(?:spec|reward)\s+'([^']+)'", body):
                found.append((f"{doc.name}: {spec[:50]}", spec))
    return found


SPECS = doc_specs()


def test_the_docs_have_spec_examples():
    assert len(SPECS) >= 15, [name for name, _ in SPECS]


def _canon(value, depth: int = 0):
    """A comparable form of a built reward: its type and settings, children included."""
    if depth > 6:
        return "..."
    if isinstance(value, Reward):
        settings = {k: _canon(v, depth + 1) for k, v in sorted(vars(value).items())
                    if not k.startswith("_")}
        return (type(value).__name__, tuple((k, v) for k, v in settings.items() if v != "?"))
    if isinstance(value, Mapping):
        return tuple((str(k), _canon(v, depth + 1)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_canon(v, depth + 1) for v in value)
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return "?"  # engines, clients, locks: runtime state, not settings


def _fingerprint(source) -> tuple:
    try:
        rewards = rewards_from_spec(source)
    except SpecError as exc:
        return ("error", str(exc))
    out = tuple((alias, _canon(reward)) for alias, reward in rewards.items())
    for reward in rewards.values():
        reward.close()
    return ("ok", out)


@pytest.mark.parametrize("name, spec", SPECS, ids=[n for n, _ in SPECS])
def test_doc_spec_inline_equals_file(name, spec, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name files relative to the checkout
    path = tmp_path / "spec.yaml"
    path.write_text(spec + "\n", encoding="utf-8")
    assert load_spec(spec) == load_spec(path)
    inline, from_file = _fingerprint(spec), _fingerprint(path)
    assert inline == from_file
    if inline[0] == "error":  # only a missing model/server/package may stop a documented spec
        assert not re.search(r"unknown (field|reward|top-level)|duplicate key|did you mean",
                             inline[1]), inline[1]
