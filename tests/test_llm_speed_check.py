"""``llm prepare`` says whether the measured speed can finish a draft within the budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_http_fake import FakeOpenAIServer, Reply, completion
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.llm.speed_check import DraftSize, typical_draft, verdict

SIZE = DraftSize(1237, 444, "the analysis eval")


def test_a_fast_enough_model_fits_the_budget() -> None:
    check = verdict(
        size=SIZE, prompt_tok_s=60.0, generation_tok_s=19.0, budget_s=600, backend="local"
    )
    assert check.ok and check.estimate_s == pytest.approx(1237 / 60 + 444 / 19)
    assert "within the 600 s per-draft budget" in check.lines[0]


def test_the_busy_machine_of_issue_13_is_called_too_slow_with_what_to_change() -> None:
    # llm prepare measured 8.9 tokens/s prompt, 0.7 generation with 2 threads on 2 busy cores
    check = verdict(
        size=SIZE,
        prompt_tok_s=8.9,
        generation_tok_s=0.7,
        budget_s=600,
        backend="local",
        threads=2,
        threads_reason="CLAUSEWATCH_LLM_THREADS",
    )
    assert not check.ok and check.estimate_s == pytest.approx(1237 / 8.9 + 444 / 0.7)
    text = "\n".join(check.lines)
    assert text.startswith("TOO SLOW: at 0.7 tokens/s generation, 8.9 tokens/s prompt")
    assert "needs about 773 s, more than the 600 s per-draft budget" in text
    assert "runs with 2 threads (CLAUSEWATCH_LLM_THREADS): set CLAUSEWATCH_LLM_THREADS" in text
    assert "clausewatch llm stop" in text
    assert "CLAUSEWATCH_LLM_BASE_URL" in text
    assert "CLAUSEWATCH_LLM_DRAFT_BUDGET_S=1020" in text  # 773 s x 1.25, in whole minutes


def test_one_thread_already_points_at_the_other_work() -> None:
    check = verdict(
        size=SIZE,
        prompt_tok_s=4.2,
        generation_tok_s=1.4,
        budget_s=600,
        backend="local",
        threads=1,
        threads_reason="auto: 2 physical cores, 2.0 busy",
    )
    text = "\n".join(check.lines)
    assert "already runs with 1 thread(s) (auto: 2 physical cores, 2.0 busy)" in text
    assert "set CLAUSEWATCH_LLM_THREADS" not in text  # nothing to gain there
    assert "CLAUSEWATCH_LLM_DRAFT_BUDGET_S=780" in text


def test_no_speed_is_not_called_fast() -> None:
    check = verdict(
        size=SIZE, prompt_tok_s=None, generation_tok_s=None, budget_s=600, backend="fake"
    )
    assert not check.ok and check.estimate_s is None


def test_typical_draft_defaults_then_uses_the_workspace(db_workspace: Path) -> None:
    from clausewatch.llm.calls import _record

    assert typical_draft() == SIZE
    for tokens_in, tokens_out in ((2000, 500), (1000, 300)):
        _record(
            backend="local",
            model="m",
            prompt_id="provision_analysis",
            prompt_version="1",
            cache_key="k",
            outcome="ok",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=1,
        )
    assert typical_draft() == DraftSize(1500, 400, "this workspace (2 drafting calls)")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer()
    yield srv
    srv.close()


def test_prepare_against_a_slow_server_says_too_slow(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, server: FakeOpenAIServer
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_LLM_BACKEND", "openai-compatible")
    monkeypatch.setenv("CLAUSEWATCH_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("CLAUSEWATCH_LLM_MODEL", "served-model")
    monkeypatch.setenv("CLAUSEWATCH_LLM_DRAFT_BUDGET_S", "20")
    reset_settings()
    answer = json.dumps({"topic": "data-retention", "about_user_data": True})
    server.add(Reply(200, completion(answer).body, token_delay_s=0.1))  # ~10 tokens/s
    result = CliRunner().invoke(app, ["llm", "prepare"])
    assert result.exit_code == 0, result.output
    assert "TOO SLOW" in result.output
    assert "more than the 20 s per-draft budget" in result.output
    assert "CLAUSEWATCH_LLM_DRAFT_BUDGET_S=" in result.output
    assert "the openai-compatible server is slow" in result.output
