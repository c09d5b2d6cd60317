"""Retention of what failed fetches kept: ``clausewatch fetches prune``.

A failed fetch keeps at most ``snapshots.DIAGNOSTIC_BYTES`` of its body (attempts recorded
before that kept the whole body, up to the fetch size cap). Pruning drops the kept bytes of
failed attempts older than a cutoff (the file and its ``snapshots`` row) unless a version, a
successful attempt, a newer failed attempt or a parts manifest still refers to them. The
attempt itself stays with its reason, HTTP status and the body's size and sha256.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clausewatch.archive.parts import PARTS_CONTENT_TYPE
from clausewatch.archive.snapshots import delete_snapshot, read_snapshot
from clausewatch.core.errors import ClausewatchError
from clausewatch.storage.models.archive import FetchAttempt, Snapshot, Version
from clausewatch.storage.models.base import utcnow


@dataclass
class PruneReport:
    attempts: int = 0  # failed attempts whose kept body was dropped
    snapshots: int = 0  # snapshot files and rows deleted
    bytes: int = 0  # their total size
    dry_run: bool = False
    files: list[str] = field(default_factory=list)  # sha256 of the files to delete

    def delete_files(self) -> None:
        """Delete the pruned snapshot files: call once the transaction is committed."""
        for sha in self.files:
            delete_snapshot(sha)


def _referenced(session: Session, cutoff: datetime) -> set[str]:
    """Snapshots something other than an old failed attempt refers to."""
    keep: set[str] = set()
    keep.update(s for s in session.scalars(select(Version.snapshot_sha256)) if s)
    keep.update(
        s
        for s in session.scalars(
            select(FetchAttempt.snapshot_sha256).where(
                (FetchAttempt.outcome != "failed") | (FetchAttempt.at >= cutoff)
            )
        )
        if s
    )
    manifests = session.scalars(
        select(Snapshot.sha256).where(Snapshot.content_type == PARTS_CONTENT_TYPE)
    )
    for sha in manifests:
        try:
            entries = json.loads(read_snapshot(sha)).get("parts", [])
        except (ClausewatchError, ValueError, AttributeError):
            continue
        keep.update(e["sha256"] for e in entries if isinstance(e, dict) and "sha256" in e)
    return keep


def prune_failed_bodies(
    session: Session, older_than: timedelta, *, now: datetime | None = None, dry_run: bool = False
) -> PruneReport:
    """Drop what failed attempts older than ``older_than`` kept of their bodies (see module
    docstring). Never commits: commit, then ``report.delete_files()``."""
    cutoff = (now or utcnow()) - older_than
    old = session.scalars(
        select(FetchAttempt).where(
            FetchAttempt.outcome == "failed",
            FetchAttempt.at < cutoff,
            FetchAttempt.snapshot_sha256.is_not(None),
        )
    ).all()
    report = PruneReport(dry_run=dry_run)
    if not old:
        return report
    keep = _referenced(session, cutoff)
    drop = {a.snapshot_sha256 for a in old if a.snapshot_sha256 not in keep}
    drop.discard(None)
    report.attempts = sum(1 for a in old if a.snapshot_sha256 in drop)
    snapshots = {
        s.sha256: s for s in session.scalars(select(Snapshot).where(Snapshot.sha256.in_(drop)))
    }
    report.snapshots = len(snapshots)
    report.bytes = sum(s.size for s in snapshots.values())
    if dry_run:
        return report
    for attempt in old:
        sha = attempt.snapshot_sha256
        if sha in drop and attempt.body_sha256 is None and sha in snapshots:
            # recorded before bodies were bounded: the snapshot was the whole body
            attempt.body_sha256 = sha
            attempt.body_size = snapshots[sha].size
    session.flush()
    shas = sorted(s for s in drop if s is not None)
    session.execute(
        update(FetchAttempt)
        .where(FetchAttempt.snapshot_sha256.in_(shas))
        .values(snapshot_sha256=None)
        .execution_options(synchronize_session=False)
    )
    for snap in snapshots.values():
        session.delete(snap)
    session.flush()
    session.expire_all()
    report.files = shas
    return report
