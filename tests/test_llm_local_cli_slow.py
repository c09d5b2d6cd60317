"""``clausewatch llm prepare`` and ``llm status`` with the real local model (slow; runs in CI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_slow_support import link_model_into, shared_models_dir
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.settings import get_settings, reset_settings
from clausewatch.llm.model_files import MODEL_SHA256
from clausewatch.llm.shared_server import stop_server

pytestmark = pytest.mark.slow

runner = CliRunner()


def test_prepare_then_status(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_LLM_BACKEND", "auto")
    monkeypatch.setenv("CLAUSEWATCH_LLM_CONTEXT_TOKENS", "2048")
    reset_settings()
    link_model_into(shared_models_dir(tmp_path_factory), get_settings().models_dir)

    result = runner.invoke(app, ["llm", "prepare", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    print(f"\nllm prepare: {data}")
    assert data["backend"] == "local" and data["valid"] is True
    assert data["server_start_s"] > 0 and data["tokens_out"] > 0
    assert data["prompt_tok_s"] and data["generation_tok_s"]
    assert data["threads"] >= 1 and data["threads_reason"]
    assert data["verdict"] in ("ok", "too slow")
    stop_server(MODEL_SHA256[:16])  # the server outlives the CLI for its idle period

    status = runner.invoke(app, ["llm", "status", "--json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.output)
    assert info["backend"] == "local" and info["local_model"]["verified"] is True
    assert info["usage_total"]["by_outcome"] == {"ok": 1}
    assert info["usage_total"]["tokens_out"] == data["tokens_out"]
