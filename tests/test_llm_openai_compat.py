"""The OpenAI-compatible backend against a fake chat-completions server on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from llm_http_fake import FakeOpenAIServer, Reply, completion, error

from clausewatch.errors import ConfigError, InputError, TransientError
from llm.base import LLMRequest
from llm.openai_compat import OpenAICompatibleLLM

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
        "timeout_s": 5.0,
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
    assert "parsing_error" not in response.extra

    assert server.paths == ["/v1/chat/completions"]
    sent = server.requests[0]
    assert sent["model"] == "served-model"
    assert sent["messages"][1] == {
        "role": "user",
        "content": "We may share your data with advertisers.",
    }
    assert sent["temperature"] == 0.0
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


def test_timeouts_are_transient(server: FakeOpenAIServer) -> None:
    server.add(*(Reply(200, completion("{}").body, delay_s=1.5) for _ in range(2)))
    with pytest.raises(TransientError, match="Timeout"):
        backend(server, retries=1, timeout_s=0.3).complete(request())
    assert len(server.requests) == 2


def test_timeouts_not_retried_when_disabled(server: FakeOpenAIServer) -> None:
    server.add(*(Reply(200, completion("{}").body, delay_s=1.5) for _ in range(2)))
    with pytest.raises(TransientError, match="timed out after"):
        backend(server, retries=3, timeout_s=0.3, retry_timeouts=False).complete(request())
    assert len(server.requests) == 1


def test_server_errors_still_retried_when_timeouts_are_not(server: FakeOpenAIServer) -> None:
    server.add(error(503), completion('{"label": "privacy", "reason": "r"}'))
    llm = backend(server, retries=1, retry_timeouts=False)
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
