"""Choosing and building the LLM backend from settings."""

from __future__ import annotations

from dataclasses import dataclass

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings, get_settings
from clausewatch.llm.base import LLM

BACKENDS = ("auto", "openai", "openai-compatible", "local", "fake")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class BackendChoice:
    backend: str  # openai | openai-compatible | local | fake
    model: str
    base_url: str | None
    reason: str  # why this backend (for `clausewatch llm status`)


def resolve(backend: str | None = None, settings: Settings | None = None) -> BackendChoice:
    """Which backend and model ``get_llm(backend)`` would use, without building anything."""
    from clausewatch.llm.fake import FAKE_MODEL
    from clausewatch.llm.model_files import MODEL_NAME

    settings = settings or get_settings()
    name = backend or settings.llm_backend
    if name not in BACKENDS:
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of {', '.join(BACKENDS)}")
    reason = "chosen by --backend" if backend else "CLAUSEWATCH_LLM_BACKEND"
    if name == "auto":
        if settings.llm_base_url:  # a gateway may also use OPENAI_API_KEY: the URL wins
            name, reason = "openai-compatible", "auto: CLAUSEWATCH_LLM_BASE_URL is set"
        elif settings.openai_api_key is not None:
            name, reason = "openai", "auto: OPENAI_API_KEY is set"
        else:
            name, reason = "local", "auto: no API key and no base URL"
    if name == "openai":
        return BackendChoice(name, settings.llm_model or DEFAULT_OPENAI_MODEL, None, reason)
    if name == "openai-compatible":
        if not settings.llm_base_url:
            raise ConfigError("the openai-compatible backend needs CLAUSEWATCH_LLM_BASE_URL")
        if not settings.llm_model:
            raise ConfigError(
                "the openai-compatible backend needs CLAUSEWATCH_LLM_MODEL (the served model name)"
            )
        return BackendChoice(name, settings.llm_model, settings.llm_base_url, reason)
    if name == "local":
        return BackendChoice(name, MODEL_NAME, None, reason)
    return BackendChoice(name, FAKE_MODEL, None, reason)


def get_llm(backend: str | None = None) -> LLM:
    """The LLM for ``backend`` (default: settings). Close it when done (``llm.close()``).

    ``auto`` picks ``openai-compatible`` when CLAUSEWATCH_LLM_BASE_URL is set, ``openai`` when
    OPENAI_API_KEY is set, and the embedded ``local`` model otherwise. ``fake``
    returns the scripted fake a test installed with ``llm.fake.install``.
    """
    settings = get_settings()
    choice = resolve(backend, settings)
    if choice.backend == "fake":
        from clausewatch.llm.fake import installed

        return installed()
    if choice.backend == "local":
        from clausewatch.llm.local import LocalLLM

        return LocalLLM(
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
    from clausewatch.llm.openai_compat import OpenAICompatibleLLM

    if choice.backend == "openai":
        if settings.openai_api_key is None:
            raise ConfigError("the openai backend needs OPENAI_API_KEY")
        api_key = settings.openai_api_key.get_secret_value()
    else:
        key = settings.llm_api_key or settings.openai_api_key
        api_key = key.get_secret_value() if key is not None else "not-needed"
    return OpenAICompatibleLLM(
        backend=choice.backend,
        model=choice.model,
        api_key=api_key,
        base_url=choice.base_url,
        stall_s=settings.llm_stall_s,
        retries=settings.llm_retries,
        retry_wait_s=settings.llm_retry_wait_s,
        strict_schemas=choice.backend == "openai",
        # a stalled hosted OpenAI stream is a network hiccup worth another try by the layers
        # above; a slow self-hosted server (vLLM, Ollama) would only start the prompt again
        stall_retryable=choice.backend == "openai",
    )
