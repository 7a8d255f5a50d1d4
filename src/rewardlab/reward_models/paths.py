"""Where a model comes from: a local folder, or (only when it looks like one) a hub name.

A missing local folder used to be mistaken for a hub name (``runs/my-rm`` is also a valid
``owner/name``), which cost about 50 s of network retries per call and then turned every
sample into an ``error``. :func:`resolve_model` settles the question once, when a reward is
built: a path that looks local and does not exist is an error naming it; a hub name is checked
once against the hub (its ``config.json``, from the local cache when there) and a failure is
one clear error instead of one per sample.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from rewardlab.errors import RewardlabError

# owner/name or name, as the Hugging Face hub spells repository ids
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")

_checked: dict[str, str | None] = {}  # hub id -> None (reachable) or the failure message
_checked_lock = threading.Lock()


class ModelNotFoundError(RewardlabError, ValueError):
    """A model path that is neither an existing folder nor a reachable hub model."""


def looks_local(path: str) -> bool:
    """True when ``path`` can only mean a local folder.

    Absolute, ``./``, ``../`` and ``~`` paths, Windows separators, more than one ``/``, a
    trailing ``/``, and ``dir/name`` whose ``dir`` exists here (``runs/my-rm`` next to a
    ``runs`` folder) are local. Anything else that is a valid ``owner/name`` or ``name`` is a
    hub name.
    """
    if path.startswith(("/", ".", "~")) or "\\" in path or path.endswith("/"):
        return True
    if not _HUB_ID.match(path):
        return True
    head = path.split("/", 1)[0]
    return "/" in path and Path(head).is_dir()


def resolve_model(path: str | Path, what: str = "model", *, check_hub: bool = True) -> str:
    """The folder (absolute) or hub name to load ``path`` from.

    Args:
        path: A model folder or a hub name.
        what: What the model is, for messages (``"reward model"``, ``"policy"``...).
        check_hub: Check once that a hub name is reachable (its ``config.json``).

    Raises:
        ModelNotFoundError: a local-looking path that does not exist, or a hub name that cannot
            be fetched. The message names the path.
    """
    text = str(path)
    if not text.strip():
        raise ModelNotFoundError(f"{what}: empty model path")
    local = Path(text).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ModelNotFoundError(f"{what} must be a model folder, got a file: {text}")
        return str(local.resolve())
    if looks_local(text):
        raise ModelNotFoundError(
            f"{what} folder not found: {text} (looked in {local.resolve()})"
        )
    if check_hub:
        _check_hub(text, what)
    return text


def _check_hub(name: str, what: str) -> None:
    with _checked_lock:
        if name not in _checked:
            _checked[name] = _hub_failure(name)
        failure = _checked[name]
    if failure is not None:
        raise ModelNotFoundError(
            f"{what} {name!r} is not a local folder (no ./{name} here) and could not be "
            f"fetched from the Hugging Face hub: {failure}"
        )


def _hub_failure(name: str) -> str | None:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        return "huggingface_hub is not installed"
    try:
        hf_hub_download(name, "config.json")
    except Exception as exc:  # offline, unknown repo, gated, no config: all the same to us
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    return None
