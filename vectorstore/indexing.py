"""Incremental indexing of every clause of every current version into ``provisions``.

Headings on their own (clause kind ``heading``) are not indexed: they are not provisions.

Ids are content hashes (sha256 of platform|doc_type|text), so a clause whose text did not
change keeps its vector: re-indexing an unchanged archive embeds nothing. Clauses that left
the current version are deleted from the collection; metadata that changed (a newer version
date, categories assigned later) is updated in place without re-embedding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archive.store import latest_versions, version_clauses
from vectorstore.store import Metadata, VectorStore, open_store

PROVISIONS = "provisions"
EMBED_BATCH = 256

Progress = Callable[[int, int], None]  # (embedded so far, to embed)


@dataclass
class IndexReport:
    embedded: int  # new or changed texts embedded
    unchanged: int  # already indexed with the same text
    removed: int  # no longer in any current version
    total: int  # entries in the collection afterwards
    metadata_updated: int = 0  # unchanged texts whose metadata changed (no re-embedding)


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
    """What the collection should hold: one entry per distinct clause text per document."""
    entries: dict[str, _Entry] = {}
    for version in latest_versions(session):
        doc = version.document
        for clause in version_clauses(session, version):
            text = clause.text.strip()
            if not text or clause.kind == "heading":
                continue
            pid = provision_id(doc.platform, doc.doc_type, text)
            if pid in entries:  # the same text twice in one document: index it once
                continue
            entries[pid] = _Entry(
                id=pid,
                text=text,
                metadata={
                    "kind": "clause",
                    "platform": doc.platform,
                    "doc_type": doc.doc_type,
                    "version_id": version.id,
                    "version_date": _unix(version.version_date),
                    "path": " > ".join(clause.path or []),
                    "clause_uid": clause.uid,
                    "position": clause.position,
                    "clause_kind": clause.kind,
                    "categories": " | ".join(clause.categories or []),
                },
            )
    return entries


def index_provisions(
    session: Session,
    *,
    store: VectorStore | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Bring ``provisions`` in line with the current versions; embed only new text."""
    store = store or open_store(PROVISIONS)
    wanted = current_entries(session)
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
    return IndexReport(
        embedded=len(todo),
        unchanged=len(wanted) - len(todo),
        removed=len(stale),
        total=store.count(),
        metadata_updated=len(changed_meta),
    )
