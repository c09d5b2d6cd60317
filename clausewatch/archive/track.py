"""Fetch a declared source once and record what happened.

``track_source`` is the unit of work the monitoring flow wraps in a task: it never raises for
a per-document problem; it records a ``fetch_attempts`` row and returns a ``TrackOutcome``.
A failed fetch never touches existing versions.

Raw bytes identical to the last successful fetch's, under the same normalisation key
(normaliser, selectors, content type, location), while that fetch's text is still the
latest version's, are recorded as unchanged without being normalised again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.archive import parts
from clausewatch.archive.drastic import drastic_change
from clausewatch.archive.fetch import Fetcher, FetchResult
from clausewatch.archive.normalize import normalise_markdown
from clausewatch.archive.page import page_markdown, page_normalisation_key
from clausewatch.archive.snapshots import (
    KeptBody,
    keep_diagnostic,
    read_snapshot,
    sha256_hex,
    store_snapshot,
)
from clausewatch.archive.store import (
    get_or_create_document,
    kind_counts,
    latest_version,
    record_version,
    text_sha256,
    version_changes,
    version_clauses,
)
from clausewatch.core.errors import ClausewatchError
from clausewatch.schemas.sources import SourceDecl, TrackOutcome, TrackStatus
from clausewatch.storage.models.archive import Document, FetchAttempt, Snapshot, Version
from clausewatch.storage.models.base import utcnow

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
SessionsArg = Session | SessionFactory | None


@dataclass(frozen=True)
class _Previous:
    document_id: int
    url_unchanged: bool
    etag: str | None
    last_modified: str | None
    snapshot_sha256: str | None
    content_type: str
    normalise_key: str | None = None  # the key that snapshot was normalised under
    text_sha256: str | None = None  # and the normalised text's hash


@contextmanager
def _transaction(sessions: SessionsArg) -> Iterator[Session]:
    """A unit of work: a savepoint in a given Session, else a committed session."""
    if isinstance(sessions, Session):
        with sessions.begin_nested():
            yield sessions
        return
    if sessions is None:
        from clausewatch.storage.db import session_scope

        with session_scope() as session:
            yield session
        return
    with sessions() as session:
        yield session


def _previous(sessions: SessionsArg, source: SourceDecl) -> _Previous:
    with _transaction(sessions) as session:
        doc = get_or_create_document(session, source.platform, source.doc_type)
        same_url = doc.url == source.url
        doc.url = source.url
        last = session.scalars(
            select(FetchAttempt)
            .where(
                FetchAttempt.document_id == doc.id,
                FetchAttempt.outcome.in_(("new", "unchanged", "not_modified")),
                FetchAttempt.snapshot_sha256.is_not(None),
            )
            .order_by(FetchAttempt.at.desc(), FetchAttempt.id.desc())
            .limit(1)
        ).first()
        content_type = ""
        if last is not None and last.snapshot_sha256:
            snap = session.get(Snapshot, last.snapshot_sha256)
            content_type = snap.content_type if snap is not None else ""
        return _Previous(
            document_id=doc.id,
            url_unchanged=same_url,
            etag=last.etag if last is not None else None,
            last_modified=last.last_modified if last is not None else None,
            snapshot_sha256=last.snapshot_sha256 if last is not None else None,
            content_type=content_type,
            normalise_key=last.normalise_key if last is not None else None,
            text_sha256=last.text_sha256 if last is not None else None,
        )


def _record_failure(
    sessions: SessionsArg,
    source: SourceDecl,
    document_id: int | None,
    reason: str,
    *,
    http_status: int | None = None,
    kept: KeptBody | None = None,
    retryable: bool = False,
    now: datetime | None = None,
    error_body: tuple[bytes, str] | None = None,
) -> TrackOutcome:
    """Record a failed attempt; ``kept``: what was kept of a body that failed to normalise;
    ``error_body``: (body, content type) an HTTP error came with, kept the same way."""
    if error_body is not None and kept is None:
        try:
            with _transaction(sessions) as session:
                kept = keep_diagnostic(session, *error_body)
        except Exception:  # a diagnosis only: the failure is still recorded
            log.exception("could not keep the error body of %s", source.key)
    snapshot_sha = kept.sha256 if kept is not None else None
    try:
        with _transaction(sessions) as session:
            if document_id is None:
                document_id = get_or_create_document(session, source.platform, source.doc_type).id
            session.add(
                FetchAttempt(
                    document_id=document_id,
                    at=now or utcnow(),
                    outcome="failed",
                    reason=reason[:2000],
                    http_status=http_status,
                    snapshot_sha256=snapshot_sha,
                    body_size=kept.size if kept is not None else None,
                    body_sha256=kept.body_sha256 if kept is not None else None,
                )
            )
    except Exception:  # the database itself is failing: report, do not mask the outcome
        log.exception("could not record the failed fetch of %s", source.key)
    return TrackOutcome(
        platform=source.platform,
        doc_type=source.doc_type,
        url=source.url,
        status="failed",
        reason=reason,
        http_status=http_status,
        snapshot_sha256=snapshot_sha,
        retryable=retryable,
    )


def _error_body(exc: BaseException) -> tuple[bytes, str] | None:
    """The body an HTTP error came with (``archive.fetch.HTTPStatusError`` and its transient
    twin, also when it caused the failure of a part), for diagnosis."""
    for err in (exc, exc.__cause__):
        body = getattr(err, "body", None)
        if isinstance(body, bytes) and body:
            return body, str(getattr(err, "content_type", ""))
    return None


def track_source(
    sessions: SessionsArg,
    source: SourceDecl,
    *,
    fetcher: Fetcher | None = None,
    now: datetime | None = None,
) -> TrackOutcome:
    """Fetch ``source`` once; record a new version if its normalised text changed.

    ``sessions``: an open Session (work runs in savepoints; the caller commits), a factory
    of committing session contexts such as ``storage.db.session_scope``, or None (that one).
    """
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(confine_files=True)
    document_id: int | None = None
    try:
        prev = _previous(sessions, source)
        document_id = prev.document_id
        if source.parts:
            return _record_parts(sessions, source, prev, fetcher, now or utcnow())
        conditional = prev.url_unchanged and prev.snapshot_sha256 is not None and not source.render
        result = fetcher.fetch(
            source.url,
            etag=prev.etag if conditional else None,
            last_modified=prev.last_modified if conditional else None,
            render=source.render,
            wait_for=source.select,
        )
        body = result.body
        content_type = result.content_type
        if result.not_modified:
            assert prev.snapshot_sha256 is not None
            try:
                body = read_snapshot(prev.snapshot_sha256)
                content_type = prev.content_type
            except ClausewatchError:  # snapshot lost on disk: fetch the whole page again
                result = fetcher.fetch(source.url)
                body, content_type = result.body, result.content_type
        return _record(sessions, source, prev, result, body, content_type, now or utcnow())
    except ClausewatchError as exc:
        return _record_failure(
            sessions,
            source,
            document_id,
            str(exc),
            http_status=getattr(exc, "http_status", None),
            retryable=exc.retryable,
            now=now,
            error_body=_error_body(exc),
        )
    except Exception as exc:  # a bug must not stop the other documents; keep the trace
        log.exception("tracking %s failed", source.key)
        return _record_failure(
            sessions,
            source,
            document_id,
            f"internal error: {type(exc).__name__}: {exc}",
            now=now,
        )
    finally:
        if own_fetcher:
            fetcher.close()


def _record_parts(
    sessions: SessionsArg,
    source: SourceDecl,
    prev: _Previous,
    fetcher: Fetcher,
    now: datetime,
) -> TrackOutcome:
    """A document published in parts: every part fetched (else PartError, nothing recorded
    but the failure), each part's raw bytes kept, the manifest recorded as the snapshot.
    When a part fails to normalise, only a bounded part of that part's body is kept."""
    fetched = parts.fetch_parts(fetcher, source.parts)
    manifest = parts.parts_manifest(fetched)
    result = FetchResult(
        url=source.url, status=200, body=manifest, content_type=parts.PARTS_CONTENT_TYPE
    )
    return _record(
        sessions,
        source,
        prev,
        result,
        manifest,
        parts.PARTS_CONTENT_TYPE,
        now,
        key=parts.parts_normalisation_key(fetched),
        convert=lambda: parts.parts_markdown(fetched),
        fetched_parts=fetched,
    )


def _record(
    sessions: SessionsArg,
    source: SourceDecl,
    prev: _Previous,
    result: FetchResult,
    body: bytes,
    content_type: str,
    now: datetime,
    *,
    key: str | None = None,
    convert: Callable[[], str] | None = None,
    fetched_parts: Sequence[parts.FetchedPart] = (),
) -> TrackOutcome:
    """Record one successful fetch. ``key`` and ``convert`` (normalisation key and text)
    default to those of ``body`` under the source's selectors.

    The raw body (and each part's) is kept whole once it normalised; a body that fails to
    normalise keeps only its first ``DIAGNOSTIC_BYTES`` with its size and sha256."""

    def keep_whole(session: Session) -> None:
        if not result.not_modified:
            for item in fetched_parts:
                store_snapshot(session, item.result.body, item.result.content_type)
            store_snapshot(session, body, content_type)

    snapshot_sha = prev.snapshot_sha256 if result.not_modified else sha256_hex(body)
    if key is None:
        key = page_normalisation_key(
            content_type=content_type,
            location=result.url,
            select=source.select,
            remove=source.remove,
        )
    if (
        snapshot_sha is not None
        and snapshot_sha == prev.snapshot_sha256
        and key == prev.normalise_key
        and prev.text_sha256 is not None
    ):
        with _transaction(sessions) as session:
            keep_whole(session)  # the same bytes as before: stored already (unless lost)
        same = _record_same(sessions, source, prev, result, snapshot_sha, key, now)
        if same is not None:
            return same
    try:
        if convert is not None:
            markdown = convert()
        else:
            markdown = page_markdown(
                body,
                content_type=content_type,
                location=result.url,
                select=source.select,
                remove=source.remove,
            )
        text_sha = text_sha256(normalise_markdown(markdown))
    except ClausewatchError as exc:
        failed_body, failed_type = body, content_type
        if isinstance(exc, parts.PartError) and fetched_parts:
            failed = fetched_parts[exc.index - 1].result
            failed_body, failed_type = failed.body, failed.content_type
        with _transaction(sessions) as session:
            kept = keep_diagnostic(session, failed_body, failed_type)
        return _record_failure(
            sessions,
            source,
            prev.document_id,
            str(exc),
            http_status=result.status,
            kept=kept,
            retryable=exc.retryable,
            now=now,
        )
    with _transaction(sessions) as session:
        keep_whole(session)
        doc = get_or_create_document(session, source.platform, source.doc_type, source.url)
        suspect = _unconfirmed_drastic_change(session, doc, markdown, text_sha)
        if suspect is not None:
            attempt = _attempt(doc.id, now, "suspect", result, snapshot_sha, key, text_sha)
            attempt.reason = suspect
            session.add(attempt)
            return TrackOutcome(
                platform=source.platform,
                doc_type=source.doc_type,
                url=source.url,
                status="suspect",
                reason=suspect,
                http_status=result.status,
                snapshot_sha256=snapshot_sha,
            )
        version = record_version(
            session, doc, markdown, now, snapshot_sha=snapshot_sha, source="fetch"
        )
        if version is not None:
            status = "new"
        else:
            status = "not_modified" if result.not_modified else "unchanged"
        session.add(_attempt(doc.id, now, status, result, snapshot_sha, key, text_sha))
        counts = kind_counts(version_changes(session, version)) if version else {}
        return TrackOutcome(
            platform=source.platform,
            doc_type=source.doc_type,
            url=source.url,
            status=status,
            http_status=result.status,
            version_id=version.id if version else None,
            version_date=version.version_date if version else None,
            snapshot_sha256=snapshot_sha,
            **counts,
        )


def _unconfirmed_drastic_change(
    session: Session, doc: Document, markdown: str, text_sha: str
) -> str | None:
    """Why ``markdown`` must wait for a second sighting (a drastic change against the latest
    version that the previous fetch did not already bring), or None to record it now."""
    latest = latest_version(session, doc)
    if latest is None or latest.text_sha256 == text_sha:
        return None
    change = drastic_change([c.text for c in version_clauses(session, latest)], markdown)
    if change is None:
        return None
    previous = session.scalars(
        select(FetchAttempt)
        .where(FetchAttempt.document_id == doc.id, FetchAttempt.outcome != "failed")
        .order_by(FetchAttempt.at.desc(), FetchAttempt.id.desc())
        .limit(1)
    ).first()
    if (
        previous is not None
        and previous.outcome == "suspect"
        and previous.text_sha256 == text_sha
        and previous.at > latest.version_date
    ):
        return None  # seen again: a real drastic change
    return change.describe()


def _attempt(
    document_id: int,
    now: datetime,
    status: str,
    result: FetchResult,
    snapshot_sha: str | None,
    key: str,
    text_sha: str,
) -> FetchAttempt:
    """A successful fetch attempt, with what the skip of an unchanged fetch compares."""
    return FetchAttempt(
        document_id=document_id,
        at=now,
        outcome=status,
        http_status=result.status,
        snapshot_sha256=snapshot_sha,
        etag=result.etag,
        last_modified=result.last_modified,
        normalise_key=key,
        text_sha256=text_sha,
    )


def _record_same(
    sessions: SessionsArg,
    source: SourceDecl,
    prev: _Previous,
    result: FetchResult,
    snapshot_sha: str,
    key: str,
    now: datetime,
) -> TrackOutcome | None:
    """Record an unchanged fetch without normalising: the same bytes under the same key give
    the text ``prev.text_sha256``. None (normalise after all) when that text is no longer
    the latest version's (a version was recorded since, e.g. by an import)."""
    with _transaction(sessions) as session:
        doc = get_or_create_document(session, source.platform, source.doc_type, source.url)
        latest_sha = session.scalars(
            select(Version.text_sha256)
            .where(Version.document_id == doc.id)
            .order_by(Version.version_date.desc(), Version.id.desc())
            .limit(1)
        ).first()
        if latest_sha is None or latest_sha != prev.text_sha256:
            return None
        status: TrackStatus = "not_modified" if result.not_modified else "unchanged"
        session.add(_attempt(doc.id, now, status, result, snapshot_sha, key, latest_sha))
    return TrackOutcome(
        platform=source.platform,
        doc_type=source.doc_type,
        url=source.url,
        status=status,
        http_status=result.status,
        snapshot_sha256=snapshot_sha,
    )


def track_all(
    sources: Sequence[SourceDecl],
    sessions: SessionsArg = None,
    *,
    on_done: Callable[[TrackOutcome], None] | None = None,
) -> list[TrackOutcome]:
    """Track every source once, sharing one HTTP client; failures never stop the others."""
    outcomes: list[TrackOutcome] = []
    with Fetcher(confine_files=True) as fetcher:
        for source in sources:
            outcome = track_source(sessions, source, fetcher=fetcher)
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    return outcomes
