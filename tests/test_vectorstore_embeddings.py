"""Embedders: local MiniLM int8 (offline) and the OpenAI-compatible backend chosen by settings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from vectorstore_helpers import unit

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.core.settings import reset_settings
from clausewatch.vectorstore.embeddings import (
    MINILM_DIM,
    Embedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
    Vectors,
    chroma_embedding_function,
    get_embedder,
)


def test_default_embedder_is_local_minilm(workspace: Path) -> None:
    emb = get_embedder()
    assert isinstance(emb, MiniLMEmbedder)
    assert isinstance(emb, Embedder)
    assert (emb.name, emb.dim) == ("minilm-l6-int8", MINILM_DIM)
    assert get_embedder() is emb  # loaded once per process


def test_minilm_vectors_are_normalised_and_meaningful(workspace: Path) -> None:
    emb = get_embedder()
    texts = [
        "Disputes will be resolved by binding arbitration, not in court.",
        "Any claim must go to individual arbitration; class actions are waived.",
        "We keep your messages for 30 days.",
        "",
    ]
    v = emb.embed(texts)
    assert v.shape == (4, MINILM_DIM)
    assert v.dtype == np.float32
    assert unit(v)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    assert emb.embed([]).shape == (0, MINILM_DIM)


def test_dynamic_padding_does_not_change_vectors(workspace: Path) -> None:
    emb = MiniLMEmbedder(batch_size=4, cache_size=0)
    short = "Children under 13 may not use the service."
    long = " ".join(["This is a much longer clause about retention and deletion."] * 20)
    alone = emb.embed([short])[0]
    batched = emb.embed([long, short, long + " again", "x"])[1]
    assert float(alone @ batched) > 0.9999


def test_cache_returns_the_same_vectors_without_rerunning(workspace: Path) -> None:
    emb = MiniLMEmbedder(cache_size=2)
    first = emb.embed(["alpha clause", "beta clause"])
    runs = 0
    real_run = emb._run

    def counting_run(texts: list[str]) -> Vectors:
        nonlocal runs
        runs += len(texts)
        return real_run(texts)

    emb._run = counting_run  # type: ignore[method-assign]
    again = emb.embed(["beta clause", "alpha clause", "gamma clause"])
    assert runs == 1  # only gamma was computed
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    assert list(emb._cache) == ["alpha clause", "gamma clause"]  # bounded, LRU: beta evicted
    emb.embed(["alpha clause"])
    assert runs == 1
    emb.embed(["beta clause"])
    assert runs == 2


def test_very_long_text_is_truncated_not_rejected(workspace: Path) -> None:
    v = get_embedder().embed(["word " * 20_000])
    assert v.shape == (1, MINILM_DIM)
    assert unit(v)


def test_chroma_adapter_wraps_the_embedder(workspace: Path) -> None:
    ef = chroma_embedding_function()
    assert ef.name() == "clausewatch"
    assert ef.get_config() == {"embedder": "minilm-l6-int8", "dim": MINILM_DIM}
    out = ef(["one clause", "another clause"])
    assert len(out) == 2 and len(out[0]) == MINILM_DIM
    rebuilt = type(ef).build_from_config(ef.get_config())
    assert rebuilt.get_config() == ef.get_config()
    with pytest.raises(ConfigError):
        type(ef).build_from_config({"embedder": "some-other-model", "dim": 3})


def _fake_openai(status: int = 200, dim: int = 8) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/embeddings")
        body = json.loads(request.content)
        if status != 200:
            return httpx.Response(status, json={"error": {"message": "nope", "type": "x"}})
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [float(len(t)), 1.0] + [0.5] * (dim - 2),
            }
            for i, t in enumerate(body["input"])
        ]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": data[::-1],  # out of order on purpose
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    return httpx.MockTransport(handler)


def test_openai_backend_is_a_setting(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_EMBEDDING_BACKEND", "openai")
    monkeypatch.setenv("CLAUSEWATCH_EMBEDDING_BASE_URL", "http://embeddings.invalid/v1")
    monkeypatch.setenv("CLAUSEWATCH_EMBEDDING_MODEL", "text-embedding-3-small")
    reset_settings()
    emb = get_embedder()
    assert isinstance(emb, OpenAIEmbedder)
    assert emb.name == "openai-text-embedding-3-small"
    assert emb.dim == 1536
    assert emb.base_url == "http://embeddings.invalid/v1"


def test_openai_embedder_orders_and_normalises() -> None:
    emb = OpenAIEmbedder(
        model="local-embed",
        base_url="http://embeddings.invalid/v1",
        api_key=None,
        http_client=httpx.Client(transport=_fake_openai(dim=8)),
        batch_size=2,
    )
    v = emb.embed(["a", "bbb", "cc"])
    assert v.shape == (3, 8) and emb.dim == 8
    assert unit(v)
    raw_first = np.array([1.0, 1.0] + [0.5] * 6)
    assert np.allclose(v[0], raw_first / np.linalg.norm(raw_first), atol=1e-6)


def test_openai_errors_say_whether_to_retry() -> None:
    def make(status: int) -> OpenAIEmbedder:
        return OpenAIEmbedder(
            model="m",
            base_url="http://embeddings.invalid/v1",
            api_key="k",
            max_retries=0,
            http_client=httpx.Client(transport=_fake_openai(status=status)),
        )

    with pytest.raises(TransientError):
        make(503).embed(["x"])
    with pytest.raises(ConfigError):
        make(400).embed(["x"])

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = OpenAIEmbedder(
        model="m",
        base_url="http://embeddings.invalid/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(TransientError):
        down.embed(["x"])


def test_openai_without_key_or_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        OpenAIEmbedder(model="text-embedding-3-small", base_url=None, api_key=None).embed(["x"])


def test_hosted_embeddings_go_through_the_llm_call_log(workspace: Path) -> None:
    """Every paid embedding request is an llm_calls row (tokens, latency, outcome), like chat."""
    from sqlalchemy import select

    from clausewatch.llm.calls import EMBEDDING_PROMPT_ID, embed_logged, usage_summary
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.drafts import LLMCall

    def make(status: int) -> OpenAIEmbedder:
        return OpenAIEmbedder(
            model="text-embedding-3-small",
            base_url=None,
            api_key="k",
            dim=8,
            batch_size=2,
            max_retries=0,
            http_client=httpx.Client(transport=_fake_openai(dim=8, status=status)),
            call_log=embed_logged,
        )

    make(200).embed(["a", "bbb", "cc"])  # two batches: two calls
    with pytest.raises(ConfigError):
        make(400).embed(["x"])
    with session_scope() as session:
        rows = session.execute(
            select(LLMCall.backend, LLMCall.model, LLMCall.prompt_id, LLMCall.outcome)
            .add_columns(LLMCall.tokens_in)
            .order_by(LLMCall.id)
        ).all()
        usage = usage_summary(session)
    assert [tuple(r) for r in rows] == [
        ("openai", "text-embedding-3-small", EMBEDDING_PROMPT_ID, "ok", 1),
        ("openai", "text-embedding-3-small", EMBEDDING_PROMPT_ID, "ok", 1),
        ("openai", "text-embedding-3-small", EMBEDDING_PROMPT_ID, "error", 1),
    ]
    assert usage["by_model"]["openai/text-embedding-3-small"]["calls"] == 3


def test_the_settings_embedder_logs_its_calls(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.llm.calls import embed_logged

    monkeypatch.setenv("CLAUSEWATCH_EMBEDDING_BACKEND", "openai")
    monkeypatch.setenv("CLAUSEWATCH_EMBEDDING_BASE_URL", "http://embeddings.invalid/v1")
    reset_settings()
    emb = get_embedder()
    assert isinstance(emb, OpenAIEmbedder) and emb._call_log is embed_logged
    assert emb.backend == "openai-compatible"


def test_embedding_calls_are_costed_with_chat_calls(workspace: Path) -> None:
    """usage_summary prices embeddings and chat calls at the same list (llm.pricing)."""
    from clausewatch.llm.calls import _record, usage_summary
    from clausewatch.storage.db import session_scope

    common = {"prompt_version": "1", "cache_key": "k", "latency_ms": 1, "outcome": "ok"}
    _record(**common, backend="openai", model="text-embedding-3-small", prompt_id="embedding",
            tokens_in=2_000_000, tokens_out=0)  # fmt: skip
    _record(**common, backend="openai", model="gpt-4o-mini", prompt_id="provision_analysis",
            tokens_in=1_000_000, tokens_out=1_000_000)  # fmt: skip
    _record(**common, backend="openai-compatible", model="my-own", prompt_id="x",
            tokens_in=10, tokens_out=10)  # fmt: skip
    with session_scope() as session:
        usage = usage_summary(session)
    by_model = usage["by_model"]
    assert by_model["openai/text-embedding-3-small"]["cost_usd"] == pytest.approx(0.04)
    assert by_model["openai/gpt-4o-mini"]["cost_usd"] == pytest.approx(0.75)
    assert by_model["openai-compatible/my-own"]["cost_usd"] is None
    assert usage["cost_usd"] == pytest.approx(0.79)
    assert usage["unpriced"] == ["openai-compatible/my-own"]
