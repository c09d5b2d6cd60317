"""Versions, clauses and changes in the database; import; history; tracking."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server
from sqlalchemy import func, select
from typer.testing import CliRunner

from clausewatch.archive.importer import import_tree
from clausewatch.archive.snapshots import snapshot_path
from clausewatch.archive.store import (
    OutOfOrderError,
    change_counts,
    document_versions,
    get_or_create_document,
    latest_version,
    latest_versions,
    record_version,
    version_changes,
    version_clauses,
)
from clausewatch.archive.track import track_source
from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import Change, Clause, FetchAttempt, Snapshot, Version
from tests.conftest import POLICIES

V1 = """# Acme Privacy Policy

Last updated: January 1, 2025

## Collection

We collect your e-mail address.

We collect usage data.

## Retention

We keep logs for 30 days.
"""
V2 = V1.replace("30 days", "90 days").replace(
    "We collect usage data.\n", "We collect usage data.\n\nWe collect voice recordings.\n"
)


def counts() -> dict[str, int]:
    with session_scope() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Version, Clause, Change, Snapshot, FetchAttempt)
        }


def test_record_version_clauses_changes_idempotent(db_workspace: Path) -> None:
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "privacy_policy")
        v1 = record_version(s, doc, V1, datetime(2025, 1, 1), source="import")
        assert v1 is not None and version_changes(s, v1) == []
        assert record_version(s, doc, V1 + "\n\n", datetime(2025, 2, 1)) is None
        v2 = record_version(s, doc, V2, datetime(2025, 3, 1))
        assert v2 is not None
        changes = version_changes(s, v2)
        kinds = sorted(c.kind for c in changes)
        assert kinds == ["added", "modified"]
        modified = next(c for c in changes if c.kind == "modified")
        assert modified.old_clause_id is not None and modified.new_clause_id is not None
        old_clause = s.get(Clause, modified.old_clause_id)
        new_clause = s.get(Clause, modified.new_clause_id)
        assert old_clause is not None and new_clause is not None
        assert old_clause.version_id == v1.id and new_clause.version_id == v2.id
        assert "90 days" in new_clause.text and new_clause.uid == old_clause.uid
        assert new_clause.path == ["Acme Privacy Policy", "Retention"]
        assert modified.similarity is not None and modified.detail["word_diff"]
        # unchanged clauses keep their stable id
        uids1 = {c.text: c.uid for c in version_clauses(s, v1)}
        uids2 = {c.text: c.uid for c in version_clauses(s, v2)}
        assert uids2["We collect your e-mail address."] == uids1["We collect your e-mail address."]
        assert all(c.tokens > 0 for c in version_clauses(s, v2))
        assert [v.id for v in document_versions(s, doc)] == [v1.id, v2.id]
        assert latest_version(s, doc) == v2
    before = counts()
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "privacy_policy")
        assert record_version(s, doc, V2, datetime(2025, 4, 1)) is None
        assert record_version(s, doc, V1, datetime(2025, 1, 1)) is None  # re-import
    assert counts() == before


def test_revert_is_a_new_version_and_out_of_order_is_rejected(db_workspace: Path) -> None:
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "terms_of_service")
        record_version(s, doc, V1, datetime(2025, 1, 1))
        record_version(s, doc, V2, datetime(2025, 2, 1))
        back = record_version(s, doc, V1, datetime(2025, 3, 1))  # A -> B -> A
        assert back is not None
        assert sorted(c.kind for c in version_changes(s, back)) == ["modified", "removed"]
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "terms_of_service")
        with pytest.raises(OutOfOrderError, match="append-only"):
            record_version(s, doc, V2 + "\nMore.\n", datetime(2024, 12, 1))
        with pytest.raises(OutOfOrderError):
            record_version(s, doc, V2 + "\nMore.\n", datetime(2025, 3, 1))  # same date
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "terms_of_service")
        assert len(document_versions(s, doc)) == 3
        assert [v.version_date.month for v in latest_versions(s)] == [3]


def copy_docs(tmp_path: Path, docs: list[tuple[str, str]], upto: int | None = None) -> Path:
    root = tmp_path / "tree"
    for platform, doc_type in docs:
        files = sorted((POLICIES / platform / doc_type).glob("*.md"))[:upto]
        dest = root / platform / doc_type
        dest.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy(f, dest / f.name)
    return root


@pytest.mark.shared_data
def test_import_real_documents_twice(db_workspace: Path, tmp_path: Path) -> None:
    docs = [("claude-ai", "privacy_policy"), ("cursor", "terms_of_service")]
    root = copy_docs(tmp_path, docs, upto=3)
    (root / "README.md").write_text("not a document", encoding="utf-8")
    (root / "cursor" / "terms_of_service" / "notes.md").write_text("x", encoding="utf-8")
    first = import_tree(root)
    assert (first.documents, first.files, first.added) == (2, 6, 6)
    assert not first.failed and not first.rejected
    assert len(first.ignored) == 1  # notes.md (README.md at the top is not a folder)
    after_first = counts()
    second = import_tree(root)
    assert (second.added, second.unchanged) == (0, 6)
    assert counts() == after_first
    # a later file appends; an older one not yet recorded is rejected, history intact
    full = sorted((POLICIES / "claude-ai" / "privacy_policy").glob("*.md"))
    shutil.copy(full[3], root / "claude-ai" / "privacy_policy" / full[3].name)
    older = root / "claude-ai" / "privacy_policy" / "2020-01-01.md"
    older.write_text("# Old\n\nAn old text.\n", encoding="utf-8")
    third = import_tree(root)
    assert third.added == 1 and len(third.rejected) == 1
    assert "2020-01-01" in third.rejected[0][0]
    with session_scope() as s:
        doc = get_or_create_document(s, "claude-ai", "privacy_policy")
        versions = document_versions(s, doc)
        assert [v.version_date.strftime("%Y-%m-%d") for v in versions] == [f.stem for f in full[:4]]
        assert all(v.source == "import" and v.snapshot_sha256 for v in versions)
        assert snapshot_path(versions[0].snapshot_sha256 or "").read_bytes() == full[0].read_bytes()
        assert all(version_changes(s, v) for v in versions[1:])


@pytest.mark.shared_data
def test_history_json_and_table(db_workspace: Path, tmp_path: Path) -> None:
    root = copy_docs(tmp_path, [("mistral-ai", "privacy_policy")], upto=3)
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(root)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["history", "mistral-ai", "privacy_policy", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["platform"] == "mistral-ai" and data["doc_type"] == "privacy_policy"
    dates = [v["date"][:10] for v in data["versions"]]
    assert dates == sorted(f.stem for f in (root / "mistral-ai" / "privacy_policy").glob("*.md"))
    first, *rest = data["versions"]
    assert first["clauses"] > 0
    assert first["added"] == first["removed"] == first["modified"] == first["moved"] == 0
    with session_scope() as s:
        stored = change_counts(s, [v["id"] for v in rest])
        clauses = dict(
            s.execute(select(Clause.version_id, func.count()).group_by(Clause.version_id)).all()
        )
    for v in rest:  # what the history says is what the archive holds
        kinds = ("added", "removed", "modified", "moved")
        assert {k: v[k] for k in kinds} == stored[v["id"]]
        assert sum(stored[v["id"]].values()) > 0 and v["clauses"] == clauses[v["id"]]
    table = runner.invoke(app, ["history", "mistral-ai", "privacy_policy"])
    assert table.exit_code == 0 and dates[-1] in table.output
    missing = runner.invoke(app, ["history", "nobody", "privacy_policy"])
    assert missing.exit_code != 0


PAGE = """<html><head><meta charset="utf-8"></head><body><nav>Menu</nav>
<article><h1>Acme Terms</h1><p>You may cancel at any time.</p>
<p>We may change these terms.</p></article><div id="ad">Buy now</div></body></html>"""


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "1")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_TIMEOUT_S", "2")
    reset_settings()


def test_track_new_unchanged_304_and_failure_keeps_versions(
    db_workspace: Path, loopback: None
) -> None:
    def route(handler, n):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"e1"':
            return Reply(304, headers={"ETag": '"e1"'})
        return Reply(200, PAGE.encode(), {"Content-Type": "text/html", "ETag": '"e1"'})

    with http_server() as srv:
        srv.routes["/terms"] = route
        src = SourceDecl(
            platform="acme",
            doc_type="terms_of_service",
            url=srv.url("/terms"),
            select=["article"],
            remove=["#ad"],
        )
        first = track_source(session_scope, src, now=datetime(2025, 1, 1))
        assert first.status == "new" and first.version_id is not None
        assert track_source(None, src, now=datetime(2025, 1, 2)).status == "not_modified"
        srv.requests.clear()
        # selectors changed: the stored snapshot is re-normalised, no body refetched
        wider = src.model_copy(update={"select": [], "remove": []})
        third = track_source(session_scope, wider, now=datetime(2025, 1, 3))
        assert third.status == "new" and srv.requests[0]["if-none-match"] == '"e1"'
        srv.routes["/terms"] = Reply(500, b"boom")
        failed = track_source(session_scope, src, now=datetime(2025, 1, 4))
        assert (
            failed.status == "failed" and failed.retryable and "HTTP 500" in (failed.reason or "")
        )
        srv.routes["/terms"] = Reply(200, b"", {"Content-Type": "text/html"})
        empty = track_source(session_scope, src, now=datetime(2025, 1, 5))
        assert empty.status == "failed" and "empty" in (empty.reason or "")
        srv.routes["/terms"] = Reply(200, b"<html><body><p>other</p></body></html>")
        shape = track_source(session_scope, src, now=datetime(2025, 1, 6))
        assert shape.status == "failed" and "matched nothing" in (shape.reason or "")
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "terms_of_service")
        versions = document_versions(s, doc)
        assert [v.id for v in versions] == [first.version_id, third.version_id]
        assert "We may change these terms." in versions[0].markdown
        assert "Menu" not in versions[0].markdown and "Buy now" not in versions[0].markdown
        attempts = s.scalars(select(FetchAttempt).order_by(FetchAttempt.id)).all()
        assert [a.outcome for a in attempts] == [
            "new",
            "not_modified",
            "new",
            "failed",
            "failed",
            "failed",
        ]
        assert attempts[3].http_status == 500 and "HTTP 500" in (attempts[3].reason or "")
        assert attempts[0].etag == '"e1"' and attempts[0].snapshot_sha256
        assert snapshot_path(attempts[0].snapshot_sha256 or "").exists()


def test_track_with_an_open_session_and_cli(db_workspace: Path, loopback: None) -> None:
    with http_server() as srv:
        srv.routes["/p"] = Reply(
            200, b"# Acme\n\nWe sell nothing.\n", {"Content-Type": "text/markdown"}
        )
        good = SourceDecl(platform="acme", doc_type="privacy_policy", url=srv.url("/p"))
        bad = SourceDecl(platform="acme", doc_type="dpa", url=srv.url("/missing"))
        with session_scope() as s:
            assert track_source(s, good).status == "new"
            out = track_source(s, bad)
            assert out.status == "failed" and out.http_status == 404 and not out.retryable
        with session_scope() as s:
            assert s.scalar(select(func.count()).select_from(Version)) == 1
            assert s.scalar(select(func.count()).select_from(FetchAttempt)) == 2
        decl = db_workspace.parent / "sources.yaml"
        decl.write_text(
            "sources:\n"
            f"  - {{platform: acme, doc_type: privacy_policy, url: '{srv.url('/p')}'}}\n"
            f"  - {{platform: acme, doc_type: dpa, url: '{srv.url('/missing')}'}}\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(app, ["track", "--sources", str(decl)])
    assert result.exit_code == 0, result.output
    assert "unchanged: 1" in result.output and "failed: 1" in result.output
    assert "HTTP 404" in result.output


@pytest.mark.shared_data
@pytest.mark.slow
def test_import_whole_corpus_twice(db_workspace: Path) -> None:
    first = import_tree(POLICIES)
    assert first.files == 244 and first.added + first.unchanged == 244
    assert not first.failed and not first.rejected
    after = counts()
    second = import_tree(POLICIES)
    assert second.added == 0 and counts() == after
