"""Incremental indexing of current clauses and retrieval of comparable provisions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from vectorstore_helpers import BETA_TOS, CountingEmbedder, record, seed_small_archive

from clausewatch.core.errors import InputError
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import Clause
from clausewatch.vectorstore.indexing import DIGEST_KEY, PROVISIONS, index_provisions, provision_id
from clausewatch.vectorstore.retrieval import similar_provisions
from clausewatch.vectorstore.store import ChromaVectorStore, forget_clients, get_client, open_store


@pytest.fixture
def store(db_workspace: Path) -> Iterator[ChromaVectorStore]:
    forget_clients()
    yield open_store(PROVISIONS, embedder=CountingEmbedder())
    forget_clients()


def _index(store: ChromaVectorStore) -> tuple[int, int, int, int, int]:
    with session_scope() as session:
        r = index_provisions(session, store=store)
    return r.embedded, r.unchanged, r.removed, r.total, r.metadata_updated


def test_first_index_embeds_every_current_clause_with_metadata(store: ChromaVectorStore) -> None:
    seed_small_archive()
    embedded, unchanged, removed, total, _ = _index(store)
    assert embedded == total > 0
    assert (unchanged, removed) == (0, 0)
    records = store.get()
    platforms = {r.metadata["platform"] for r in records}
    assert platforms == {"alpha", "beta", "gamma"}
    arb = next(r for r in records if "binding individual arbitration" in r.text)
    meta = arb.metadata
    assert meta["doc_type"] == "terms_of_service"
    assert isinstance(meta["version_date"], int)
    assert meta["version_date"] == 1735689600  # 2025-01-01 UTC
    assert meta["path"] == "Alpha Terms > Disputes"
    assert isinstance(meta["clause_uid"], str) and meta["clause_uid"]
    assert arb.id == provision_id("alpha", "terms_of_service", arb.text)
    assert not any(r.text.startswith("#") or r.text in {"Disputes", "Alpha Terms"} for r in records)


def test_reindexing_an_unchanged_archive_embeds_nothing(store: ChromaVectorStore) -> None:
    seed_small_archive()
    _index(store)
    counter = store.embedder
    assert isinstance(counter, CountingEmbedder)
    calls, texts = counter.calls, counter.texts
    embedded, unchanged, removed, total, updated = _index(store)
    assert (embedded, removed, updated) == (0, 0, 0)
    assert unchanged == total
    assert (counter.calls, counter.texts) == (calls, texts)


def test_new_version_embeds_only_changed_text_and_drops_old(store: ChromaVectorStore) -> None:
    seed_small_archive()
    _, _, _, total_before, _ = _index(store)
    counter = store.embedder
    assert isinstance(counter, CountingEmbedder)
    texts_before = counter.texts

    changed = BETA_TOS.replace("within 60 days", "within 90 days")
    assert changed != BETA_TOS
    record("beta", "terms_of_service", changed, "2025-06-01")
    embedded, _unchanged, removed, total, updated = _index(store)
    assert (embedded, removed) == (1, 1)
    assert total == total_before  # replaced, not duplicated
    assert counter.texts - texts_before == 1
    # the other beta clauses now belong to the new version: metadata updated, not re-embedded
    assert updated >= 2
    beta = [r for r in store.get() if r.metadata["platform"] == "beta"]
    assert {r.metadata["version_date"] for r in beta} == {1748736000}  # 2025-06-01
    assert any("90 days" in r.text for r in beta)
    assert not any("60 days" in r.text for r in beta)


def test_similar_provisions_come_from_other_platforms(store: ChromaVectorStore) -> None:
    seed_small_archive()
    _index(store)
    query = "Every dispute goes to binding individual arbitration and class actions are waived."
    results = similar_provisions(query, exclude_platform="alpha", k=3, store=store)
    assert results
    assert all(r.platform != "alpha" for r in results)
    assert results[0].platform == "beta"
    assert "arbitration" in results[0].text
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert results[0].clause_id and results[0].path == ["Beta Terms", "Arbitration"]


def test_similar_provisions_caps_per_platform_and_filters_doc_type(
    store: ChromaVectorStore,
) -> None:
    seed_small_archive()
    _index(store)
    query = "Children under 13 are not allowed and we delete their data."
    capped = similar_provisions(query, k=10, per_platform=1, store=store)
    platforms = [r.platform for r in capped]
    assert len(platforms) == len(set(platforms)) == 3
    two = similar_provisions(query, k=10, per_platform=2, store=store)
    assert max(sum(1 for r in two if r.platform == p) for p in {"alpha", "beta"}) == 2
    policies = similar_provisions(query, k=10, doc_type="privacy_policy", store=store)
    assert policies and {r.doc_type for r in policies} == {"privacy_policy"}
    assert similar_provisions(query, k=5, doc_type="no_such_type", store=store) == []


def test_similar_provisions_on_an_empty_index(store: ChromaVectorStore) -> None:
    assert similar_provisions("anything at all", store=store) == []
    with pytest.raises(InputError):
        similar_provisions("   ", store=store)


def test_default_store_comes_from_settings(db_workspace: Path) -> None:
    forget_clients()
    seed_small_archive()
    with session_scope() as session:
        report = index_provisions(session)
    assert report.embedded == report.total > 0
    assert (db_workspace / "chroma").is_dir()
    assert similar_provisions("arbitration of disputes", exclude_platform="beta", k=2)
    forget_clients()


def _no_reads(store: ChromaVectorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the collection's entries were read")

    monkeypatch.setattr(store, "get", refuse)


def test_unchanged_rerun_skips_reading_the_collection(
    store: ChromaVectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_small_archive()
    first = _index(store)
    assert store.get_marker(DIGEST_KEY)
    with monkeypatch.context() as m:
        _no_reads(store, m)
        embedded, unchanged, removed, total, updated = _index(store)
    assert (embedded, removed, updated) == (0, 0, 0)
    assert unchanged == total == first[3]

    # a change in the archive changes the digest: the full comparison runs
    record("beta", "terms_of_service", BETA_TOS.replace("60 days", "90 days"), "2025-06-01")
    assert _index(store)[0] == 1
    with monkeypatch.context() as m:
        _no_reads(store, m)
        assert _index(store)[:3] == (0, total, 0)


def test_metadata_change_alone_is_not_skipped(store: ChromaVectorStore) -> None:
    seed_small_archive()
    _index(store)
    with session_scope() as session:
        arbitration = Clause.text.contains("binding individual arbitration")
        clause = session.scalars(select(Clause).where(arbitration)).first()
        assert clause is not None
        clause.categories = ["dispute_resolution"]
    embedded, _, _, _, updated = _index(store)
    assert (embedded, updated) == (0, 1)
    assert any(r.metadata["categories"] == "dispute_resolution" for r in store.get())


def test_emptied_collection_is_reindexed(store: ChromaVectorStore) -> None:
    seed_small_archive()
    _, _, _, total, _ = _index(store)
    ids = [r.id for r in store.get(with_text=False)]
    store.delete(ids[:1])  # the digest is still there, the count is not
    assert _index(store)[:2] == (1, total - 1)
    store.delete(ids)
    assert _index(store)[0] == total
    assert store.count() == total


def test_deleted_or_other_chroma_store_is_reindexed(db_workspace: Path) -> None:
    forget_clients()
    seed_small_archive()
    with session_scope() as session:
        total = index_provisions(session).total
        assert index_provisions(session).embedded == 0
    chroma_dir = db_workspace / "chroma"
    assert chroma_dir.is_dir()

    forget_clients()
    shutil.rmtree(chroma_dir)
    with session_scope() as session:
        report = index_provisions(session)
    assert (report.embedded, report.total) == (total, total)

    other = db_workspace / "other-chroma"
    elsewhere = open_store(PROVISIONS, target=str(other))
    with session_scope() as session:
        report = index_provisions(session, store=elsewhere)
    assert (report.embedded, report.total) == (total, total)

    # a collection deleted and recreated behind an open store's back
    get_client(str(other)).delete_collection(elsewhere.name)
    with session_scope() as session:
        report = index_provisions(session, store=elsewhere)
    assert (report.embedded, report.total) == (total, total)
    forget_clients()
