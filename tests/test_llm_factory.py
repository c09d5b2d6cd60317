"""Backend choice from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import reset_settings
from clausewatch.llm.factory import get_llm, resolve
from clausewatch.llm.local import LocalLLM
from clausewatch.llm.model_files import MODEL_NAME, MODEL_SHA256
from clausewatch.llm.openai_compat import OpenAICompatibleLLM


@pytest.fixture
def env(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CLAUSEWATCH_LLM_BASE_URL", "CLAUSEWATCH_LLM_MODEL", "CLAUSEWATCH_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUSEWATCH_LLM_BACKEND", "auto")
    reset_settings()
    return monkeypatch


def test_auto_without_key_or_url_is_local(env: pytest.MonkeyPatch) -> None:
    from clausewatch.llm.shared_server import Paths, current_state, stop_server

    stop_server(MODEL_SHA256[:16])  # a slow test earlier in the session may have left it running
    choice = resolve()
    assert (choice.backend, choice.model) == ("local", MODEL_NAME)
    llm = get_llm()
    assert isinstance(llm, LocalLLM)
    assert llm.address is None  # nothing started by construction
    assert current_state(Paths.for_key(MODEL_SHA256[:16])) is None
    llm.close()


def test_auto_with_key_is_openai(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_API_KEY", "sk-test")
    reset_settings()
    choice = resolve()
    assert (choice.backend, choice.model, choice.base_url) == ("openai", "gpt-4o-mini", None)
    llm = get_llm()
    assert isinstance(llm, OpenAICompatibleLLM)
    assert llm.strict_schemas and llm.base_url is None
    assert llm.stall_retryable is True  # hosted OpenAI: a stalled stream is a network hiccup
    env.setenv("CLAUSEWATCH_LLM_MODEL", "gpt-4.1-mini")
    reset_settings()
    assert resolve().model == "gpt-4.1-mini"


def test_auto_with_base_url_is_openai_compatible(env: pytest.MonkeyPatch) -> None:
    env.setenv("CLAUSEWATCH_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    env.setenv("CLAUSEWATCH_LLM_MODEL", "qwen2.5:7b")
    env.setenv("OPENAI_API_KEY", "sk-gateway")
    reset_settings()
    choice = resolve()
    assert choice.backend == "openai-compatible"
    llm = get_llm()
    assert isinstance(llm, OpenAICompatibleLLM)
    assert (llm.base_url, llm.model, llm.strict_schemas) == (
        "http://127.0.0.1:11434/v1",
        "qwen2.5:7b",
        False,
    )
    assert llm.stall_retryable is False  # a slow self-hosted server: a stall is not re-sent
    env.setenv("CLAUSEWATCH_LLM_STALL_S", "45")
    reset_settings()
    assert get_llm().stall_s == 45  # type: ignore[attr-defined]


def test_explicit_backend_wins(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_API_KEY", "sk-test")
    reset_settings()
    assert resolve("local").backend == "local"
    assert resolve("local").reason == "chosen by --backend"


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("gpt", "unknown LLM backend"),
        ("openai", "OPENAI_API_KEY"),
        ("openai-compatible", "CLAUSEWATCH_LLM_BASE_URL"),
    ],
)
def test_misconfiguration_is_a_config_error(
    env: pytest.MonkeyPatch, backend: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        get_llm(backend)


def test_openai_compatible_needs_a_model_name(env: pytest.MonkeyPatch) -> None:
    env.setenv("CLAUSEWATCH_LLM_BASE_URL", "http://127.0.0.1:8000/v1")
    reset_settings()
    with pytest.raises(ConfigError, match="CLAUSEWATCH_LLM_MODEL"):
        get_llm()
