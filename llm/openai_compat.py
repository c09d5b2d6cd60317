"""The OpenAI-compatible backend: langchain-openai's ChatOpenAI with JSON Schema structured output.

Used for OpenAI itself (``openai``), for any server speaking the same API (``openai-compatible``:
vLLM, Ollama, llama.cpp, gateways) and, through a loopback URL, for the embedded ``local`` model.

Transport failures (connection errors, timeouts, HTTP 408/409/429/5xx) are retried with
exponential back-off; when the attempts are used up a TransientError is raised. Other HTTP
errors are not retried: 400/413/422 become InputError (the request itself is wrong, e.g. too
long), 401/403/404 become ConfigError (key, permissions or model name).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from clausewatch.errors import ClausewatchError, ConfigError, InputError, TransientError
from llm.base import LLMRequest, LLMResponse
from llm.schemas import openai_strict_schema, schema_name

if TYPE_CHECKING:
    import httpx
    from langchain_openai import ChatOpenAI

log = logging.getLogger("clausewatch.llm")

RETRYABLE_STATUS = frozenset({408, 409, 429})


def is_transport_error(exc: BaseException) -> bool:
    """True for failures where trying again may help: network, timeouts, busy or broken servers."""
    import httpx
    import openai

    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return True  # includes openai.APITimeoutError
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


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


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "".join(parts)
    return "" if content is None else str(content)


def _truncated_answer(exc: BaseException) -> dict[str, Any] | None:
    """The partial answer when the model hit ``max_tokens`` (the openai client raises on it).

    A cut-off answer is still an answer: it is returned (``finish_reason="length"``) so the
    caller can record it as invalid and re-ask, instead of losing the text and the usage.
    """
    import openai
    from langchain_core.messages import AIMessage

    if not isinstance(exc, openai.LengthFinishReasonError):
        return None
    completion = exc.completion
    content = completion.choices[0].message.content if completion.choices else None
    usage = completion.usage
    message = AIMessage(
        content=content or "",
        response_metadata={"finish_reason": "length", "model_name": completion.model},
        usage_metadata={
            "input_tokens": usage.prompt_tokens if usage else 0,
            "output_tokens": usage.completion_tokens if usage else 0,
            "total_tokens": usage.total_tokens if usage else 0,
        }
        if usage
        else None,
    )
    return {"raw": message, "parsed": None, "parsing_error": "length limit reached"}


class OpenAICompatibleLLM:
    """An LLM reached over the OpenAI chat-completions API.

    ``strict_schemas``: send OpenAI strict-mode schemas when the schema allows it (hosted
    OpenAI); otherwise the schema is sent unchanged, which is what llama.cpp, vLLM and Ollama
    enforce by constrained decoding (including string and list bounds).
    """

    def __init__(
        self,
        *,
        backend: str,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 300.0,
        retries: int = 3,
        retry_wait_s: float = 2.0,
        strict_schemas: bool = False,
        retry_timeouts: bool = True,
    ) -> None:
        self.backend = backend
        self.model = model
        self.base_url = base_url
        self.retries = max(0, retries)
        self.retry_wait_s = max(0.0, retry_wait_s)
        self.strict_schemas = strict_schemas
        self.retry_timeouts = retry_timeouts
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._http: httpx.Client | None = None
        self._chat: ChatOpenAI | None = None
        self._lock = threading.Lock()

    def _client(self) -> ChatOpenAI:
        with self._lock:
            return self._client_locked()

    def _client_locked(self) -> ChatOpenAI:
        if self._chat is None:
            import httpx
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr

            from clausewatch.tokens import ensure_tiktoken_files

            ensure_tiktoken_files()  # before langchain could ask tiktoken for an encoding
            self._http = httpx.Client(timeout=httpx.Timeout(self._timeout_s, connect=10.0))
            self._chat = ChatOpenAI(
                model=self.model,
                api_key=SecretStr(self._api_key),
                base_url=self.base_url,
                timeout=self._timeout_s,
                max_retries=0,  # retries are ours, for transport errors only
                http_client=self._http,
                temperature=0.0,
            )
        return self._chat

    def _schema_for(self, request: LLMRequest) -> tuple[dict[str, Any], bool]:
        if not isinstance(request.json_schema.get("properties"), dict):
            raise InputError(
                f"{self.backend}: structured output needs an object schema with properties "
                f"(prompt {request.prompt_id}@{request.prompt_version})"
            )
        name = schema_name(request.schema_name)
        if self.strict_schemas:
            strict = openai_strict_schema(request.json_schema)
            if strict is not None:
                return {**strict, "title": name}, True
        return {**request.json_schema, "title": name}, False

    def _invoke_once(self, request: LLMRequest) -> dict[str, Any]:
        schema, strict = self._schema_for(request)
        chat = self._client().model_copy(
            update={"temperature": request.temperature, "max_tokens": request.max_tokens}
        )
        runnable = chat.with_structured_output(
            schema, method="json_schema", strict=strict, include_raw=True
        )
        result = runnable.invoke(request.messages)
        if not isinstance(result, dict) or "raw" not in result:
            raise InputError(f"{self.backend}: unexpected structured-output result {result!r:.200}")
        result["strict"] = strict
        return result

    def _should_retry(self, exc: BaseException) -> bool:
        return is_transport_error(exc) and (self.retry_timeouts or not is_timeout(exc))

    def complete(self, request: LLMRequest) -> LLMResponse:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential,
        )

        started = time.perf_counter()
        attempts = 0
        retrying = Retrying(
            retry=retry_if_exception(self._should_retry),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.retry_wait_s, max=30),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts > 1:
                        log.warning(
                            "llm retry backend=%s model=%s attempt=%d",
                            self.backend,
                            self.model,
                            attempts,
                        )
                    result = self._invoke_once(request)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise TransientError(
                f"{self.backend} model {self.model!r} unreachable after {attempts} attempt(s): "
                f"{type(last).__name__}: {last}"[:400]
            ) from last
        except ClausewatchError:
            raise
        except Exception as exc:
            if is_transport_error(exc):  # a timeout this backend does not retry
                raise TransientError(
                    f"{self.backend} model {self.model!r} timed out after "
                    f"{self._timeout_s:.0f} s: {type(exc).__name__}"
                ) from exc
            truncated = _truncated_answer(exc)
            if truncated is None:
                raise _translate(exc, self.backend, self.model) from exc
            result = truncated
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self._response(result, latency_ms, attempts)

    def _response(self, result: dict[str, Any], latency_ms: int, attempts: int) -> LLMResponse:
        raw = result["raw"]
        usage = getattr(raw, "usage_metadata", None) or {}
        metadata = getattr(raw, "response_metadata", None) or {}
        kwargs = getattr(raw, "additional_kwargs", None) or {}
        error = result.get("parsing_error")
        extra: dict[str, Any] = {
            "finish_reason": metadata.get("finish_reason"),
            "served_model": metadata.get("model_name"),
            "strict": result.get("strict", False),
            "attempts": attempts,
            "usage_reported": bool(usage),
        }
        if error is not None:
            extra["parsing_error"] = str(error)[:500]
        if kwargs.get("refusal"):
            extra["refusal"] = str(kwargs["refusal"])[:500]
        return LLMResponse(
            content=_text(getattr(raw, "content", "")),
            model=self.model,
            backend=self.backend,
            tokens_in=int(usage.get("input_tokens", 0) or 0),
            tokens_out=int(usage.get("output_tokens", 0) or 0),
            latency_ms=latency_ms,
            extra=extra,
        )

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
            self._http = None
            self._chat = None
