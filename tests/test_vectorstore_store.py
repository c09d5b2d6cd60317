"""The VectorStore interface, on disk (PersistentClient) and against ``chroma run`` (HttpClient)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from vectorstore_helpers import CountingEmbedder, chroma_server, free_port

from clausewatch.errors import TransientError
from clausewatch.settings import reset_settings
from vectorstore.store import (
    ChromaVectorStore,
    Metadata,
    VectorStore,
    VectorStoreError,
    forget_clients,
    open_store,
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
    assert -1.0 <= hits[-1].score <= 1.0


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


def test_collection_name_carries_the_embedder(workspace: Path) -> None:
    forget_clients()
    store = open_store("provisions")
    assert store.name == "provisions--minilm-l6-int8"
    assert store.embedder.name == "minilm-l6-int8"
    forget_clients()


def test_markers_live_in_the_collection_metadata(store: VectorStore) -> None:
    assert isinstance(store, ChromaVectorStore)
    assert store.get_marker("digest") is None
    assert store.set_marker("digest", "d1")
    _fill(store)
    base = store.name.rsplit("--", 1)[0]
    again = open_store(base, embedder=store.embedder, target=store.location)
    assert again.get_marker("digest") == "d1"  # kept across opens, beside the embedder's
    assert again._col.metadata["embedder"] == store.embedder.name
    assert store.set_marker("digest", None) and again.get_marker("digest") is None
    assert store.set_marker("digest", None)  # removing an absent marker is fine
    assert again.count() == 3
