"""LLM backends are a registry: resolve, build and per-backend traits come from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from drafting_support import answer, make_ctx

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings
from clausewatch.drafting.engine import draft_analysis
from clausewatch.llm import factory
from clausewatch.llm.factory import Backend, BackendChoice, backend_names, get_llm, resolve
from clausewatch.llm.fake import FakeLLM
from clausewatch.llm.pricing import cost_usd


@pytest.fixture
def toy() -> Iterator[FakeLLM]:
    """A backend registered by a test: scripted, lazy answers first, free, not worth
    re-asking for quality."""
    llm = FakeLLM([answer(comparisons=[], regulatory_landscape=[]), answer()])
    llm.backend = "toy"

    def build(settings: Settings, choice: BackendChoice) -> FakeLLM:
        llm.model = choice.model
        return llm

    factory.register(
        Backend("toy", lambda s: "toy-1", build, quality_reasks=False, free=True)  # type: ignore[arg-type]
    )
    yield llm
    del factory._REGISTRY["toy"]


def test_a_registered_backend_is_resolved_and_built(workspace: Path, toy: FakeLLM) -> None:
    assert "toy" in backend_names()
    choice = resolve("toy")
    assert (choice.backend, choice.model, choice.base_url) == ("toy", "toy-1", None)
    assert get_llm("toy") is toy and toy.model == "toy-1"


def test_the_engine_asks_the_registry_not_the_name(workspace: Path, toy: FakeLLM) -> None:
    """Quality-only re-asks follow the backend's registered trait."""
    out = draft_analysis(make_ctx(), get_llm("toy"))
    assert not out.ok and out.best_effort is not None
    assert len(toy.requests) == 1  # flagged at once: the toy backend is not re-asked


def test_shipped_backends_and_their_traits() -> None:
    assert backend_names() == ("auto", "openai", "openai-compatible", "local", "fake")
    assert [factory.quality_reasks(n) for n in backend_names()[1:]] == [True, True, False, True]
    assert [factory.is_free(n) for n in backend_names()[1:]] == [False, False, True, True]
    assert [factory.serves_here(n) for n in backend_names()[1:]] == [False, False, True, False]
    assert factory.quality_reasks("a-test-fake") is True  # unregistered: like a hosted model


def test_pricing_asks_the_registry(toy: FakeLLM) -> None:
    assert cost_usd("toy", "gpt-4o", 1_000_000, 1_000_000) == 0.0  # free backend
    assert cost_usd("openai", "gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("openai", "text-embedding-3-small", 1_000_000, 0) == pytest.approx(0.02)


def test_unknown_backend_names_every_registered_one(workspace: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of auto, openai, openai-compatible, local"):
        resolve("gpt")


def test_speed_advice_follows_the_serves_here_trait(toy: FakeLLM) -> None:
    """Thread advice is for any backend that serves on this machine, found in the registry."""
    from clausewatch.llm.speed_check import DraftSize, verdict

    size = DraftSize(prompt_tokens=3000, answer_tokens=600, source="test")
    slow = {"size": size, "prompt_tok_s": 10.0, "generation_tok_s": 0.5, "budget_s": 60}
    factory.register(Backend("toy-here", lambda s: "m", lambda s, c: toy, serves_here=True))
    try:
        here = " ".join(verdict(**slow, backend="toy-here", threads=2).lines)
    finally:
        del factory._REGISTRY["toy-here"]
    remote = " ".join(verdict(**slow, backend="toy", threads=2).lines)
    assert "CLAUSEWATCH_LLM_THREADS" in here and "CLAUSEWATCH_LLM_THREADS" not in remote
