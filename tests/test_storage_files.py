"""Shared storage: raw snapshots under a storage URL, on a real S3 API server (moto's, over
HTTP); a second workspace (another machine: its own folders, the same database and storage
URLs) reads what the first one stored; failures say whether they are worth retrying."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server

from clausewatch.archive.snapshots import read_snapshot, snapshot_key, write_blob
from clausewatch.archive.track import track_source
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import forget_engines, session_scope
from clausewatch.storage.files import StorageError, open_store
from tests.s3_support import (  # noqa: F401  (fixtures)
    free_port,
    s3_objects,
    s3_server,
    s3_storage,
    use_s3,
)

PAGE = b"""<html><body><nav>Menu</nav><article><h1>Acme Terms</h1>
<h2>Changes</h2><p>We may change these terms.</p>
<h2>Data</h2><p>We keep logs for 30 days.</p></article>
<section><h2>Contact</h2><p>Write to legal@acme.example.</p></section></body></html>"""


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_TIMEOUT_S", "5")
    reset_settings()


def _machine(monkeypatch: pytest.MonkeyPatch, home: Path, database_url: str) -> None:
    """Switch this process to another machine's workspace (same database URL)."""
    monkeypatch.setenv("CLAUSEWATCH_HOME", str(home))
    monkeypatch.setenv("CLAUSEWATCH_DATABASE_URL", database_url)
    forget_engines()
    reset_settings()


def test_snapshots_on_s3_are_seen_by_another_machine(
    db_workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    loopback: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_url = os.environ.get("CLAUSEWATCH_DATABASE_URL") or f"sqlite:///{tmp_path / 'db'}"

    def route(handler, n):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"e1"':
            return Reply(304, headers={"ETag": '"e1"'})
        return Reply(200, PAGE, {"Content-Type": "text/html", "ETag": '"e1"'})

    with http_server() as srv:
        srv.routes["/terms"] = route
        src = SourceDecl(
            platform="acme", doc_type="terms_of_service", url=srv.url("/terms"), select=["article"]
        )
        _machine(monkeypatch, tmp_path / "machine-a", database_url)
        first = track_source(session_scope, src, now=datetime(2025, 1, 1))
        assert first.status == "new", first.reason
        sha = first.snapshot_sha256
        assert sha is not None
        # the raw page is in the bucket, content-addressed, and nothing on machine A's disk
        assert s3_objects(s3_server, s3_storage)[f"snapshots/{snapshot_key(sha)}"] == PAGE
        assert not (tmp_path / "machine-a" / "snapshots").exists()

        # machine B: its own workspace; the server answers 304, so B must read A's snapshot
        # from the shared storage (a missing snapshot would make it fetch the page again)
        _machine(monkeypatch, tmp_path / "machine-b", database_url)
        srv.requests.clear()
        wider = src.model_copy(update={"select": []})
        second = track_source(session_scope, wider, now=datetime(2025, 1, 2))
        assert second.status == "new", second.reason
        assert [r.get("if-none-match") for r in srv.requests] == ['"e1"']  # no refetch
        assert read_snapshot(sha) == PAGE
    with session_scope() as session:
        from clausewatch.storage.models.archive import Version

        version = session.get(Version, second.version_id)
        assert version is not None and "legal@acme.example" in version.markdown  # A's bytes


def test_track_the_sample_into_s3(
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
) -> None:
    from sqlalchemy import select
    from typer.testing import CliRunner

    from clausewatch.cli import app
    from clausewatch.storage.models.archive import Snapshot

    result = CliRunner().invoke(app, ["track"])
    assert result.exit_code == 0, result.output
    with session_scope() as session:
        shas = set(session.scalars(select(Snapshot.sha256)))
    stored = s3_objects(s3_server, s3_storage)
    assert len(shas) >= 6
    assert {k.rsplit("/", 1)[-1] for k in stored if k.startswith("snapshots/")} == shas
    for sha in shas:
        assert read_snapshot(sha) == stored[f"snapshots/{snapshot_key(sha)}"]
    assert not (workspace / "snapshots").exists()


def test_local_storage_url_keeps_the_layout(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = write_blob(b"policy text")
    assert (workspace / "snapshots" / sha[:2] / sha[2:4] / sha).read_bytes() == b"policy text"
    shared = tmp_path / "nfs"
    monkeypatch.setenv("CLAUSEWATCH_STORAGE_URL", f"file://{shared}")
    reset_settings()
    sha = write_blob(b"other text")
    assert (shared / "snapshots" / sha[:2] / sha[2:4] / sha).read_bytes() == b"other text"
    assert read_snapshot(sha) == b"other text"


def test_store_errors_say_whether_to_retry(
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the bucket does not exist: retrying cannot help
    with pytest.raises(StorageError) as missing:
        open_store("s3://no-such-bucket-cw/x").write("a", b"data")
    assert not missing.value.retryable and "no-such-bucket-cw" in str(missing.value)

    # nothing listens at the endpoint: the network may come back
    use_s3(monkeypatch, f"http://127.0.0.1:{free_port()}", s3_storage)
    with pytest.raises(StorageError) as down:
        open_store(s3_storage).write("a", b"data")
    assert down.value.retryable, down.value
    assert "clausewatch-test-secret" not in str(down.value)


def test_tracking_records_an_unreachable_storage_as_retryable(
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    loopback: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_s3(monkeypatch, f"http://127.0.0.1:{free_port()}", s3_storage)
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    reset_settings()
    with http_server() as srv:
        srv.routes["/p"] = Reply(
            200, b"# Acme\n\nWe sell nothing.\n", {"Content-Type": "text/markdown"}
        )
        out = track_source(
            session_scope, SourceDecl(platform="acme", doc_type="privacy_policy", url=srv.url("/p"))
        )
    assert out.status == "failed" and out.retryable, out
    assert "storage" in (out.reason or "")


def test_init_checks_the_storage(
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from clausewatch.cli import app

    ok = CliRunner().invoke(app, ["init"])
    assert ok.exit_code == 0, ok.output
    assert f"storage ready: {s3_storage}" in ok.output
    assert s3_objects(s3_server, s3_storage) == {}  # the probe was deleted

    use_s3(monkeypatch, s3_server, "s3://no-such-bucket-cw/x")
    bad = CliRunner().invoke(app, ["init"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, StorageError) and not bad.exception.retryable
