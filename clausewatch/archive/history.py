"""A document's timeline: its versions with clause and change counts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clausewatch.archive.store import change_counts, clause_counts, document_versions, get_document
from clausewatch.core.errors import InputError
from clausewatch.schemas.sources import DocumentHistory, VersionSummary


def document_history(session: Session, platform: str, doc_type: str) -> DocumentHistory:
    doc = get_document(session, platform, doc_type)
    if doc is None:
        raise InputError(f"no document {platform}/{doc_type} in the archive")
    versions = document_versions(session, doc)
    ids = [v.id for v in versions]
    changes = change_counts(session, ids)
    clauses = clause_counts(session, ids)
    return DocumentHistory(
        platform=doc.platform,
        doc_type=doc.doc_type,
        url=doc.url,
        versions=[
            VersionSummary(
                id=v.id,
                date=v.version_date,
                source=v.source,
                text_sha256=v.text_sha256,
                snapshot_sha256=v.snapshot_sha256,
                clauses=clauses.get(v.id, 0),
                **changes.get(v.id, {}),
            )
            for v in versions
        ],
    )
