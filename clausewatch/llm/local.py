"""The embedded default backend: the pinned GGUF model behind llama.cpp's server (xllamacpp).

One server per user and model, shared by every clausewatch process and workspace
(``llm.shared_server``): the first ``LocalLLM`` that needs it starts it as a detached process;
the others find it through the per-user runtime folder. It stops itself after
``CLAUSEWATCH_LLM_LOCAL_IDLE_S`` seconds with no open ``LocalLLM`` and no request
(``clausewatch llm stop`` stops it at once). Its threads are sized to the free cores when it
starts (``llm.threads``).

Requests wait in a per-user FIFO queue for the server's slots (``CallProgress("queued")`` with
the position), then go through the same streamed OpenAI-compatible code path as hosted
backends, with llama.cpp's ``cache_prompt`` (the prompt prefix shared with the previous request
is not processed again) and ``return_progress`` (prompt progress while it is read). A stalled
or over-budget call is not re-sent (``StallTimeout``/``BudgetExceeded`` say ``retryable=False``):
the server would start that prompt from scratch behind the rest of the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from clausewatch.core.settings import Settings
from clausewatch.llm.base import LLMRequest, LLMResponse
from clausewatch.llm.model_files import MODEL_NAME, MODEL_SHA256, Progress, ensure_model_file
from clausewatch.llm.openai_compat import OpenAICompatibleLLM
from clausewatch.llm.shared_server import (
    LLAMA_ENGINE,
    Paths,
    ServerConfig,
    ServerState,
    ServerUse,
    ensure_server,
    is_alive,
    queue_slot,
)

log = logging.getLogger("clausewatch.llm")

LOCAL_BACKEND = "local"
LLAMA_CPP_FIELDS = {"cache_prompt": True, "return_progress": True}


@dataclass(frozen=True)
class ServerInfo:
    address: str  # http://127.0.0.1:PORT
    state: ServerState
    started_here: bool  # this process started it (else it was already running)

    @property
    def started_s(self) -> float:
        """Model load and health check, for the process that started it; 0 when reused."""
        return self.state.load_s if self.started_here else 0.0

    @property
    def threads(self) -> int:
        return self.state.threads


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
    """The pinned local model, assembled into ``models_dir`` and served by the shared server.

    ``model_path``/``model_sha256``/``engine``: another model file and server engine (tests
    run the shared-server machinery with a fake engine); by default the pinned model.
    """

    backend = LOCAL_BACKEND

    def __init__(
        self,
        *,
        models_dir: Path,
        threads: int | str = "auto",
        context_tokens: int = 8192,
        parallel: int = 1,
        stall_s: float = 120.0,
        retries: int = 1,
        retry_wait_s: float = 2.0,
        start_timeout_s: float = 180.0,
        idle_s: float = 300.0,
        model_path: Path | None = None,
        model_sha256: str = MODEL_SHA256,
        engine: str = LLAMA_ENGINE,
    ) -> None:
        self.model = MODEL_NAME
        self.models_dir = models_dir
        self._threads = threads
        self._context_tokens = context_tokens
        self._parallel = max(1, parallel)
        self._stall_s = stall_s
        self._retries = retries
        self._retry_wait_s = retry_wait_s
        self._start_timeout_s = start_timeout_s
        self._idle_s = idle_s
        self._model_path = model_path
        self._model_sha256 = model_sha256
        self._engine = engine
        self._client: OpenAICompatibleLLM | None = None
        self._info: ServerInfo | None = None
        self._use: ServerUse | None = None
        self._paths: Paths | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalLLM:
        return cls(
            models_dir=settings.models_dir,
            threads=settings.llm_threads,
            context_tokens=settings.llm_context_tokens,
            parallel=settings.llm_concurrency,
            stall_s=settings.llm_stall_s,
            retries=settings.llm_retries,
            retry_wait_s=settings.llm_retry_wait_s,
            start_timeout_s=settings.llm_local_start_timeout_s,
            idle_s=settings.llm_local_idle_s,
        )

    def start(self, progress: Progress | None = None) -> ServerInfo:
        """Assemble/verify the model file if needed and make sure the shared server is up."""
        with self._lock:
            if self._info is not None and self._paths is not None and not is_alive(self._paths):
                log.warning("the shared local model server went away; starting it again")
                self._drop_locked()
            if self._info is None:
                path = self._model_path or ensure_model_file(self.models_dir, progress)
                config = ServerConfig(
                    model_path=path,
                    model_sha256=self._model_sha256,
                    threads=self._threads,
                    context_tokens=self._context_tokens,
                    parallel=self._parallel,
                    idle_s=self._idle_s,
                    engine=self._engine,
                )
                paths = Paths.for_key(config.key)
                use = ServerUse(paths)  # before looking: the server cannot stop under us
                try:
                    state, started_here = ensure_server(config, self._start_timeout_s)
                except BaseException:
                    use.release()
                    raise
                self._paths, self._use = paths, use
                self._info = ServerInfo(state.url, state, started_here)
                self._client = OpenAICompatibleLLM(
                    backend=LOCAL_BACKEND,
                    model=MODEL_NAME,
                    api_key="local",  # the loopback server takes no key
                    base_url=f"{state.url}/v1",
                    stall_s=self._stall_s,
                    retries=self._retries,
                    retry_wait_s=self._retry_wait_s,
                    strict_schemas=False,
                    extra_body=LLAMA_CPP_FIELDS,
                    stall_retryable=False,
                )
                log.info(
                    "local llm server %s at %s pid=%d threads=%d (%s)",
                    "started" if started_here else "shared",
                    state.url,
                    state.pid,
                    state.threads,
                    state.threads_reason,
                )
            return self._info

    @property
    def address(self) -> str | None:
        return self._info.address if self._info else None

    @property
    def info(self) -> ServerInfo | None:
        return self._info

    def complete(self, request: LLMRequest) -> LLMResponse:
        started_at = time.time()
        info = self.start()
        assert self._client is not None and self._paths is not None
        with queue_slot(self._paths, info.state.parallel, started_at=started_at):
            return self._client.complete(request, started_at=started_at)

    def _drop_locked(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._use is not None:
            self._use.release()
            self._use = None
        self._info = None

    def close(self) -> None:
        with self._lock:
            self._drop_locked()
