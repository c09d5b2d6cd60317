"""The OpenAI-compatible backend: streamed chat completions with JSON Schema structured output.

Used for OpenAI itself (``openai``), for any server speaking the same API (``openai-compatible``:
vLLM, Ollama, llama.cpp, gateways) and, through a loopback URL, for the embedded ``local`` model.

Answers are streamed (``stream=true``), so a slow model is not mistaken for a dead one:

* a call stops with ``StallTimeout`` when no byte arrives for ``stall_s`` seconds
  (``CLAUSEWATCH_LLM_STALL_S``), and with ``BudgetExceeded`` when the per-draft budget of the
  current context (``llm.progress.draft_budget``) runs out; neither is re-sent here, and
  both close the connection so the server stops generating;
* progress (``CallProgress``) goes to the callbacks of the current context.

Failures before anything was streamed (connection refused, HTTP 408/409/429/5xx) are re-sent
with exponential back-off, within the budget; when the attempts are used up a TransientError
is raised. Other HTTP errors are not retried: 400/413/422 become InputError (the request itself
is wrong, e.g. too long), 401/403/404 become ConfigError (key, permissions or model name).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from clausewatch.core.errors import ClausewatchError, ConfigError, InputError, TransientError
from clausewatch.core.retry import is_retryable
from clausewatch.llm.base import LLMRequest, LLMResponse
from clausewatch.llm.progress import (
    BudgetExceeded,
    CallProgress,
    StallTimeout,
    record_speed,
    remaining_budget,
    report,
)
from clausewatch.llm.schemas import openai_strict_schema, schema_name
from clausewatch.llm.streaming import StreamResult, Watchdog, read_stream

if TYPE_CHECKING:
    import openai

    from clausewatch.core.settings import Settings

log = logging.getLogger("clausewatch.llm")

CONNECT_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 60.0
MAX_RETRY_WAIT_S = 30.0


def is_timeout(exc: BaseException) -> bool:
    import httpx
    import openai

    return isinstance(exc, openai.APITimeoutError | httpx.TimeoutException)


def _translate(exc: BaseException, backend: str, model: str) -> ClausewatchError:
    """A one-line clausewatch error for a non-transport failure."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        detail = str(exc.message)[:300]
        where = f"{backend} model {model!r} (HTTP {exc.status_code})"
        if exc.status_code in (401, 403):
            return ConfigError(f"{where} refused the credentials: {detail}")
        if exc.status_code == 404:
            return ConfigError(
                f"{where} not found (check CLAUSEWATCH_LLM_MODEL/BASE_URL): {detail}"
            )
        return InputError(f"{where} rejected the request: {detail}")
    return InputError(f"{backend} model {model!r} failed: {type(exc).__name__}: {exc}"[:400])


class _Resend(Exception):
    """Internal: a failure before anything was streamed, worth sending again."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class OpenAICompatibleLLM:
    """An LLM reached over the OpenAI chat-completions API, streamed.

    ``strict_schemas``: send OpenAI strict-mode schemas when the schema allows it (hosted
    OpenAI); otherwise the schema is sent unchanged, which is what llama.cpp, vLLM and Ollama
    enforce by constrained decoding (including string and list bounds).
    ``extra_body``: server-specific request fields (llama.cpp: ``cache_prompt``,
    ``return_progress``); hosted OpenAI rejects unknown fields, so none by default.
    ``stall_retryable``: whether a ``StallTimeout`` says ``retryable`` to the layers above
    (never re-sent here); the local backend sets it to False.
    ``max_tokens_field``: the request field bounding the answer (hosted OpenAI:
    ``max_completion_tokens``; servers implementing the older API: ``max_tokens``).
    """

    def __init__(
        self,
        *,
        backend: str,
        model: str,
        api_key: str,
        base_url: str | None = None,
        stall_s: float = 120.0,
        retries: int = 3,
        retry_wait_s: float = 2.0,
        strict_schemas: bool = False,
        extra_body: dict[str, Any] | None = None,
        stall_retryable: bool = True,
        max_tokens_field: str = "max_tokens",
    ) -> None:
        self.backend = backend
        self.model = model
        self.base_url = base_url
        self.stall_s = max(0.1, stall_s)
        self.retries = max(0, retries)
        self.retry_wait_s = max(0.0, retry_wait_s)
        self.strict_schemas = strict_schemas
        self.extra_body = dict(extra_body or {})
        self.stall_retryable = stall_retryable
        self.max_tokens_field = max_tokens_field
        self._api_key = api_key
        self._client_obj: openai.OpenAI | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OpenAICompatibleLLM:
        """Stall, retry and back-off from settings; the rest (backend, model, key, ...) given."""
        options: dict[str, Any] = {
            "stall_s": settings.llm_stall_s,
            "retries": settings.llm_retries,
            "retry_wait_s": settings.llm_retry_wait_s,
        }
        return cls(**(options | kwargs))

    def _client(self) -> openai.OpenAI:
        with self._lock:
            if self._client_obj is None:
                import openai

                self._client_obj = openai.OpenAI(
                    api_key=self._api_key,
                    base_url=self.base_url,
                    max_retries=0,  # re-sending is ours, for failures before any token only
                )
            return self._client_obj

    def _schema_for(self, request: LLMRequest) -> tuple[dict[str, Any], bool]:
        if not isinstance(request.json_schema.get("properties"), dict):
            raise InputError(
                f"{self.backend}: structured output needs an object schema with properties "
                f"(prompt {request.prompt_id}@{request.prompt_version})"
            )
        if self.strict_schemas:
            strict = openai_strict_schema(request.json_schema)
            if strict is not None:
                return strict, True
        return request.json_schema, False

    def _body(self, request: LLMRequest) -> dict[str, Any]:
        schema, strict = self._schema_for(request)
        return {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            self.max_tokens_field: request.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(request.schema_name),
                    "schema": schema,
                    "strict": strict,
                },
            },
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def _stopped(self, exc: BaseException, result: StreamResult, read_timeout: float) -> Exception:
        """The error for a stream that stopped: budget spent, stall, or a broken connection."""
        left = remaining_budget()
        where = f"{self.backend} model {self.model!r}"
        done = f"{result.tokens_streamed} token(s) received"
        if left is not None and left <= 0.05:
            return BudgetExceeded(f"{where}: the per-draft budget ran out ({done}); not re-sent")
        if is_timeout(exc):
            return StallTimeout(
                f"{where} sent nothing for {read_timeout:.3g} s ({done}); not re-sent",
                retryable=self.stall_retryable,
            )
        return TransientError(
            f"{where}: the stream broke ({done}): {type(exc).__name__}: {exc}"[:400]
        )

    def _stream_once(self, request: LLMRequest, started_at: float) -> StreamResult:
        import httpx
        import openai

        from clausewatch.llm.calls import prompt_tokens

        left = remaining_budget()
        if left is not None and left <= 0:
            raise BudgetExceeded(f"{self.backend}: the per-draft budget ran out before the call")
        read_timeout = self.stall_s if left is None else min(self.stall_s, left)
        body = self._body(request)
        result = StreamResult(prompt_tokens=prompt_tokens(request))
        report(CallProgress("prompt", prompt_tokens=result.prompt_tokens, started_at=started_at))
        sent_at = time.monotonic()
        try:
            completions: Any = self._client().chat.completions  # the body is built above
            stream = completions.create(
                **body,
                extra_body=self.extra_body or None,
                timeout=httpx.Timeout(
                    read_timeout, connect=CONNECT_TIMEOUT_S, write=WRITE_TIMEOUT_S
                ),
            )
        except openai.APITimeoutError as exc:
            raise self._stopped(exc, result, read_timeout) from exc
        except Exception as exc:
            if is_retryable(exc):  # network, busy or broken servers
                raise _Resend(exc) from exc
            raise _translate(exc, self.backend, self.model) from exc
        watchdog = Watchdog(stream.response, sent_at + left) if left is not None else None
        try:
            read_stream(stream, result, started_at=started_at, sent_at=sent_at)
        except (openai.APIConnectionError, httpx.HTTPError, OSError) as exc:
            raise self._stopped(exc, result, read_timeout) from exc  # includes read timeouts
        except openai.APIError as exc:  # an error event inside the stream
            if watchdog is not None and watchdog.fired:
                raise self._stopped(exc, result, read_timeout) from exc
            raise _translate(exc, self.backend, self.model) from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
            stream.close()
            report(
                CallProgress(
                    "done",
                    prompt_tokens=result.prompt_tokens,
                    tokens_generated=result.tokens_streamed,
                    tokens_per_s=result.tokens_per_s,
                    started_at=started_at,
                )
            )
        if watchdog is not None and watchdog.fired and result.finish_reason is None:
            raise BudgetExceeded(
                f"{self.backend} model {self.model!r}: the per-draft budget ran out "
                f"({result.tokens_streamed} token(s) received); not re-sent"
            )
        return result

    def complete(self, request: LLMRequest, *, started_at: float | None = None) -> LLMResponse:
        """Ask and stream the answer (see module doc). ``started_at``: ``time.time()`` when the
        caller began waiting (progress updates carry it; default now)."""
        started = time.perf_counter()
        started_at = time.time() if started_at is None else started_at
        attempts = 0
        while True:
            attempts += 1
            try:
                result = self._stream_once(request, started_at)
                break
            except _Resend as resend:
                cause = resend.cause
                if attempts > self.retries:
                    raise TransientError(
                        f"{self.backend} model {self.model!r} unreachable after {attempts} "
                        f"attempt(s): {type(cause).__name__}: {cause}"[:400]
                    ) from cause
                wait = min(MAX_RETRY_WAIT_S, self.retry_wait_s * 2 ** (attempts - 1))
                left = remaining_budget()
                if left is not None and left <= wait:
                    raise BudgetExceeded(
                        f"{self.backend} model {self.model!r}: no budget left to try again "
                        f"after {type(cause).__name__}"
                    ) from cause
                log.warning(
                    "llm retry backend=%s model=%s attempt=%d after %s",
                    self.backend,
                    self.model,
                    attempts + 1,
                    type(cause).__name__,
                )
                time.sleep(wait)
        if result.tokens_per_s is not None:
            record_speed(result.tokens_per_s, backend=self.backend, model=self.model)
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self._response(result, request, latency_ms, attempts)

    def _response(
        self, result: StreamResult, request: LLMRequest, latency_ms: int, attempts: int
    ) -> LLMResponse:
        extra: dict[str, Any] = {
            "finish_reason": result.finish_reason,
            "served_model": result.served_model,
            "strict": self.strict_schemas and self._schema_for(request)[1],
            "attempts": attempts,
            "usage_reported": result.usage_reported,
            "streamed_tokens": result.tokens_streamed,
            "tokens_per_s": round(result.tokens_per_s, 2) if result.tokens_per_s else None,
        }
        if result.first_token_s is not None:
            extra["first_token_s"] = round(result.first_token_s, 2)
        if result.prompt_tokens_per_s is not None:
            extra["prompt_tokens_per_s"] = round(result.prompt_tokens_per_s, 2)
        if result.cached_prompt_tokens is not None:
            extra["cached_prompt_tokens"] = result.cached_prompt_tokens
        if result.refusal:
            extra["refusal"] = result.refusal[:500]
        return LLMResponse(
            content=result.content,
            model=self.model,
            backend=self.backend,
            tokens_in=result.prompt_tokens if result.usage_reported else 0,
            tokens_out=result.completion_tokens if result.usage_reported else 0,
            latency_ms=latency_ms,
            extra=extra,
        )

    def close(self) -> None:
        with self._lock:
            if self._client_obj is not None:
                self._client_obj.close()
            self._client_obj = None
