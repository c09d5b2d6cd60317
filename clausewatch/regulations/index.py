"""The ``regulations`` collection: the shipped catalogue plus imported full texts.

Catalogue entries are indexed on first use and kept in step incrementally (ids are content
hashes of the provision id and its text); ``import_fulltexts`` adds article/section chunks
that carry the same provision ids in their metadata. ``keyword_corpus`` keeps the BM25 index
of each kind of entry, rebuilt when the collection changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clausewatch.core.errors import InputError
from clausewatch.regulations.catalogue import citation, load_catalogue, regulation_name, search_text
from clausewatch.regulations.fulltext import read_chunks
from clausewatch.vectorstore.keyword import KeywordIndex
from clausewatch.vectorstore.store import (
    Metadata,
    Record,
    VectorStore,
    is_prepared,
    mark_prepared,
    open_store,
)

REGULATIONS = "regulations"
BATCH = 128


@dataclass
class RegulationIndexReport:
    embedded: int
    unchanged: int
    removed: int
    total: int
    unlinked: int = 0  # imported provisions with no catalogue entry (kept, not citable)


@dataclass
class KeywordCorpus:
    count: int
    records: list[Record]
    index: KeywordIndex


_keyword_cache: dict[str, KeywordCorpus] = {}


def invalidate_keyword_cache() -> None:
    """Forget BM25 corpora (called after the regulations collection changed)."""
    _keyword_cache.clear()


def keyword_corpus(store: VectorStore, kind: str) -> KeywordCorpus:
    """The BM25 index over the entries of ``kind`` (``catalogue`` or ``text``), cached."""
    count = store.count()
    key = f"{getattr(store, 'location', id(store))}|{store.name}|{kind}"
    cached = _keyword_cache.get(key)
    if cached is None or cached.count != count:
        records = store.get(where={"kind": kind}, with_text=True)
        cached = KeywordCorpus(count, records, KeywordIndex([r.text for r in records]))
        _keyword_cache[key] = cached
    return cached


def _hash_id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def open_regulation_store() -> VectorStore:
    return open_store(REGULATIONS)


def _sync(
    store: VectorStore,
    kind: str,
    wanted: dict[str, tuple[str, Metadata]],
    progress: Callable[[int, int], None] | None = None,
) -> RegulationIndexReport:
    existing = {r.id for r in store.get(where={"kind": kind}, with_text=False)}
    stale = [i for i in existing if i not in wanted]
    store.delete(stale)
    todo = [i for i in wanted if i not in existing]
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        store.upsert(batch, [wanted[i][0] for i in batch], [wanted[i][1] for i in batch])
        if progress:
            progress(start + len(batch), len(todo))
    if stale or todo:
        invalidate_keyword_cache()
    return RegulationIndexReport(
        embedded=len(todo),
        unchanged=len(wanted) - len(todo),
        removed=len(stale),
        total=store.count(),
    )


def index_catalogue(store: VectorStore | None = None) -> RegulationIndexReport:
    """Embed catalogue entries that are new or changed; drop entries no longer shipped."""
    store = store or open_regulation_store()
    wanted: dict[str, tuple[str, Metadata]] = {}
    for prov in load_catalogue().values():
        text = search_text(prov)
        wanted[_hash_id("cat-", prov.id, text)] = (
            text,
            {
                "kind": "catalogue",
                "provision_id": prov.id,
                "regulation": prov.regulation,
                "title": prov.title,
                "topics": " | ".join(prov.topics),
            },
        )
    report = _sync(store, "catalogue", wanted)
    mark_prepared(store, "catalogue")
    return report


def ensure_catalogue(store: VectorStore) -> None:
    """Index the catalogue into ``store`` once per process (cheap when nothing changed)."""
    if not is_prepared(store, "catalogue"):
        index_catalogue(store)


def import_fulltexts(
    directory: Path,
    *,
    store: VectorStore | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RegulationIndexReport:
    """Index the full texts under ``directory``; re-importing the same texts embeds nothing.

    Chunks of a provision that is absent from the new import are removed only for the
    instruments present in this import, so importing one instrument keeps the others.
    """
    store = store or open_regulation_store()
    catalogue = load_catalogue()
    chunks = list(read_chunks(directory))
    if not chunks:
        raise InputError(f"no regulation texts recognised under {directory}")
    wanted: dict[str, tuple[str, Metadata]] = {}
    for chunk in chunks:
        prov = catalogue.get(chunk.provision_id)
        name = regulation_name(chunk.regulation)
        label = citation(prov) if prov else f"{name} {chunk.provision_id}"
        text = f"{label} — {chunk.title}: {chunk.text}" if chunk.title else f"{label}: {chunk.text}"
        wanted[_hash_id("txt-", chunk.provision_id, text)] = (
            text,
            {
                "kind": "text",
                "provision_id": chunk.provision_id,
                "regulation": chunk.regulation,
                "title": prov.title if prov else chunk.title,
                "source": chunk.source,
                "chunk": chunk.index,
                "in_catalogue": prov is not None,
            },
        )
    imported_regs = {c.regulation for c in chunks}
    existing = store.get(where={"kind": "text"}, with_text=False)
    keep_other: dict[str, tuple[str, Metadata]] = {
        r.id: ("", r.metadata)
        for r in existing
        if r.metadata.get("regulation") not in imported_regs
    }
    report = _sync(store, "text", {**keep_other, **wanted}, progress)
    report.unlinked = len({c.provision_id for c in chunks if c.provision_id not in catalogue})
    return report
