"""The scripted fake and how tests inject it through the factory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.llm import fake
from clausewatch.llm.base import LLM, LLMRequest, LLMResponse
from clausewatch.llm.factory import get_llm


def request(text: str = "hello") -> LLMRequest:
    return LLMRequest(
        prompt_id="p",
        prompt_version="1",
        messages=[{"role": "user", "content": text}],
        json_schema={"type": "object"},
    )


def test_script_is_played_in_order() -> None:
    canned = LLMResponse(content="{}", model="m", backend="fake", tokens_in=1, tokens_out=1)
    llm = fake.FakeLLM(["raw text", {"a": 1}, TransientError("down"), canned])
    assert isinstance(llm, LLM)
    assert llm.complete(request("one")).content == "raw text"
    second = llm.complete(request("two"))
    assert json.loads(second.content) == {"a": 1}
    with pytest.raises(TransientError, match="down"):
        llm.complete(request("three"))
    assert llm.complete(request("four")) is canned
    assert [r.messages[0]["content"] for r in llm.requests] == ["one", "two", "three", "four"]
    assert llm.remaining == 0
    with pytest.raises(fake.FakeScriptExhausted, match="request #5"):
        llm.complete(request("five"))


def test_token_counts_are_plausible() -> None:
    llm = fake.FakeLLM([{"summary": "We collect your location. " * 10}])
    response = llm.complete(request("Summarise this clause about location data. " * 20))
    assert 150 <= response.tokens_in <= 300  # ~8 tokens x 20 plus the schema
    assert 40 <= response.tokens_out <= 120
    assert response.backend == "fake" and response.model == "fake-model"


def test_responder_after_script() -> None:
    llm = fake.FakeLLM(["first"], responder=lambda req: {"echo": req.messages[0]["content"]})
    assert llm.complete(request("a")).content == "first"
    assert json.loads(llm.complete(request("b")).content) == {"echo": "b"}


def test_factory_without_installed_fake_is_a_config_error(workspace: Path) -> None:
    with pytest.raises(ConfigError, match=r"llm\.fake\.install"):
        get_llm()


def test_factory_returns_the_installed_fake(workspace: Path) -> None:
    with fake.scripted([{"ok": True}]) as installed:
        llm = get_llm()  # the workspace fixture sets CLAUSEWATCH_LLM_BACKEND=fake
        assert llm is installed
        assert get_llm("fake") is installed
        assert json.loads(llm.complete(request()).content) == {"ok": True}
    with pytest.raises(ConfigError):
        get_llm()


def test_install_and_uninstall(workspace: Path) -> None:
    installed = fake.install(responder=lambda req: {"n": len(req.messages)})
    try:
        assert get_llm() is installed
        assert json.loads(get_llm().complete(request()).content) == {"n": 1}
    finally:
        fake.uninstall()
    with pytest.raises(ConfigError):
        fake.installed()
