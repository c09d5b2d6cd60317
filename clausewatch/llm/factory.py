"""Choosing and building the LLM backend from settings: a registry of backends.

Each :class:`Backend` says which model it uses, how it is built, and what the rest of
clausewatch needs to know about it (whether quality-only re-asks are worth it, whether its
calls cost money). A new backend is one ``register(Backend(...))``; nothing else branches on a
backend's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings, get_settings
from clausewatch.llm.base import LLM

AUTO = "auto"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class BackendChoice:
    backend: str  # a registered backend's name
    model: str
    base_url: str | None
    reason: str  # why this backend (for `clausewatch llm status`)


@dataclass(frozen=True)
class Backend:
    """One way of reaching a model.

    ``model``: the model it would use, from settings (raises ``ConfigError`` when the
    settings do not name what it needs); ``base_url`` likewise; ``build`` makes the LLM.
    ``quality_reasks``: whether answers that are valid and grounded but shallow are sent back
    by default (``CLAUSEWATCH_DRAFTING_QUALITY_REASKS`` overrides); ``free``: its calls cost
    nothing (cost reports); ``serves_here``: the model runs on this machine in clausewatch's
    own server (its threads are ours to tune: ``clausewatch llm check`` says so when slow).
    """

    name: str
    model: Callable[[Settings], str]
    build: Callable[[Settings, BackendChoice], LLM]
    base_url: Callable[[Settings], str | None] = lambda settings: None
    quality_reasks: bool = True
    free: bool = False
    serves_here: bool = False


_REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> Backend:
    _REGISTRY[backend.name] = backend
    return backend


def backend_names() -> tuple[str, ...]:
    """``auto`` and every registered backend, in registration order."""
    return (AUTO, *_REGISTRY)


def backend(name: str) -> Backend:
    try:
        return _REGISTRY[name]
    except KeyError:
        names = ", ".join(backend_names())
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of {names}") from None


def quality_reasks(name: str) -> bool:
    """Whether quality-only re-asks are worth it on backend ``name`` (an unregistered name,
    such as a test's own fake, is treated like a hosted model: yes)."""
    found = _REGISTRY.get(name)
    return found.quality_reasks if found is not None else True


def is_free(name: str) -> bool:
    found = _REGISTRY.get(name)
    return found is not None and found.free


def serves_here(name: str) -> bool:
    found = _REGISTRY.get(name)
    return found is not None and found.serves_here


def _auto(settings: Settings) -> tuple[str, str]:
    if settings.llm_base_url:  # a gateway may also use OPENAI_API_KEY: the URL wins
        return "openai-compatible", "auto: CLAUSEWATCH_LLM_BASE_URL is set"
    if settings.openai_api_key is not None:
        return "openai", "auto: OPENAI_API_KEY is set"
    return "local", "auto: no API key and no base URL"


def resolve(name: str | None = None, settings: Settings | None = None) -> BackendChoice:
    """Which backend and model ``get_llm(name)`` would use, without building anything."""
    settings = settings or get_settings()
    chosen = name or settings.llm_backend
    reason = "chosen by --backend" if name else "CLAUSEWATCH_LLM_BACKEND"
    if chosen == AUTO:
        chosen, reason = _auto(settings)
    spec = backend(chosen)
    return BackendChoice(spec.name, spec.model(settings), spec.base_url(settings), reason)


def get_llm(name: str | None = None) -> LLM:
    """The LLM for backend ``name`` (default: settings). Close it when done (``llm.close()``).

    ``auto`` picks ``openai-compatible`` when CLAUSEWATCH_LLM_BASE_URL is set, ``openai`` when
    OPENAI_API_KEY is set, and the embedded ``local`` model otherwise. ``fake``
    returns the scripted fake a test installed with ``llm.fake.install``.
    """
    settings = get_settings()
    choice = resolve(name, settings)
    return backend(choice.backend).build(settings, choice)


# ---------------------------------------------------------------------------------------------
# the backends clausewatch ships


def _openai_model(settings: Settings) -> str:
    return settings.llm_model or DEFAULT_OPENAI_MODEL


def _build_openai(settings: Settings, choice: BackendChoice) -> LLM:
    from clausewatch.llm.openai_compat import OpenAICompatibleLLM

    if settings.openai_api_key is None:
        raise ConfigError("the openai backend needs OPENAI_API_KEY")
    return OpenAICompatibleLLM.from_settings(
        settings,
        backend=choice.backend,
        model=choice.model,
        api_key=settings.openai_api_key.get_secret_value(),
        strict_schemas=True,
        max_tokens_field="max_completion_tokens",
        # a stalled hosted OpenAI stream is a network hiccup worth another try by the layers
        # above; a slow self-hosted server (vLLM, Ollama) would only start the prompt again
        stall_retryable=True,
    )


def _compatible_url(settings: Settings) -> str:
    if not settings.llm_base_url:
        raise ConfigError("the openai-compatible backend needs CLAUSEWATCH_LLM_BASE_URL")
    return settings.llm_base_url


def _compatible_model(settings: Settings) -> str:
    _compatible_url(settings)
    if not settings.llm_model:
        raise ConfigError(
            "the openai-compatible backend needs CLAUSEWATCH_LLM_MODEL (the served model name)"
        )
    return settings.llm_model


def _build_compatible(settings: Settings, choice: BackendChoice) -> LLM:
    from clausewatch.llm.openai_compat import OpenAICompatibleLLM

    key = settings.llm_api_key or settings.openai_api_key
    return OpenAICompatibleLLM.from_settings(
        settings,
        backend=choice.backend,
        model=choice.model,
        api_key=key.get_secret_value() if key is not None else "not-needed",
        base_url=choice.base_url,
        stall_retryable=False,
    )


def _local_model(settings: Settings) -> str:
    from clausewatch.llm.model_files import MODEL_NAME

    return MODEL_NAME


def _build_local(settings: Settings, choice: BackendChoice) -> LLM:
    from clausewatch.llm.local import LocalLLM

    return LocalLLM.from_settings(settings)


def _fake_model(settings: Settings) -> str:
    from clausewatch.llm.fake import FAKE_MODEL

    return FAKE_MODEL


def _build_fake(settings: Settings, choice: BackendChoice) -> LLM:
    from clausewatch.llm.fake import installed

    return installed()


register(Backend("openai", _openai_model, _build_openai))
register(
    Backend("openai-compatible", _compatible_model, _build_compatible, base_url=_compatible_url)
)
# Re-asks for quality alone (valid, grounded, but shallow) did not help the bundled 1.5B model
# in 10 real drafts (bench_drafting: 1.8 re-asks per draft, none fixed): flagged at once.
register(
    Backend("local", _local_model, _build_local, quality_reasks=False, free=True, serves_here=True)
)
register(Backend("fake", _fake_model, _build_fake, free=True))
