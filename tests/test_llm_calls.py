"""complete_logged: llm_calls rows, outcomes, caching, log lines and usage totals."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from llm_http_fake import FakeOpenAIServer, completion, error
from sqlalchemy import select

from clausewatch.core.errors import InputError, TransientError
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.calls import cache_key, complete_logged, usage_summary
from clausewatch.llm.fake import FakeLLM
from clausewatch.llm.openai_compat import OpenAICompatibleLLM
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.models.drafts import LLMCall

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "level": {"type": "string", "enum": ["Low", "Medium", "High"]},
        "note": {"type": "string", "maxLength": 40},
    },
    "required": ["level", "note"],
    "additionalProperties": False,
}
GOOD = {"level": "High", "note": "broad sharing"}


def request(**overrides: Any) -> LLMRequest:
    fields: dict[str, Any] = {
        "prompt_id": "exposure",
        "prompt_version": "1",
        "messages": [{"role": "user", "content": "Rate: we sell your data."}],
        "json_schema": SCHEMA,
    }
    fields.update(overrides)
    return LLMRequest(**fields)


def rows() -> list[LLMCall]:
    with session_scope() as session:
        return list(session.scalars(select(LLMCall).order_by(LLMCall.id)))


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer()
    yield srv
    srv.close()


def http_llm(server: FakeOpenAIServer) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        backend="openai-compatible",
        model="served-model",
        api_key="k",
        base_url=server.base_url,
        retries=1,
        retry_wait_s=0.0,
        stall_s=5.0,
    )


def test_ok_call_is_logged_with_usage(db_workspace: Path, server: FakeOpenAIServer) -> None:
    reply = completion(json.dumps(GOOD), prompt_tokens=31, completion_tokens=9)
    reply.delay_s = 0.2  # the server takes 200 ms before it answers
    server.add(reply)
    response = complete_logged(http_llm(server), request())
    assert response.extra["outcome"] == "ok" and not response.cached
    [row] = rows()
    assert row.id == response.extra["call_id"]
    assert (row.backend, row.model) == ("openai-compatible", "served-model")
    assert (row.prompt_id, row.prompt_version) == ("exposure", "1")
    assert (row.tokens_in, row.tokens_out) == (31, 9)
    assert row.outcome == "ok" and row.error is None
    assert json.loads(row.response or "") == GOOD
    assert row.cache_key == cache_key(request(), backend="openai-compatible", model="served-model")
    assert row.latency_ms == response.latency_ms >= 200  # at least the server's delay


def test_cache_hit_makes_no_second_http_call(db_workspace: Path, server: FakeOpenAIServer) -> None:
    server.add(completion(json.dumps(GOOD)), completion(json.dumps({**GOOD, "level": "Low"})))
    llm = http_llm(server)
    first = complete_logged(llm, request())
    second = complete_logged(llm, request())
    assert len(server.requests) == 1
    assert second.cached and second.content == first.content
    assert second.extra["cached_from"] == first.extra["call_id"]
    assert [r.outcome for r in rows()] == ["ok", "cached"]
    assert (rows()[1].tokens_in, rows()[1].tokens_out) == (0, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"prompt_version": "2"},
        {"prompt_id": "other"},
        {"messages": [{"role": "user", "content": "Rate: we keep your data."}]},
        {"json_schema": {**SCHEMA, "required": ["level"]}},
    ],
)
def test_cache_misses_when_inputs_differ(db_workspace: Path, change: dict[str, Any]) -> None:
    llm = FakeLLM([GOOD, GOOD])
    complete_logged(llm, request())
    response = complete_logged(llm, request(**change))
    assert not response.cached
    assert len(llm.requests) == 2


def test_cache_is_per_model(db_workspace: Path) -> None:
    complete_logged(FakeLLM([GOOD], model="a"), request())
    other = FakeLLM([GOOD], model="b")
    assert not complete_logged(other, request()).cached
    assert len(other.requests) == 1


def test_cache_can_be_bypassed(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = FakeLLM([GOOD, GOOD, GOOD])
    complete_logged(llm, request())
    assert not complete_logged(llm, request(), use_cache=False).cached
    monkeypatch.setenv("CLAUSEWATCH_LLM_CACHE", "false")
    from clausewatch.core.settings import reset_settings

    reset_settings()
    assert not complete_logged(llm, request()).cached
    assert len(llm.requests) == 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json at all", "not valid JSON"),
        (json.dumps({"level": "Severe", "note": "x"}), "level: 'Severe' is not one of"),
        (json.dumps({"level": "Low", "note": "x" * 41}), "note: "),
        (json.dumps({"level": "Low"}), "'note' is a required property"),
    ],
)
def test_invalid_answers_are_recorded_and_not_cached(
    db_workspace: Path, content: str, reason: str
) -> None:
    llm = FakeLLM([content, GOOD])
    response = complete_logged(llm, request())
    assert response.content == content
    assert response.extra["outcome"] == "invalid"
    assert any(reason in problem for problem in response.extra["validation_errors"])
    row = rows()[0]
    assert row.outcome == "invalid" and reason in (row.error or "")
    assert row.response == content
    again = complete_logged(llm, request())
    assert not again.cached and again.extra["outcome"] == "ok"


def test_cut_off_answer_is_invalid(db_workspace: Path, server: FakeOpenAIServer) -> None:
    server.add(completion('{"level": "High", "no', finish_reason="length"))
    response = complete_logged(http_llm(server), request())
    assert response.extra["outcome"] == "invalid"
    assert response.extra["finish_reason"] == "length"
    assert rows()[0].response == '{"level": "High", "no'


def test_errors_are_logged_and_reraised(db_workspace: Path, server: FakeOpenAIServer) -> None:
    server.add(error(503), error(503))
    with pytest.raises(TransientError):
        complete_logged(http_llm(server), request())
    [row] = rows()
    assert row.outcome == "error"
    assert "TransientError" in (row.error or "") and "503" in (row.error or "")
    assert row.tokens_in > 0 and row.tokens_out == 0 and row.response is None


def test_bad_request_logged_once(db_workspace: Path, server: FakeOpenAIServer) -> None:
    server.add(error(400, "maximum context length exceeded"))
    with pytest.raises(InputError, match="context length"):
        complete_logged(http_llm(server), request())
    assert len(server.requests) == 1
    assert [r.outcome for r in rows()] == ["error"]


def test_tokens_counted_offline_when_server_reports_none(
    db_workspace: Path, server: FakeOpenAIServer
) -> None:
    server.add(completion(json.dumps(GOOD), prompt_tokens=None))
    response = complete_logged(http_llm(server), request())
    assert response.extra["tokens_estimated"] is True
    assert response.tokens_in > 5 and response.tokens_out > 5
    row = rows()[0]
    assert (row.tokens_in, row.tokens_out) == (response.tokens_in, response.tokens_out)


def test_structured_log_line(db_workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="clausewatch.llm")
    llm = FakeLLM([GOOD])
    complete_logged(llm, request())
    complete_logged(llm, request())
    records = [r for r in caplog.records if r.name == "clausewatch.llm"]
    assert [r.llm["outcome"] for r in records] == ["ok", "cached"]  # type: ignore[attr-defined]
    first = records[0].llm  # type: ignore[attr-defined]
    assert first["prompt_id"] == "exposure" and first["backend"] == "fake"
    assert first["tokens_in"] > 0 and "latency_ms" in first
    assert "outcome=ok" in records[0].getMessage()


def test_usage_summary(db_workspace: Path) -> None:
    llm = FakeLLM([GOOD, "broken", TransientError("down"), GOOD])
    complete_logged(llm, request())
    complete_logged(llm, request())  # cached
    complete_logged(llm, request(prompt_version="2"))  # invalid
    with pytest.raises(TransientError):
        complete_logged(llm, request(prompt_version="3"))
    with session_scope() as session:
        summary = usage_summary(session)
        later = usage_summary(session, since=utcnow() + timedelta(hours=1))
    assert summary["calls"] == 3 and summary["cache_hits"] == 1
    assert summary["by_outcome"] == {"ok": 1, "cached": 1, "invalid": 1, "error": 1}
    expected_in = sum(r.tokens_in for r in rows())
    assert summary["tokens_in"] == expected_in > 0
    assert summary["tokens_out"] == sum(r.tokens_out for r in rows())
    assert summary["by_model"]["fake/fake-model"]["calls"] == 3
    assert later["calls"] == 0 and later["by_outcome"] == {}
