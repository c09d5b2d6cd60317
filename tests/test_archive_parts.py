"""Documents published in parts: fetched one by one over loopback HTTP, joined in declared
order; a failed part fails the whole document (no half versions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server
from sqlalchemy import select

from clausewatch.archive.snapshots import read_snapshot
from clausewatch.archive.store import document_versions, get_or_create_document
from clausewatch.archive.track import track_source
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import FetchAttempt

HTML = "<html><body><nav>Menu</nav><main><h2>{title}</h2><p>{text}</p></main></body></html>"


def page(title: str, text: str) -> Reply:
    body = HTML.format(title=title, text=text).encode()
    return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_TIMEOUT_S", "2")
    reset_settings()


def _decl(url: Callable[[str], str]) -> SourceDecl:
    return SourceDecl.model_validate(
        {
            "platform": "acme",
            "doc_type": "acceptable_use_policy",
            "parts": [
                {"url": url("/usage"), "select": ["main"]},
                {"url": url("/images"), "select": ["main"]},
                {"url": url("/agents"), "select": ["main"], "remove": ["p.aside"]},
            ],
        }
    )


def _attempts() -> list[FetchAttempt]:
    with session_scope() as s:
        return list(s.scalars(select(FetchAttempt).order_by(FetchAttempt.id)))


def _texts() -> list[str]:
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "acceptable_use_policy")
        return [v.markdown for v in document_versions(s, doc)]


def test_three_parts_joined_in_declared_order(db_workspace: Path, loopback: None) -> None:
    with http_server() as srv:
        # declared order differs from alphabetical and from fetch-time order
        srv.routes["/usage"] = page("Usage", "Do not break the law.")
        srv.routes["/images"] = page("Images", "No deceptive images of real people.")
        srv.routes["/agents"] = page("Agents", "Agents must not buy weapons.")
        decl = _decl(srv.url)
        first = track_source(session_scope, decl, now=datetime(2025, 1, 1))
        assert first.status == "new", first.reason
        assert [k for k in srv.hits if srv.hits[k]] == ["/usage", "/images", "/agents"]
        again = track_source(session_scope, decl, now=datetime(2025, 1, 2))
        assert again.status == "unchanged"
        srv.routes["/images"] = page("Images", "No deceptive images of anyone.")
        third = track_source(session_scope, decl, now=datetime(2025, 1, 3))
        assert third.status == "new" and third.modified == 1
    (one, two) = _texts()
    usage, images, agents = (one.index(t) for t in ("Do not break", "No deceptive", "Agents must"))
    assert usage < images < agents
    assert "Menu" not in one
    assert "images of anyone" in two and "Do not break the law." in two
    attempts = _attempts()
    manifest = json.loads(read_snapshot(attempts[0].snapshot_sha256 or ""))
    assert [p["url"] for p in manifest["parts"]] == [p.url for p in decl.parts]
    for part in manifest["parts"]:  # each part's raw bytes kept for diagnosis
        assert b"<main>" in read_snapshot(part["sha256"])


@pytest.mark.parametrize(
    ("broken", "reply", "reason"),
    [
        ("/images", Reply(404, b"gone"), "part 2/3"),
        ("/agents", Reply(503, b"busy"), "part 3/3"),
        ("/usage", Reply(200, b"<html><body><p>no main</p></body></html>"), "part 1/3"),
    ],
)
def test_one_failing_part_records_no_version(
    db_workspace: Path, loopback: None, broken: str, reply: Reply, reason: str
) -> None:
    with http_server() as srv:
        srv.routes["/usage"] = page("Usage", "Do not break the law.")
        srv.routes["/images"] = page("Images", "No deceptive images of real people.")
        srv.routes["/agents"] = page("Agents", "Agents must not buy weapons.")
        decl = _decl(srv.url)
        assert track_source(session_scope, decl, now=datetime(2025, 1, 1)).status == "new"
        srv.routes[broken] = reply
        failed = track_source(session_scope, decl, now=datetime(2025, 1, 2))
    assert failed.status == "failed" and reason in (failed.reason or "")
    assert broken in (failed.reason or "")
    assert len(_texts()) == 1  # no half version
    assert [a.outcome for a in _attempts()] == ["new", "failed"]


def test_failing_part_on_first_fetch_records_nothing(db_workspace: Path, loopback: None) -> None:
    with http_server() as srv:
        srv.routes["/usage"] = page("Usage", "Do not break the law.")
        srv.routes["/agents"] = page("Agents", "Agents must not buy weapons.")
        failed = track_source(session_scope, _decl(srv.url), now=datetime(2025, 1, 1))
        assert srv.hits["/agents"] == 0  # stops at the first failed part
    assert failed.status == "failed" and failed.http_status == 404 and not failed.retryable
    assert _texts() == []
