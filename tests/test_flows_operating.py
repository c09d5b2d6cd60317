"""Operating details: the deployment's concurrency limit, LLM failures in ``status``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import TransientError
from clausewatch.llm import fake
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.calls import complete_logged
from tests.flows_support import responder


def _request(i: int) -> LLMRequest:
    return LLMRequest(
        prompt_id="probe",
        prompt_version="1",
        messages=[{"role": "user", "content": f"question {i}"}],
        json_schema={"type": "object", "properties": {"a": {"type": "string"}}},
    )


def test_the_monitor_deployment_runs_one_at_a_time() -> None:
    from clausewatch.flows.monitor import monitor_deployment

    deployment = monitor_deployment("daily", cron="0 6 * * *")
    assert deployment.concurrency_limit == 1
    assert deployment.name == "daily"


def test_status_shows_llm_failures_and_the_last_error(workspace: Path) -> None:
    """The issue: "13 calls" and no error while 10 of 11 calls had failed."""
    script = [TransientError(f"connection refused #{i}") for i in range(10)]
    with fake.scripted(script, responder=responder) as llm:
        for i in range(10):
            with pytest.raises(TransientError):
                complete_logged(llm, _request(i))
        complete_logged(llm, _request(10))  # one answer
        complete_logged(llm, _request(10))  # a cache hit: not a call
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "11 calls (10 failed, 0 invalid)" in result.output
    assert "LLM failures: 10 of 11 calls failed" in result.output
    assert "connection refused #9" in result.output  # the last error

    as_json = CliRunner().invoke(app, ["status", "--json"])
    import json

    total = json.loads(as_json.output)["llm"]["total"]
    assert (total["calls"], total["failed"]) == (11, 10)
    assert "connection refused #9" in total["last_error"]
