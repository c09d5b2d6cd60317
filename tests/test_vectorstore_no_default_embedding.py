"""No collection of the project can fall back to chromadb's default embedding (which downloads).

chromadb's default embedding function and its ONNX MiniLM downloader are made to fail, and
every network connection except loopback is refused; then every code path that creates,
opens, writes or queries a collection runs, and every collection left on disk is reopened by
name alone (the way a third-party tool would) and must resolve to our embedder.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from vectorstore_helpers import seed_small_archive

from clausewatch.cli import app
from clausewatch.storage.db import session_scope
from clausewatch.vectorstore.store import forget_clients, get_client
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow


class DefaultEmbeddingUsed(AssertionError):
    pass


def _forbid(self: Any, input: Any) -> Any:
    raise DefaultEmbeddingUsed("chromadb's default embedding function was used")


def _forbid_download(self: Any) -> Any:
    raise DefaultEmbeddingUsed("chromadb tried to download its default model")


@pytest.fixture
def no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.api import types as chroma_types
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    monkeypatch.setattr(chroma_types.DefaultEmbeddingFunction, "__call__", _forbid)
    monkeypatch.setattr(chroma_types.DefaultEmbeddingFunction, "embed_query", _forbid)
    onnx = onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2
    monkeypatch.setattr(onnx, "__call__", _forbid)
    monkeypatch.setattr(onnx, "_download_model_if_not_exists", _forbid_download)

    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise DefaultEmbeddingUsed(f"network access to {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.mark.shared_data
def test_every_collection_uses_our_embedding_function(
    no_default: None, db_workspace: Path, tmp_path: Path
) -> None:
    from clausewatch.regulations.index import import_fulltexts
    from clausewatch.regulations.search import regulation_candidates
    from clausewatch.vectorstore.indexing import index_provisions
    from clausewatch.vectorstore.retrieval import similar_provisions

    forget_clients()
    seed_small_archive()
    with session_scope() as session:
        index_provisions(session)
    assert similar_provisions("binding arbitration of disputes", exclude_platform="alpha")
    assert regulation_candidates("We honour Global Privacy Control signals.", k=3)

    texts = tmp_path / "regs" / "gdpr" / "articles"
    texts.mkdir(parents=True)
    src = SHARED_DATA / "regulations" / "gdpr" / "articles" / "article_028.md"
    shutil.copy(src, texts / "article_028.md")
    import_fulltexts(tmp_path / "regs")

    runner = CliRunner()
    for args in (
        ["index"],
        ["similar", "class action waiver", "--json"],
        ["regulations", "search", "cookies on your device", "--json"],
    ):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output

    # Reopen every collection by name only, as chromadb would without our code passing it.
    client = get_client()
    names = [c.name for c in client.list_collections()]
    assert {n.split("--")[0] for n in names} == {"provisions", "regulations"}
    for name in names:
        col = client.get_collection(name)
        assert col.configuration_json["embedding_function"]["name"] == "clausewatch"
        ef = col.configuration.get("embedding_function")
        assert ef is not None and ef.name() == "clausewatch"
        # a text query through chromadb's own path embeds with our function
        assert col.query(query_texts=["arbitration"], n_results=1)["ids"][0]
    forget_clients()


def test_the_guard_would_catch_a_default_collection(no_default: None, tmp_path: Path) -> None:
    """The monkeypatches above really trap chromadb's default path (the test can fail)."""
    import chromadb

    client = chromadb.EphemeralClient()
    col = client.get_or_create_collection("plain")
    with pytest.raises(DefaultEmbeddingUsed):
        col.add(ids=["1"], documents=["text"])
