"""The embedded default backend: the pinned GGUF model behind xllamacpp's llama.cpp server.

One server per process, on loopback, on a free port. It is started on first use, shared by
every open ``LocalLLM``, kept for ``CLAUSEWATCH_LLM_LOCAL_IDLE_S`` seconds after the last one is
closed (so per-item get_llm()/close() reuses it), and stopped at interpreter exit.
Requests go through the same OpenAI-compatible code path as hosted backends.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clausewatch.errors import ConfigError, TransientError
from llm.base import LLMRequest, LLMResponse
from llm.model_files import MODEL_NAME, Progress, ensure_model_file
from llm.openai_compat import OpenAICompatibleLLM

log = logging.getLogger("clausewatch.llm")

LOCAL_BACKEND = "local"


@dataclass(frozen=True)
class ServerConfig:
    model_path: Path
    threads: int
    context_tokens: int
    parallel: int


@dataclass
class ServerInfo:
    address: str  # http://127.0.0.1:PORT
    config: ServerConfig
    started_s: float  # seconds from constructing the server to a healthy /health


class _LocalServer:
    """The process-wide llama.cpp server (xllamacpp.Server).

    Reference-counted by the open ``LocalLLM`` instances. When the last one is closed the server
    stays up for ``idle_s`` seconds (so code that opens and closes an LLM per item reuses it),
    then stops; ``idle_s <= 0`` stops it at once. It always stops at interpreter exit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self._info: ServerInfo | None = None
        self._users = 0
        self._atexit = False
        self._idle_timer: threading.Timer | None = None

    @property
    def info(self) -> ServerInfo | None:
        return self._info

    def acquire(self, config: ServerConfig, start_timeout_s: float) -> ServerInfo:
        with self._lock:
            self._cancel_timer_locked()
            if self._info is not None and self._info.config != config:
                if self._users > 0:
                    raise ConfigError(
                        "the local model server is already running with other settings "
                        f"({self._info.config}); close the other LLM first"
                    )
                self._stop_locked()
            if self._info is None:
                self._info = self._start_locked(config, start_timeout_s)
            self._users += 1
            return self._info

    def release(self, idle_s: float = 0.0) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users > 0 or self._info is None:
                return
            self._cancel_timer_locked()
            if idle_s <= 0:
                self._stop_locked()
                return
            timer = threading.Timer(idle_s, self._stop_if_idle)
            timer.daemon = True
            self._idle_timer = timer
            timer.start()

    def _stop_if_idle(self) -> None:
        with self._lock:
            self._idle_timer = None
            if self._users == 0:
                self._stop_locked()

    def _cancel_timer_locked(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def stop(self) -> None:
        """Stop now, whoever still holds it (interpreter exit, tests, ``llm prepare``)."""
        with self._lock:
            self._cancel_timer_locked()
            self._users = 0
            self._stop_locked()

    def _start_locked(self, config: ServerConfig, start_timeout_s: float) -> ServerInfo:
        import httpx
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(config.model_path)
        params.model_alias = {MODEL_NAME}
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port chosen by the server
        params.n_parallel = config.parallel
        params.n_ctx = config.context_tokens * config.parallel
        params.cpuparams.n_threads = config.threads
        params.cpuparams_batch.n_threads = config.threads
        params.endpoint_metrics = True
        params.verbosity = 0  # errors only; llama.cpp is chatty
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain RuntimeError on load failures
            raise ConfigError(
                f"the local model server failed to start with {config.model_path} "
                f"(threads {config.threads}, context {params.n_ctx}): {exc}"
            ) from exc
        address = str(server.listening_address).rstrip("/")
        deadline = started + start_timeout_s
        while True:
            try:
                if httpx.get(f"{address}/health", timeout=5.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                del server
                raise TransientError(
                    f"the local model server at {address} was not healthy "
                    f"after {start_timeout_s:.0f} s"
                )
            time.sleep(0.1)
        self._server = server
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        info = ServerInfo(address, config, time.perf_counter() - started)
        log.info(
            "local llm server started address=%s model=%s threads=%d ctx=%d in %.1fs",
            address,
            config.model_path.name,
            config.threads,
            params.n_ctx,
            info.started_s,
        )
        return info

    def _stop_locked(self) -> None:
        if self._server is not None:
            log.info(
                "local llm server stopping address=%s", self._info.address if self._info else ""
            )
            server, self._server = self._server, None
            del server  # the binding stops the HTTP server and frees the model on deallocation
        self._info = None


SERVER = _LocalServer()


def metrics(address: str) -> dict[str, float]:
    """llama.cpp's Prometheus counters (``llamacpp:*``) as a flat dict."""
    import httpx

    text = httpx.get(f"{address}/metrics", timeout=10.0).text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("llamacpp:"):
            name, _, value = line.partition(" ")
            try:
                values[name.removeprefix("llamacpp:")] = float(value)
            except ValueError:
                continue
    return values


class LocalLLM:
    """The pinned local model, assembled into ``models_dir`` and served on loopback."""

    backend = LOCAL_BACKEND

    def __init__(
        self,
        *,
        models_dir: Path,
        threads: int = 2,
        context_tokens: int = 8192,
        parallel: int = 1,
        timeout_s: float = 300.0,
        retries: int = 3,
        retry_wait_s: float = 2.0,
        start_timeout_s: float = 180.0,
        idle_s: float = 0.0,
    ) -> None:
        self.model = MODEL_NAME
        self.models_dir = models_dir
        self._threads = max(1, threads)
        self._context_tokens = context_tokens
        self._parallel = max(1, parallel)
        self._timeout_s = timeout_s
        self._retries = retries
        self._retry_wait_s = retry_wait_s
        self._start_timeout_s = start_timeout_s
        self._idle_s = idle_s
        self._client: OpenAICompatibleLLM | None = None
        self._info: ServerInfo | None = None
        self._lock = threading.Lock()

    def start(self, progress: Progress | None = None) -> ServerInfo:
        """Assemble/verify the model file if needed and make sure the server is up."""
        with self._lock:
            if self._info is None:
                path = ensure_model_file(self.models_dir, progress)
                config = ServerConfig(path, self._threads, self._context_tokens, self._parallel)
                self._info = SERVER.acquire(config, self._start_timeout_s)
                self._client = OpenAICompatibleLLM(
                    backend=LOCAL_BACKEND,
                    model=MODEL_NAME,
                    api_key="local",  # the loopback server takes no key
                    base_url=f"{self._info.address}/v1",
                    timeout_s=self._timeout_s,
                    retries=self._retries,
                    retry_wait_s=self._retry_wait_s,
                    strict_schemas=False,
                    # a timed-out generation keeps the single slot busy: asking again at once
                    # would only queue behind it
                    retry_timeouts=False,
                )
            return self._info

    @property
    def address(self) -> str | None:
        return self._info.address if self._info else None

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.start()
        assert self._client is not None
        return self._client.complete(request)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._info is not None:
                self._info = None
                SERVER.release(self._idle_s)
