"""The VectorStore interface, on disk (PersistentClient) and against ``chroma run`` (HttpClient)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from vectorstore_helpers import CountingEmbedder, chroma_server, free_port

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.core.settings import reset_settings
from clausewatch.vectorstore.store import (
    ChromaVectorStore,
    Metadata,
    VectorStore,
    VectorStoreError,
    database_namespace,
    forget_clients,
    open_store,
    server_address,
)

TEXTS: dict[str, tuple[str, Metadata]] = {
    "a": ("Disputes are settled by binding arbitration.", {"platform": "p1", "n": 1}),
    "b": ("We retain logs for ninety days.", {"platform": "p2", "n": 2}),
    "c": ("Children under 13 may not use the service.", {"platform": "p3", "n": 3}),
}


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``chroma run`` server for the module (each test uses its own collection)."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(params=["persistent", pytest.param("http", marks=pytest.mark.slow)])
def store(
    request: pytest.FixtureRequest, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VectorStore]:
    forget_clients()
    if request.param == "http":
        monkeypatch.setenv("CLAUSEWATCH_CHROMA_URL", request.getfixturevalue("chroma_url"))
        reset_settings()
    yield open_store(f"unit-{uuid.uuid4().hex[:8]}", embedder=CountingEmbedder())
    forget_clients()


def _fill(store: VectorStore) -> None:
    ids = list(TEXTS)
    store.upsert(ids, [TEXTS[i][0] for i in ids], [TEXTS[i][1] for i in ids])


def test_upsert_get_count_and_query(store: VectorStore) -> None:
    _fill(store)
    assert store.count() == 3
    got = {r.id: r for r in store.get(["a", "c", "missing"])}
    assert set(got) == {"a", "c"}
    assert got["a"].text == TEXTS["a"][0]
    assert got["a"].metadata["platform"] == "p1"

    hits = store.query("an arbitration clause for disputes", k=3)
    assert hits[0].id == "a"
    assert hits[0].score > hits[1].score >= hits[2].score
    # the score is the cosine similarity of the query's and the record's vectors
    vectors = store.embedder.embed(["an arbitration clause for disputes", TEXTS["a"][0]])
    assert hits[0].score == pytest.approx(float(np.dot(vectors[0], vectors[1])), abs=1e-4)


def test_where_filters_and_metadata_update(store: VectorStore) -> None:
    _fill(store)
    hits = store.query("arbitration", k=3, where={"platform": "p2"})
    assert [h.id for h in hits] == ["b"]
    assert {r.id for r in store.get(where={"n": {"$gte": 2}}, with_text=False)} == {"b", "c"}

    store.update_metadata(["b"], [{"platform": "p9", "n": 2}])
    assert store.get(["b"])[0].metadata["platform"] == "p9"
    assert store.get(["b"])[0].text == TEXTS["b"][0]  # text untouched


def test_upsert_replaces_and_delete_removes(store: VectorStore) -> None:
    _fill(store)
    store.upsert(["a"], ["Arbitration replaced."], [{"platform": "p1", "n": 1}])
    assert store.count() == 3
    assert store.get(["a"])[0].text == "Arbitration replaced."
    store.delete(["a", "b"])
    assert [r.id for r in store.get()] == ["c"]
    store.delete([])
    assert store.count() == 1


def test_explicit_embeddings_skip_the_embedder(store: VectorStore) -> None:
    counter = store.embedder
    assert isinstance(counter, CountingEmbedder)
    vec = np.zeros((1, counter.dim), dtype=np.float32)
    vec[0, 0] = 1.0
    store.upsert(["x"], ["anything"], [{"k": "v"}], embeddings=vec)
    assert counter.calls == 0
    hits = store.query(embedding=vec[0], k=1)
    assert hits[0].id == "x"
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_bad_input_is_rejected(store: VectorStore) -> None:
    with pytest.raises(VectorStoreError):
        store.upsert(["a", "a"], ["t1", "t2"], [{}, {}])
    with pytest.raises(VectorStoreError):
        store.upsert(["a"], ["t1", "t2"], [{}])
    with pytest.raises(VectorStoreError):
        store.upsert(["a"], ["t"], [{"bad": {"nested": 1}}])  # type: ignore[dict-item]
    with pytest.raises(VectorStoreError):
        store.query()
    assert store.count() == 0
    assert store.query("anything", k=5) == []  # empty collection


def test_unreachable_server_is_transient(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forget_clients()
    monkeypatch.setenv("CLAUSEWATCH_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    with pytest.raises(TransientError) as info:
        open_store("unit")
    assert info.value.retryable
    forget_clients()


def test_collection_name_carries_the_database_and_the_embedder(workspace: Path) -> None:
    forget_clients()
    store = open_store("provisions")
    namespace = database_namespace(None, f"sqlite:///{workspace / 'clausewatch.db'}")
    assert re.fullmatch(r"db-[0-9a-f]{12}", namespace)
    assert store.name == f"provisions--{namespace}--minilm-l6-int8"
    assert store.embedder.name == "minilm-l6-int8"
    forget_clients()


def test_workspaces_sharing_a_chroma_store_do_not_mix(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workspaces (or two databases) pointed at one chroma store each get their own
    collections; a namespace set explicitly names them instead of the database."""
    forget_clients()
    shared = str(tmp_path / "shared-chroma")
    embedder = CountingEmbedder()

    def provisions(home: str, **env: str) -> ChromaVectorStore:
        monkeypatch.setenv("CLAUSEWATCH_HOME", str(tmp_path / home))
        for key in ("CLAUSEWATCH_DATABASE_URL", "CLAUSEWATCH_CHROMA_NAMESPACE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        return open_store("provisions", embedder=embedder, target=shared)

    a, b = provisions("a"), provisions("b")
    _fill(a)
    assert a.name != b.name and (a.count(), b.count()) == (3, 0)
    assert b.query("arbitration", k=3) == []
    # the same database reached by another URL spelling (password) is the same namespace
    pg = "postgresql+psycopg://cw:{}@db-host/clausewatch"
    assert database_namespace(None, pg.format("old")) == database_namespace(None, pg.format("new"))
    assert database_namespace(None, pg.format("x")) != database_namespace(None, pg + "2")

    named = provisions("c", CLAUSEWATCH_CHROMA_NAMESPACE="team.prod")
    assert named.name == "provisions--team.prod--minilm-l6-int8"
    assert provisions("d", CLAUSEWATCH_CHROMA_NAMESPACE="team.prod").name == named.name
    monkeypatch.setenv("CLAUSEWATCH_CHROMA_NAMESPACE", "/")
    reset_settings()
    with pytest.raises(ConfigError, match="CLAUSEWATCH_CHROMA_NAMESPACE"):
        open_store("provisions", embedder=embedder, target=shared)
    forget_clients()


def test_chroma_url_must_be_a_plain_http_url(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad, reason in (
        ("chroma:8000", "must be an http(s):// URL"),
        ("http://127.0.0.1:8000/?tenant=x", "no query"),
        ("http://user:pw@127.0.0.1:8000", "no query, fragment or user:password"),
        ("http://:8000/", "has no host"),
    ):
        forget_clients()
        monkeypatch.setenv("CLAUSEWATCH_CHROMA_URL", bad)
        reset_settings()
        with pytest.raises(ConfigError, match=re.escape(reason)):
            open_store("unit", embedder=CountingEmbedder())
    assert server_address("https://chroma.example/base/") == (
        "https://chroma.example:443/base",
        443,
        True,
    )
    assert server_address("http://127.0.0.1:8001") == ("127.0.0.1", 8001, False)
    forget_clients()


@contextmanager
def _path_proxy(upstream: str, prefix: str) -> Iterator[tuple[str, list[str]]]:
    """A reverse proxy serving ``upstream`` under ``prefix`` (404 elsewhere)."""
    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            seen.append(self.path)
            if not self.path.startswith(prefix + "/"):
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in {"host", "content-length", "connection"}
            }
            reply = httpx.request(
                self.command,
                upstream + self.path[len(prefix) :],
                content=body,
                headers=headers,
                timeout=30,
            )
            self.send_response(reply.status_code)
            for key, value in reply.headers.items():
                if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_chroma_url_path_is_respected(
    workspace: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chroma server behind a reverse proxy at ``/chroma`` is reached there, not at ``/``."""
    with _path_proxy(chroma_url, "/chroma") as (proxied, seen):
        forget_clients()
        monkeypatch.setenv("CLAUSEWATCH_CHROMA_URL", proxied + "/")
        reset_settings()
        store = open_store(f"unit-{uuid.uuid4().hex[:8]}", embedder=CountingEmbedder())
        _fill(store)
        assert store.count() == 3
        assert store.query("arbitration", k=1)[0].id == "a"
        forget_clients()
    assert seen and all(path.startswith("/chroma/api/") for path in seen), seen


def test_markers_live_in_the_collection_metadata(store: VectorStore) -> None:
    assert isinstance(store, ChromaVectorStore)
    assert store.get_marker("digest") is None
    assert store.set_marker("digest", "d1")
    _fill(store)
    again = open_store(store.base_name, embedder=store.embedder, target=store.location)
    assert again.get_marker("digest") == "d1"  # kept across opens, beside the embedder's
    assert again._col.metadata["embedder"] == store.embedder.name
    assert store.set_marker("digest", None) and again.get_marker("digest") is None
    assert store.set_marker("digest", None)  # removing an absent marker is fine
    assert again.count() == 3
