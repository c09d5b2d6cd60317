"""Documents, raw snapshots, fetch attempts, versions, clauses and clause-level changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clausewatch.schemas.vocabulary import ChangeKind
from clausewatch.storage.models.base import Base, enum_type, one_of, utcnow


class Document(Base):
    """A tracked document: one platform's document of one type."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("platform", "doc_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(100))
    doc_type: Mapped[str] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[Version]] = relationship(
        back_populates="document", order_by="Version.version_date"
    )


class Snapshot(Base):
    """A raw fetched body, stored on disk under its sha256 (content-addressed)."""

    __tablename__ = "snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchAttempt(Base):
    """Every fetch of a document: ok (new version), unchanged, not-modified, suspect (a
    drastic change held until a later fetch brings it again) or failed (walls included)."""

    __tablename__ = "fetch_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))  # new|unchanged|not_modified|suspect|failed
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    http_status: Mapped[int | None] = mapped_column(default=None)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    etag: Mapped[str | None] = mapped_column(Text, default=None)
    last_modified: Mapped[str | None] = mapped_column(Text, default=None)
    # What the snapshot normalised to, and under which settings (archive.normalize.
    # normalisation_key): the next fetch of the same bytes with the same key and the same
    # latest version is unchanged without normalising again (migration 0006).
    normalise_key: Mapped[str | None] = mapped_column(String(64), default=None)
    text_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # The whole body received (migration 0010). A failed attempt's snapshot is the body only
    # when it is at most archive.snapshots.DIAGNOSTIC_BYTES (else its first that many bytes):
    # body_sha256 == snapshot_sha256 says it is whole.
    body_size: Mapped[int | None] = mapped_column(Integer, default=None)
    body_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class Version(Base):
    """A distinct normalised text of a document, dated."""

    __tablename__ = "versions"
    # A text may come back (A -> B -> A is a real change), so text_sha256 is not unique per
    # document; the date is (migration 0002).
    __table_args__ = (
        UniqueConstraint("document_id", "version_date", name="uq_versions_document_date"),
        Index("ix_versions_document_text", "document_id", "text_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version_date: Mapped[datetime] = mapped_column(index=True)
    text_sha256: Mapped[str] = mapped_column(String(64))
    markdown: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("snapshots.sha256"), default=None
    )
    source: Mapped[str] = mapped_column(String(20), default="fetch")  # fetch | import
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="version", order_by="Clause.position", cascade="all, delete-orphan"
    )


class Clause(Base):
    """One clause of one version. ``uid`` is the clause's identity across versions."""

    __tablename__ = "clauses"
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        Index("ix_clauses_uid", "uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(64))
    path: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="paragraph", server_default="paragraph")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    version: Mapped[Version] = relationship(back_populates="clauses")


class Change(Base):
    """One clause-level change between two consecutive versions of a document."""

    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("new_version_id", "old_clause_id", "new_clause_id"),
        one_of("kind", ChangeKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    old_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), default=None)
    new_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(enum_type(ChangeKind, 20))
    clause_uid: Mapped[str] = mapped_column(String(64), index=True)
    old_clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"), default=None)
    new_clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"), default=None)
    similarity: Mapped[float | None] = mapped_column(default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # word diff etc.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
