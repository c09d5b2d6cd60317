"""``clausewatch llm status`` and ``llm prepare`` (fast paths; the real model is slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_http_fake import FakeOpenAIServer, completion
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.llm import fake
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.calls import complete_logged
from clausewatch.llm.model_files import MODEL_SHA256
from clausewatch.llm.probe import probe_definition

runner = CliRunner()


def test_status_json_reports_backend_model_file_and_usage(workspace: Path) -> None:
    llm = fake.FakeLLM([{"x": 1}])
    request = LLMRequest(
        prompt_id="p",
        prompt_version="1",
        messages=[{"role": "user", "content": "hi"}],
        json_schema={"type": "object"},
    )
    complete_logged(llm, request)
    complete_logged(llm, request)
    result = runner.invoke(app, ["llm", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["backend"] == "fake"
    assert data["local_model"]["present"] is False
    assert data["local_model"]["sha256"] == MODEL_SHA256
    assert data["local_model"]["parts_installed"] == 22
    assert data["usage_total"]["calls"] == 1 and data["usage_total"]["cache_hits"] == 1
    assert data["usage_24h"]["by_outcome"] == {"ok": 1, "cached": 1}


def test_status_text_for_local(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["llm", "status", "--backend", "local"])
    assert result.exit_code == 0, result.output
    assert "backend   local (chosen by --backend)" in result.output
    assert "not assembled yet" in result.output
    assert "22/22 installed" in result.output


def test_prepare_with_scripted_fake(workspace: Path) -> None:
    with fake.scripted([probe_definition()["expected"]]) as llm:
        result = runner.invoke(app, ["llm", "prepare", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["valid"] is True and data["matches_expected"] is True
    assert data["backend"] == "fake" and data["tokens_in"] > 0
    assert llm.requests[0].prompt_id == "llm-probe"
    assert llm.closed


def test_prepare_fails_on_an_invalid_answer(workspace: Path) -> None:
    with fake.scripted([{"topic": "weather"}]):
        result = runner.invoke(app, ["llm", "prepare"])
    assert result.exit_code == 1
    assert "valid              False" in result.output


def test_prepare_against_openai_compatible_server(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeOpenAIServer()
    try:
        server.add(completion(json.dumps(probe_definition()["expected"]), completion_tokens=12))
        monkeypatch.setenv("CLAUSEWATCH_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("CLAUSEWATCH_LLM_MODEL", "served-model")
        reset_settings()
        result = runner.invoke(app, ["llm", "prepare", "--backend", "openai-compatible", "--json"])
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["valid"] and data["tokens_out"] == 12 and data["generation_tok_s"] > 0
    assert server.requests[0]["response_format"]["json_schema"]["name"] == "probe_label"
