"""The archive in the database: documents, dated versions, their clauses and changes.

Other stages (vector store, flows, drafting, publication) read through these functions.
Every function takes an open Session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clausewatch.archive.normalize import normalise_markdown
from clausewatch.clauses.align import align
from clausewatch.clauses.segment import segment
from clausewatch.core.errors import InputError
from clausewatch.schemas.clauses import ClauseChange, ClauseSeg
from clausewatch.schemas.vocabulary import ChangeKind
from clausewatch.storage.models.archive import Change, Clause, Document, Version


class OutOfOrderError(InputError):
    """A version dated before the latest recorded version of its document."""


REPEATED_VERSION = "clausewatch: repeated version"


def is_repeated_version(exc: BaseException) -> bool:
    """Whether a database error is the refusal of a repeated version (trigger of 0008)."""
    return REPEATED_VERSION in str(exc)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- documents ------------------------------------------------------------------------------


def get_document(session: Session, platform: str, doc_type: str) -> Document | None:
    return session.scalars(
        select(Document).where(Document.platform == platform, Document.doc_type == doc_type)
    ).first()


def get_or_create_document(
    session: Session, platform: str, doc_type: str, url: str | None = None
) -> Document:
    """The document for (platform, doc_type); created if new; ``url`` updated when given."""
    doc = get_document(session, platform, doc_type)
    if doc is None:
        doc = Document(platform=platform, doc_type=doc_type, url=url)
        session.add(doc)
        session.flush()
    elif url and doc.url != url:
        doc.url = url
    return doc


# -- versions -------------------------------------------------------------------------------


def document_versions(session: Session, document: Document) -> list[Version]:
    """Versions of ``document``, oldest first."""
    return list(
        session.scalars(
            select(Version)
            .where(Version.document_id == document.id)
            .order_by(Version.version_date, Version.id)
        )
    )


def latest_version(session: Session, document: Document) -> Version | None:
    return session.scalars(
        select(Version)
        .where(Version.document_id == document.id)
        .order_by(Version.version_date.desc(), Version.id.desc())
        .limit(1)
    ).first()


def latest_versions(session: Session) -> list[Version]:
    """The newest version of every document (ordered by platform, doc_type)."""
    newest = (
        select(Version.document_id, func.max(Version.version_date).label("d"))
        .group_by(Version.document_id)
        .subquery()
    )
    rows = session.scalars(
        select(Version)
        .join(
            newest,
            (Version.document_id == newest.c.document_id) & (Version.version_date == newest.c.d),
        )
        .join(Document, Document.id == Version.document_id)
        .order_by(Document.platform, Document.doc_type)
    )
    return list(rows)


def version_clauses(session: Session, version: Version) -> list[Clause]:
    return list(
        session.scalars(
            select(Clause).where(Clause.version_id == version.id).order_by(Clause.position)
        )
    )


def version_changes(session: Session, version: Version) -> list[Change]:
    """Changes from the previous version to ``version`` (none for a first version)."""
    return list(
        session.scalars(
            select(Change).where(Change.new_version_id == version.id).order_by(Change.id)
        )
    )


def change_counts(session: Session, version_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per version id: how many clauses were added / removed / modified / moved."""
    ids = list(version_ids)
    out: dict[int, dict[str, int]] = {vid: {k.value: 0 for k in ChangeKind} for vid in ids}
    if not ids:
        return out
    rows = session.execute(
        select(Change.new_version_id, Change.kind, func.count())
        .where(Change.new_version_id.in_(ids))
        .group_by(Change.new_version_id, Change.kind)
    )
    for vid, kind, n in rows:
        out[vid][kind] = int(n)
    return out


def clause_counts(session: Session, version_ids: Iterable[int]) -> dict[int, int]:
    ids = list(version_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Clause.version_id, func.count())
        .where(Clause.version_id.in_(ids))
        .group_by(Clause.version_id)
    )
    counts = {vid: 0 for vid in ids}
    counts.update({vid: int(n) for vid, n in rows})
    return counts


def to_segs(clauses: Sequence[Clause]) -> list[ClauseSeg]:
    """Stored clauses back to ``ClauseSeg`` (ids are the stable uids)."""
    return [
        ClauseSeg(
            id=c.uid,
            path=list(c.path or []),
            text=c.text,
            tokens=c.tokens,
            position=c.position,
            kind=c.kind,
        )
        for c in clauses
    ]


# -- recording ------------------------------------------------------------------------------


def record_version(
    session: Session,
    document: Document,
    markdown: str,
    version_date: datetime,
    *,
    snapshot_sha: str | None = None,
    source: str = "fetch",
) -> Version | None:
    """Record ``markdown`` as a new version of ``document`` if its normalised text changed.

    Returns None when nothing was added: the text equals the latest version's, or this exact
    (date, text) is already recorded (re-import), or the database refused it as a repeat of
    its neighbour (a concurrent writer got there first; the trigger of migration 0008
    enforces the rule where the row is written). A date at or before the latest version's
    with a different text raises OutOfOrderError: history is append-only, so clause ids and
    changes already handed to later stages never shift. The new version is segmented,
    aligned with the latest version, and its clauses and changes are stored.
    """
    text = normalise_markdown(markdown)
    sha = text_sha256(text)
    latest = latest_version(session, document)
    if latest is not None:
        if latest.text_sha256 == sha:
            return None
        if version_date <= latest.version_date:
            same = session.scalars(
                select(Version.id).where(
                    Version.document_id == document.id,
                    Version.version_date == version_date,
                    Version.text_sha256 == sha,
                )
            ).first()
            if same is not None:
                return None
            raise OutOfOrderError(
                f"{document.platform}/{document.doc_type}: a version dated "
                f"{version_date:%Y-%m-%d %H:%M} is not after the latest recorded version "
                f"({latest.version_date:%Y-%m-%d %H:%M}); history is append-only"
            )
    segs = segment(text)
    changes: list[ClauseChange] = []
    old_rows: list[Clause] = []
    if latest is not None:
        old_rows = version_clauses(session, latest)
        alignment = align(to_segs(old_rows), segs)
        segs = list(alignment.clauses)
        changes = list(alignment.changes)

    version = Version(
        document_id=document.id,
        version_date=version_date,
        text_sha256=sha,
        markdown=text,
        snapshot_sha256=snapshot_sha,
        source=source,
    )
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError as exc:
        if not is_repeated_version(exc):
            raise
        return None  # another writer recorded this text just before us (migration 0008)

    new_ids = _insert_clauses(session, version.id, segs)
    _insert_changes(session, document, latest, version, changes, old_rows, segs, new_ids)
    return version


def _insert_clauses(session: Session, version_id: int, segs: list[ClauseSeg]) -> list[int]:
    if not segs:
        return []
    rows = [
        {
            "version_id": version_id,
            "position": i,
            "uid": seg.id,
            "path": list(seg.path),
            "text": seg.text,
            "text_sha256": text_sha256(seg.text),
            "tokens": seg.tokens,
            "kind": seg.kind,
            "categories": [],
        }
        for i, seg in enumerate(segs)
    ]
    result = session.execute(
        insert(Clause).returning(Clause.id, Clause.position, sort_by_parameter_order=True), rows
    )
    by_position = {int(pos): int(cid) for cid, pos in result}
    return [by_position[i] for i in range(len(segs))]


def _insert_changes(
    session: Session,
    document: Document,
    old_version: Version | None,
    version: Version,
    changes: list[ClauseChange],
    old_rows: list[Clause],
    new_segs: list[ClauseSeg],
    new_ids: list[int],
) -> None:
    if not changes:
        return
    old_by_pos = {c.position: c.id for c in old_rows}
    old_by_uid: dict[str, int] = {}
    for c in old_rows:
        old_by_uid.setdefault(c.uid, c.id)
    new_by_pos = {seg.position: new_ids[i] for i, seg in enumerate(new_segs)}
    new_by_uid: dict[str, int] = {}
    for i, seg in enumerate(new_segs):
        new_by_uid.setdefault(seg.id, new_ids[i])

    rows = []
    seen: set[tuple[int | None, int | None]] = set()
    for ch in changes:
        old_id = new_id = None
        if ch.old is not None:
            old_id = old_by_pos.get(ch.old_position) if ch.old_position is not None else None
            old_id = old_id or old_by_uid.get(ch.old.id)
        if ch.new is not None:
            new_id = new_by_pos.get(ch.new_position) if ch.new_position is not None else None
            new_id = new_id or new_by_uid.get(ch.new.id)
        if (old_id, new_id) in seen and old_id is not None and new_id is not None:
            continue
        seen.add((old_id, new_id))
        ref = ch.new or ch.old
        assert ref is not None
        detail = ch.model_dump(mode="json", exclude={"kind", "old", "new", "similarity"})
        if ch.old is not None:
            detail["old_path"] = list(ch.old.path)
        if ch.new is not None:
            detail["new_path"] = list(ch.new.path)
        rows.append(
            {
                "document_id": document.id,
                "old_version_id": old_version.id if old_version is not None else None,
                "new_version_id": version.id,
                "kind": ch.kind,
                "clause_uid": ref.id,
                "old_clause_id": old_id,
                "new_clause_id": new_id,
                "similarity": ch.similarity,
                "detail": detail,
            }
        )
    session.execute(insert(Change), rows)


def kind_counts(changes: Iterable[Change | ClauseChange]) -> dict[str, int]:
    counted = Counter(c.kind for c in changes)
    return {kind: counted.get(kind, 0) for kind in ChangeKind}


def recent_version_ids(session: Session, per_document: int) -> list[int]:
    """Ids of each document's ``per_document`` newest versions."""
    rows = session.execute(
        select(Version.id, Version.document_id).order_by(
            Version.document_id, Version.version_date.desc()
        )
    ).all()
    kept: dict[int, int] = {}
    ids: list[int] = []
    for version_id, document_id in rows:
        if kept.get(document_id, 0) < per_document:
            kept[document_id] = kept.get(document_id, 0) + 1
            ids.append(version_id)
    return ids
