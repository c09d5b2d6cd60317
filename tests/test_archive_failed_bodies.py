"""A failed fetch keeps a bounded part of its body (first 64 KB, size, sha256), and old
kept bodies can be pruned."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from clausewatch.archive.retention import prune_failed_bodies
from clausewatch.archive.snapshots import DIAGNOSTIC_BYTES, snapshot_path, store_snapshot
from clausewatch.archive.store import get_or_create_document, record_version
from clausewatch.archive.track import track_source
from clausewatch.cli import app
from clausewatch.core.settings import get_settings
from clausewatch.schemas.sources import SourceDecl, SourcePart
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import FetchAttempt, Snapshot

JUNK = b"\x00\x01\x02\xff" * 300_000  # 1.2 MB of binary garbage: fails to normalise
POLICY = "# Acme Privacy Policy\n\nWe collect your e-mail address.\n"


def snapshot_bytes() -> int:
    root = get_settings().snapshots_dir
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def only_attempt() -> FetchAttempt:
    with session_scope() as s:
        attempt = s.scalars(select(FetchAttempt)).one()
        s.expunge(attempt)
        return attempt


def test_failed_fetch_keeps_the_first_64_kb_size_and_sha(workspace: Path, tmp_path: Path) -> None:
    junk = tmp_path / "policy.html"
    junk.write_bytes(JUNK)
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=junk.as_uri())
    outcome = track_source(session_scope, source)
    assert outcome.status == "failed"
    attempt = only_attempt()
    assert attempt.body_size == len(JUNK)
    assert attempt.body_sha256 == hashlib.sha256(JUNK).hexdigest()
    assert attempt.snapshot_sha256 == outcome.snapshot_sha256
    assert attempt.snapshot_sha256 == hashlib.sha256(JUNK[:DIAGNOSTIC_BYTES]).hexdigest()
    assert snapshot_path(attempt.snapshot_sha256).read_bytes() == JUNK[:DIAGNOSTIC_BYTES]
    assert snapshot_bytes() <= DIAGNOSTIC_BYTES  # not 1.2 MB
    # a second, different failure adds at most another 64 KB
    junk.write_bytes(JUNK + b"\x00")
    assert track_source(session_scope, source).status == "failed"
    assert snapshot_bytes() <= 2 * DIAGNOSTIC_BYTES


def test_a_small_failed_body_is_kept_whole(workspace: Path, tmp_path: Path) -> None:
    small = JUNK[:1000]
    junk = tmp_path / "policy.html"
    junk.write_bytes(small)
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=junk.as_uri())
    assert track_source(session_scope, source).status == "failed"
    attempt = only_attempt()
    assert attempt.body_sha256 == attempt.snapshot_sha256 == hashlib.sha256(small).hexdigest()
    assert attempt.body_size == 1000


def test_a_failing_part_keeps_only_its_bounded_body(workspace: Path, tmp_path: Path) -> None:
    good = tmp_path / "part1.md"
    good.write_text(POLICY, encoding="utf-8")
    bad = tmp_path / "part2.html"
    bad.write_bytes(JUNK)
    source = SourceDecl(
        platform="acme",
        doc_type="privacy_policy",
        url=good.as_uri(),
        parts=[SourcePart(url=good.as_uri()), SourcePart(url=bad.as_uri())],
    )
    outcome = track_source(session_scope, source)
    assert outcome.status == "failed" and "part 2/2" in (outcome.reason or "")
    attempt = only_attempt()
    assert attempt.body_size == len(JUNK)
    with session_scope() as s:
        sizes = [snap.size for snap in s.scalars(select(Snapshot))]
    assert sizes == [DIAGNOSTIC_BYTES]
    assert snapshot_bytes() <= DIAGNOSTIC_BYTES


def test_successful_fetch_still_keeps_the_whole_body(workspace: Path, tmp_path: Path) -> None:
    page = tmp_path / "policy.md"
    body = (POLICY + "\n" + "We keep logs for 30 days. " * 5000).encode()
    assert len(body) > DIAGNOSTIC_BYTES
    page.write_bytes(body)
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=page.as_uri())
    outcome = track_source(session_scope, source)
    assert outcome.status == "new" and outcome.snapshot_sha256
    assert snapshot_path(outcome.snapshot_sha256).read_bytes() == body


def old_failure(s, document_id: int, body: bytes, at: datetime) -> str:  # type: ignore[no-untyped-def]
    """A failed attempt as recorded before bodies were bounded: the whole body kept."""
    sha = store_snapshot(s, body, "text/html")
    s.add(
        FetchAttempt(
            document_id=document_id, at=at, outcome="failed", reason="junk", snapshot_sha256=sha
        )
    )
    return sha


def test_prune_drops_old_failed_bodies_only(db_workspace: Path) -> None:
    now = datetime(2026, 12, 2)
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "privacy_policy")
        old_junk = old_failure(s, doc.id, JUNK, now - timedelta(days=40))
        recent = old_failure(s, doc.id, JUNK + b"recent", now - timedelta(days=2))
        # an old failure whose body is also a version's snapshot: stays
        shared_body = POLICY.encode()
        shared = old_failure(s, doc.id, shared_body, now - timedelta(days=40))
        record_version(s, doc, POLICY, now - timedelta(days=50), snapshot_sha=shared)
    before = snapshot_bytes()
    runner = CliRunner()
    dry = runner.invoke(app, ["fetches", "prune", "--dry-run", "--older-than-days", "0"])
    assert dry.exit_code == 0, dry.output
    assert "would free" in dry.output and snapshot_bytes() == before
    with session_scope() as s:
        report = prune_failed_bodies(s, timedelta(days=30), now=now)
    report.delete_files()
    assert (report.attempts, report.snapshots, report.bytes) == (1, 1, len(JUNK))
    assert not snapshot_path(old_junk).exists()
    assert snapshot_path(recent).exists() and snapshot_path(shared).exists()
    with session_scope() as s:
        assert s.get(Snapshot, old_junk) is None
        pruned = s.scalars(select(FetchAttempt).where(FetchAttempt.body_sha256 == old_junk)).one()
        assert pruned.snapshot_sha256 is None and pruned.body_size == len(JUNK)
        assert pruned.reason == "junk"
        kept = s.scalars(select(FetchAttempt.snapshot_sha256).where(FetchAttempt.reason == "junk"))
        assert sorted(x for x in kept if x) == sorted([recent, shared])
    assert snapshot_bytes() == before - len(JUNK)
