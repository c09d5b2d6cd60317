"""Incremental indexing of every clause of every current version into ``provisions``.

Headings on their own (clause kind ``heading``) are not indexed: they are not provisions.

Ids are content hashes (sha256 of platform|doc_type|text), so a clause whose text did not
change keeps its vector: re-indexing an unchanged archive embeds nothing. Clauses that left
the current version are deleted from the collection; metadata that changed (a newer version
date, categories assigned later) is updated in place without re-embedding.

After a complete pass, a digest of what the collection should hold (every id and its metadata,
plus the embedder) is kept in the collection's own metadata. The next pass computes the digest
from the database: when it matches and the collection holds as many entries, nothing can have
changed and the collection's entries are not read at all. A deleted, recreated or different
chroma store has no (or another) digest, and a partly emptied one fails the count: those get
the full comparison. The digest is removed before the collection is modified, so a pass that
stops half-way never leaves a digest that vouches for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clausewatch.storage.models.archive import Clause, Document, Version
from clausewatch.vectorstore.embeddings import Embedder
from clausewatch.vectorstore.store import Metadata, VectorStore, open_store

log = logging.getLogger(__name__)

PROVISIONS = "provisions"
EMBED_BATCH = 256
DIGEST_KEY = "clausewatch_index_digest"

Progress = Callable[[int, int], None]  # (embedded so far, to embed)


@dataclass
class IndexReport:
    embedded: int  # new or changed texts embedded
    unchanged: int  # already indexed with the same text
    removed: int  # no longer in any current version
    total: int  # entries in the collection afterwards
    metadata_updated: int = 0  # unchanged texts whose metadata changed (no re-embedding)


@runtime_checkable
class MarkedStore(Protocol):
    """A store that keeps small strings in its collection's metadata (ChromaVectorStore)."""

    def get_marker(self, key: str) -> str | None: ...

    def set_marker(self, key: str, value: str | None) -> bool: ...


@dataclass
class _Entry:
    id: str
    text: str
    metadata: Metadata


def provision_id(platform: str, doc_type: str, text: str) -> str:
    """The content-hash id of a clause text within one platform's document type."""
    return hashlib.sha256(f"{platform}|{doc_type}|{text}".encode()).hexdigest()[:40]


def _unix(value: Any) -> int:
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def current_entries(session: Session) -> dict[str, _Entry]:
    """What the collection should hold: one entry per distinct clause text per document.

    One query over the newest version of every document (as ``archive.store.latest_versions``)
    and its clauses, in (platform, doc_type, position) order, reading columns, not objects.
    """
    newest = (
        select(Version.document_id, func.max(Version.version_date).label("d"))
        .group_by(Version.document_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Document.platform,
            Document.doc_type,
            Version.id,
            Version.version_date,
            Clause.text,
            Clause.kind,
            Clause.path,
            Clause.uid,
            Clause.position,
            Clause.categories,
        )
        .select_from(Version)
        .join(
            newest,
            (Version.document_id == newest.c.document_id) & (Version.version_date == newest.c.d),
        )
        .join(Document, Document.id == Version.document_id)
        .join(Clause, Clause.version_id == Version.id)
        .where(Clause.kind != "heading")
        .order_by(Document.platform, Document.doc_type, Clause.position)
    )
    entries: dict[str, _Entry] = {}
    dates: dict[int, int] = {}
    for platform, doc_type, version_id, version_date, raw, kind, path, uid, position, cats in rows:
        text = raw.strip()
        if not text:
            continue
        pid = provision_id(platform, doc_type, text)
        if pid in entries:  # the same text twice in one document: index it once
            continue
        if version_id not in dates:
            dates[version_id] = _unix(version_date)
        entries[pid] = _Entry(
            id=pid,
            text=text,
            metadata={
                "kind": "clause",
                "platform": platform,
                "doc_type": doc_type,
                "version_id": version_id,
                "version_date": dates[version_id],
                "path": " > ".join(path or []),
                "clause_uid": uid,
                "position": position,
                "clause_kind": kind,
                "categories": " | ".join(cats or []),
            },
        )
    return entries


def entries_digest(entries: dict[str, _Entry], embedder: Embedder) -> str:
    """A digest of what the collection should hold: ids (content hashes), metadata, embedder."""
    digest = hashlib.sha256(f"{embedder.name}|{embedder.dim}\n".encode())
    for pid in sorted(entries):
        meta = sorted(entries[pid].metadata.items())
        digest.update(f"{pid}\t{meta!r}\n".encode())
    return digest.hexdigest()


def index_provisions(
    session: Session,
    *,
    store: VectorStore | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Bring ``provisions`` in line with the current versions; embed only new text."""
    store = store or open_store(PROVISIONS)
    wanted = current_entries(session)
    digest = entries_digest(wanted, store.embedder)
    marked = store if isinstance(store, MarkedStore) else None
    held = marked.get_marker(DIGEST_KEY) if marked is not None else None
    if held == digest:
        total = store.count()
        if total == len(wanted):
            if progress:
                progress(0, 0)
            return IndexReport(embedded=0, unchanged=len(wanted), removed=0, total=total)
        log.info("index digest matches but the collection holds %d of %d", total, len(wanted))
    if marked is not None and held is not None:
        marked.set_marker(DIGEST_KEY, None)

    existing = {r.id: r.metadata for r in store.get(with_text=False)}

    stale = [i for i in existing if i not in wanted]
    store.delete(stale)

    todo = [e for i, e in wanted.items() if i not in existing]
    changed_meta = [e for i, e in wanted.items() if i in existing and existing[i] != e.metadata]
    if changed_meta:
        store.update_metadata([e.id for e in changed_meta], [e.metadata for e in changed_meta])

    done = 0
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start : start + EMBED_BATCH]
        store.upsert([e.id for e in batch], [e.text for e in batch], [e.metadata for e in batch])
        done += len(batch)
        if progress:
            progress(done, len(todo))
    total = store.count()
    if marked is not None and total == len(wanted):
        marked.set_marker(DIGEST_KEY, digest)
    return IndexReport(
        embedded=len(todo),
        unchanged=len(wanted) - len(todo),
        removed=len(stale),
        total=total,
        metadata_updated=len(changed_meta),
    )
