"""The OpenAI-compatible backend against a fake chat-completions server on loopback."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_http_fake import TOKEN_CHARS, FakeOpenAIServer, Reply, completion, error

from clausewatch.core.errors import ConfigError, InputError, TransientError
from clausewatch.llm import progress
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.openai_compat import OpenAICompatibleLLM
from clausewatch.llm.progress import (
    BudgetExceeded,
    CallProgress,
    StallTimeout,
    draft_budget,
    measured_speed,
    reporting,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["privacy", "security", "billing"]},
        "reason": {"type": "string", "maxLength": 80},
    },
    "required": ["label", "reason"],
    "additionalProperties": False,
}


def request(**overrides: Any) -> LLMRequest:
    fields: dict[str, Any] = {
        "prompt_id": "test-prompt",
        "prompt_version": "3",
        "messages": [
            {"role": "system", "content": "Label the sentence."},
            {"role": "user", "content": "We may share your data with advertisers."},
        ],
        "json_schema": SCHEMA,
        "schema_name": "clause label",
        "max_tokens": 120,
    }
    fields.update(overrides)
    return LLMRequest(**fields)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer()
    yield srv
    srv.close()


def backend(server: FakeOpenAIServer, **kwargs: Any) -> OpenAICompatibleLLM:
    options: dict[str, Any] = {
        "backend": "openai-compatible",
        "model": "served-model",
        "api_key": "test-key",
        "base_url": server.base_url,
        "stall_s": 5.0,
        "retries": 2,
        "retry_wait_s": 0.0,
    }
    options.update(kwargs)
    return OpenAICompatibleLLM(**options)


def test_structured_output_round_trip(server: FakeOpenAIServer) -> None:
    answer = {"label": "privacy", "reason": "sharing with advertisers"}
    server.add(completion(json.dumps(answer), prompt_tokens=55, completion_tokens=12))
    llm = backend(server)
    response = llm.complete(request())
    llm.close()

    assert json.loads(response.content) == answer
    assert (response.tokens_in, response.tokens_out) == (55, 12)
    assert response.backend == "openai-compatible" and response.model == "served-model"
    assert response.extra["finish_reason"] == "stop"
    assert response.extra["attempts"] == 1
    assert response.extra["streamed_tokens"] > 1

    assert server.paths == ["/v1/chat/completions"]
    sent = server.requests[0]
    assert sent["model"] == "served-model"
    assert sent["messages"][1] == {
        "role": "user",
        "content": "We may share your data with advertisers.",
    }
    assert sent["temperature"] == 0.0
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert "cache_prompt" not in sent  # llama.cpp fields only when asked (OpenAI rejects them)
    assert 120 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "clause_label"
    schema = fmt["json_schema"]["schema"]
    # the full schema goes to compatible servers, bounds and enums included
    assert schema["properties"]["label"]["enum"] == ["privacy", "security", "billing"]
    assert schema["properties"]["reason"]["maxLength"] == 80
    assert fmt["json_schema"].get("strict") is False


def test_openai_strict_mode_drops_bounds_when_structure_allows(server: FakeOpenAIServer) -> None:
    server.add(completion('{"label": "billing", "reason": "x"}'))
    llm = backend(server, backend="openai", strict_schemas=True)
    llm.complete(request())
    fmt = server.requests[0]["response_format"]["json_schema"]
    assert fmt["strict"] is True
    assert "maxLength" not in fmt["schema"]["properties"]["reason"]
    assert fmt["schema"]["properties"]["label"]["enum"] == ["privacy", "security", "billing"]
    assert fmt["schema"]["additionalProperties"] is False


def test_openai_strict_mode_off_for_optional_fields(server: FakeOpenAIServer) -> None:
    optional = {**SCHEMA, "required": ["label"]}
    server.add(completion('{"label": "billing"}'))
    llm = backend(server, backend="openai", strict_schemas=True)
    llm.complete(request(json_schema=optional))
    fmt = server.requests[0]["response_format"]["json_schema"]
    assert fmt["strict"] is False
    assert fmt["schema"]["required"] == ["label"]  # not rewritten to all-required
    assert fmt["schema"]["properties"]["reason"]["maxLength"] == 80


def test_invalid_json_is_returned_not_raised(server: FakeOpenAIServer) -> None:
    server.add(completion('{"label": "privacy", "reason": '))
    response = backend(server).complete(request())
    # the raw text comes back as is; judging it is complete_logged's (and drafting's) job
    assert response.content == '{"label": "privacy", "reason": '
    assert response.tokens_out == 7


def test_answer_cut_off_at_max_tokens_is_returned(server: FakeOpenAIServer) -> None:
    server.add(
        completion(
            '{"label": "privacy", "reason": "the', completion_tokens=120, finish_reason="length"
        )
    )
    response = backend(server).complete(request())
    assert response.content == '{"label": "privacy", "reason": "the'
    assert response.extra["finish_reason"] == "length"
    assert (response.tokens_in, response.tokens_out) == (42, 120)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_transport_errors_are_retried(server: FakeOpenAIServer, status: int) -> None:
    server.add(error(status), error(status), completion('{"label": "security", "reason": "r"}'))
    response = backend(server, retries=2).complete(request())
    assert json.loads(response.content)["label"] == "security"
    assert len(server.requests) == 3
    assert response.extra["attempts"] == 3


def test_retries_exhausted_raise_transient_error(server: FakeOpenAIServer) -> None:
    server.add(*(error(503, "overloaded") for _ in range(5)))
    with pytest.raises(TransientError, match="after 3 attempt"):
        backend(server, retries=2).complete(request())
    assert len(server.requests) == 3


def test_server_errors_are_resent(server: FakeOpenAIServer) -> None:
    server.add(error(503), completion('{"label": "privacy", "reason": "r"}'))
    llm = backend(server, retries=1)
    assert json.loads(llm.complete(request()).content)["label"] == "privacy"
    assert len(server.requests) == 2


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLLM(
        backend="openai-compatible",
        model="m",
        api_key="k",
        base_url=f"http://127.0.0.1:{port}/v1",
        retries=1,
        retry_wait_s=0.0,
    )
    with pytest.raises(TransientError, match="unreachable after 2 attempt"):
        llm.complete(request())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InputError),
        (413, InputError),
        (422, InputError),
        (401, ConfigError),
        (404, ConfigError),
    ],
)
def test_client_errors_are_not_retried(
    server: FakeOpenAIServer, status: int, expected: type[Exception]
) -> None:
    server.add(error(status, "context length exceeded"), completion("{}"))
    with pytest.raises(expected, match=f"HTTP {status}"):
        backend(server, retries=3).complete(request())
    assert len(server.requests) == 1


def test_missing_usage_leaves_zero_counts(server: FakeOpenAIServer) -> None:
    server.add(completion('{"label": "privacy", "reason": "r"}', prompt_tokens=None))
    response = backend(server).complete(request())
    assert (response.tokens_in, response.tokens_out) == (0, 0)
    assert response.extra["usage_reported"] is False


ANSWER = json.dumps({"label": "privacy", "reason": "shares conversation data with advertisers"})


def test_a_stall_stops_the_call_and_it_is_not_resent(server: FakeOpenAIServer) -> None:
    server.add(
        Reply(200, completion(ANSWER).body, stall_after=3, stall_s=5.0),
        completion(ANSWER),  # what a re-send would get
    )
    started = time.monotonic()
    with pytest.raises(StallTimeout, match=r"sent nothing for 0.4 s \(3 token"):
        backend(server, retries=3, stall_s=0.4).complete(request())
    assert time.monotonic() - started < 3.0  # stopped at the stall, not at the server's pace
    assert len(server.requests) == 1


def test_no_response_headers_within_the_stall_limit_is_a_stall(server: FakeOpenAIServer) -> None:
    server.add(Reply(200, completion(ANSWER).body, delay_s=2.0), completion(ANSWER))
    with pytest.raises(StallTimeout):
        backend(server, retries=3, stall_s=0.3).complete(request())
    assert len(server.requests) == 1


def test_stall_retryable_follows_the_backend_setting(server: FakeOpenAIServer) -> None:
    server.add(Reply(200, completion(ANSWER).body, stall_after=1, stall_s=3.0))
    with pytest.raises(StallTimeout) as raised:
        backend(server, stall_s=0.3, stall_retryable=False).complete(request())
    assert raised.value.retryable is False


def test_slow_steady_tokens_are_not_a_stall(server: FakeOpenAIServer) -> None:
    # 25 chunks 0.1 s apart: 2.5 seconds in all, six times the stall limit
    server.add(Reply(200, completion(ANSWER).body, token_delay_s=0.1))
    started = time.monotonic()
    response = backend(server, stall_s=0.4).complete(request())
    assert time.monotonic() - started > 1.0
    assert json.loads(response.content) == json.loads(ANSWER)


def test_the_draft_budget_stops_a_steady_stream(server: FakeOpenAIServer) -> None:
    long_answer = json.dumps({"label": "privacy", "reason": "shares data " * 60})
    server.add(Reply(200, completion(long_answer).body, token_delay_s=0.2), completion(ANSWER))
    started = time.monotonic()
    with draft_budget(1.0), pytest.raises(BudgetExceeded, match="budget ran out"):
        backend(server, stall_s=5.0, retries=3).complete(request())
    # stopped at the budget, long before the stream would end (0.2 s per token, ~45 s in all);
    # no tight bound in seconds: a busy machine is slow
    elapsed = time.monotonic() - started
    full_stream_s = 0.2 * -(-len(long_answer) // TOKEN_CHARS)
    assert full_stream_s > 40
    assert 0.9 < elapsed < full_stream_s / 2
    assert len(server.requests) == 1
    deadline = time.monotonic() + 5
    while server.disconnects == 0 and time.monotonic() < deadline:  # the server saw us go
        time.sleep(0.1)
    assert server.disconnects == 1


def test_a_spent_budget_sends_nothing(server: FakeOpenAIServer) -> None:
    server.add(completion(ANSWER))
    with draft_budget(0.0), pytest.raises(BudgetExceeded):
        backend(server).complete(request())
    assert server.requests == []


def test_progress_reaches_the_caller_and_speed_is_recorded(server: FakeOpenAIServer) -> None:
    progress.reset_speed()
    server.add(Reply(200, completion(ANSWER).body, token_delay_s=0.05))
    updates: list[CallProgress] = []
    with reporting(updates.append):
        backend(server).complete(request())
    phases = [u.phase for u in updates]
    assert phases[0] == "prompt" and phases[-1] == "done"
    generating = [u for u in updates if u.phase == "generating"]
    assert generating and all(u.prompt_tokens > 0 for u in generating)
    assert updates[-1].tokens_generated == -(-len(ANSWER) // TOKEN_CHARS)  # every chunk counted
    assert updates[-1].tokens_per_s is not None and 5 < updates[-1].tokens_per_s < 40
    assert measured_speed("openai-compatible") == pytest.approx(updates[-1].tokens_per_s)


def test_server_specific_fields_are_sent_when_configured(server: FakeOpenAIServer) -> None:
    server.add(completion(ANSWER))
    backend(server, extra_body={"cache_prompt": True}).complete(request())
    assert server.requests[0]["cache_prompt"] is True


def test_hosted_openai_bounds_answers_with_max_completion_tokens(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The field name is the backend's registered option, not a branch on its name."""
    from clausewatch.core.settings import reset_settings
    from clausewatch.llm.factory import get_llm

    monkeypatch.setenv("CLAUSEWATCH_LLM_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    reset_settings()
    hosted = get_llm()
    assert isinstance(hosted, OpenAICompatibleLLM)
    assert "max_completion_tokens" in hosted._body(request())
    assert "max_tokens" not in hosted._body(request())
    plain = OpenAICompatibleLLM(backend="openai", model="m", api_key="k")
    assert "max_tokens" in plain._body(request())
