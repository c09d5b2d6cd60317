"""What real sites do to a watcher: walls, consent overlays, soft errors and drastic changes.

Pages are real-world shaped (tests/wall_pages.py) and served on loopback. A wall never becomes a
version; a drastic change becomes one only when a later fetch brings it again.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server
from sqlalchemy import func, select
from wall_pages import (
    POLICY_CLAUSES,
    REWRITTEN_CLAUSES,
    cloudflare_challenge,
    consent_overlay_page,
    error_page_200,
    maintenance_page,
    policy_page,
    spa_shell,
    stub_page,
)

from clausewatch.archive.drastic import drastic_change
from clausewatch.archive.snapshots import read_snapshot
from clausewatch.archive.track import track_source
from clausewatch.archive.walls import WALLS_FILE, detect_wall, load_walls
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl, TrackOutcome
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import Change, FetchAttempt, Version

HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_TIMEOUT_S", "5")
    reset_settings()


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _outcomes() -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(FetchAttempt.outcome).order_by(FetchAttempt.id)))


def _pending_drafts() -> list[tuple[int, str]]:
    from clausewatch.flows.tasks import pending_changes

    return pending_changes.fn()


def _track(src: SourceDecl, day: int) -> TrackOutcome:
    return track_source(session_scope, src, now=datetime(2026, 3, day))


# -- the markers file ---------------------------------------------------------------------


def test_markers_are_data_and_valid() -> None:
    data = load_walls(WALLS_FILE)
    kinds = {rule.kind for rule in data.walls}
    assert {"challenge", "captcha", "javascript", "maintenance", "error"} <= kinds
    assert "#onetrust-consent-sdk" in data.consent_overlays
    assert 0 < data.drastic_change.max_kept < 1


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        (cloudflare_challenge(), "challenge"),
        (error_page_200(), "error"),
        (maintenance_page(), "maintenance"),
        (spa_shell(), "javascript"),
        (
            b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
            b"You don't have permission to access this page on this server.<p>Reference "
            b"#18.5c3b1602.1767225600.2a4f</p></body></html>",
            "challenge",
        ),
        (
            b"<html><head><title>Security check</title></head><body><form><div "
            b'class="g-recaptcha" data-sitekey="x"></div></form><p>Please confirm you are '
            b"not a robot.</p></body></html>",
            "captcha",
        ),
    ],
)
def test_walls_are_recognised(page: bytes, kind: str) -> None:
    wall = detect_wall(page.decode())
    assert wall is not None and wall.kind == kind


def test_a_long_policy_that_mentions_captcha_and_javascript_is_a_document() -> None:
    page = consent_overlay_page().decode()
    assert "enable JavaScript" in page and "reCAPTCHA" in page and "We value your privacy" in page
    assert detect_wall(page) is None
    assert detect_wall(policy_page().decode()) is None
    # the same sentence on a page of its own is a wall: markers count only on short pages
    assert detect_wall(policy_page(POLICY_CLAUSES[7:8]).decode()) is not None


def test_drastic_change_thresholds() -> None:
    old = POLICY_CLAUSES
    same_but_edited = "\n\n".join(c.replace("We ", "We, Nimbus, ") for c in old)
    assert drastic_change(old, same_but_edited) is None  # small edits everywhere: ordinary
    assert drastic_change(old, "\n\n".join(old[:10])) is None  # a third gone: ordinary
    stub = drastic_change(old, "\n\n".join(old[:2]))
    assert stub is not None and stub.kept == 2 and stub.old_clauses == len(old)
    assert drastic_change(old, "\n\n".join(REWRITTEN_CLAUSES)) is not None
    assert drastic_change(old[:3], "Nothing else.") is None  # too short to judge


# -- tracking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "words"),
    [
        (cloudflare_challenge(), "Cloudflare challenge"),
        (error_page_200(), "error page"),
        (maintenance_page(), "maintenance page"),
        (spa_shell(), "enable-JavaScript page"),
    ],
    ids=["cloudflare-challenge", "error-200", "maintenance", "needs-javascript"],
)
def test_a_wall_is_a_failed_fetch_with_its_snapshot_never_a_version(
    db_workspace: Path, loopback: None, page: bytes, words: str
) -> None:
    with http_server() as srv:
        srv.routes["/privacy"] = [Reply(200, policy_page(), HTML), Reply(200, page, HTML)]
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        assert _track(src, 1).status == "new"
        for day in (2, 3, 4):  # a wall seen again and again is still a wall
            out = _track(src, day)
            assert out.status == "failed", out
            assert words in (out.reason or "") and out.retryable
            assert out.snapshot_sha256 and read_snapshot(out.snapshot_sha256) == page
    assert _count(Version) == 1 and _count(Change) == 0
    assert _outcomes() == ["new", "failed", "failed", "failed"]
    assert _pending_drafts() == []


def test_a_wall_on_the_first_fetch_and_a_selector_that_matches_nothing(
    db_workspace: Path, loopback: None
) -> None:
    with http_server() as srv:
        srv.routes["/terms"] = Reply(200, cloudflare_challenge(), HTML)
        src = SourceDecl(
            platform="nimbus-ai",
            doc_type="terms_of_service",
            url=srv.url("/terms"),
            select=["article.legal"],
        )
        out = _track(src, 1)
        assert out.status == "failed" and "Cloudflare" in (out.reason or "")
        # not a known wall, but not the document either: the declared selector says so
        srv.routes["/terms"] = Reply(
            200, b"<html><body><main><p>Welcome to Nimbus!</p></main></body></html>", HTML
        )
        out = _track(src, 2)
        assert out.status == "failed" and "matched nothing" in (out.reason or "")
        assert out.snapshot_sha256
    assert _count(Version) == 0


def test_a_consent_overlay_is_removed_not_a_failure(db_workspace: Path, loopback: None) -> None:
    with http_server() as srv:
        srv.routes["/privacy"] = [
            Reply(200, consent_overlay_page(), HTML),
            Reply(200, policy_page(), HTML),
        ]
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        first = _track(src, 1)
        assert first.status == "new"
        with session_scope() as s:
            version = s.get(Version, first.version_id)
            assert version is not None
            assert "We collect the prompts you send" in version.markdown
            assert "partners store and access" not in version.markdown
            assert "We value your privacy" not in version.markdown
        # the banner gone on the next visit: the same document
        assert _track(src, 2).status == "unchanged"
    assert _count(Version) == 1


def test_a_stub_for_one_fetch_then_back_records_nothing(db_workspace: Path, loopback: None) -> None:
    full = policy_page()
    with http_server() as srv:
        srv.routes["/privacy"] = [Reply(200, body, HTML) for body in (full, stub_page(), full)]
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        assert _track(src, 1).status == "new"
        held = _track(src, 2)
        assert held.status == "suspect" and "drastic change" in (held.reason or "")
        assert held.version_id is None
        assert held.snapshot_sha256 and read_snapshot(held.snapshot_sha256) == stub_page()
        back = _track(src, 3)
        assert back.status == "unchanged"
    assert _outcomes() == ["new", "suspect", "unchanged"]
    assert _count(Version) == 1 and _count(Change) == 0
    assert _pending_drafts() == []


def test_a_real_drastic_rewrite_seen_twice_becomes_a_version(
    db_workspace: Path, loopback: None
) -> None:
    rewritten = policy_page(REWRITTEN_CLAUSES, title="Privacy Notice")
    with http_server() as srv:
        srv.routes["/privacy"] = [Reply(200, policy_page(), HTML), Reply(200, rewritten, HTML)]
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        assert _track(src, 1).status == "new"
        assert _track(src, 2).status == "suspect"
        assert _count(Version) == 1 and _pending_drafts() == []
        # a network failure in between does not break the confirmation
        srv.routes["/privacy"] = [Reply(404, b"gone for a moment")]
        assert _track(src, 3).status == "failed"
        srv.routes["/privacy"] = Reply(200, rewritten, HTML)
        confirmed = _track(src, 4)
        assert confirmed.status == "new", confirmed
        assert confirmed.added >= len(REWRITTEN_CLAUSES) - 1 and confirmed.removed > 0
        assert _track(src, 5).status == "unchanged"
    assert _outcomes() == ["new", "suspect", "failed", "new", "unchanged"]
    assert _count(Version) == 2
    assert len(_pending_drafts()) > 0


def test_a_drastic_change_must_be_seen_on_consecutive_fetches(
    db_workspace: Path, loopback: None
) -> None:
    full, stub = policy_page(), stub_page()
    with http_server() as srv:
        srv.routes["/privacy"] = [Reply(200, body, HTML) for body in (full, stub, full, stub)]
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        statuses = [_track(src, day).status for day in (1, 2, 3, 4)]
    # the stub came back, but not on the fetch after its first sighting: still held
    assert statuses == ["new", "suspect", "unchanged", "suspect"]
    assert _count(Version) == 1


def test_the_fetcher_asks_for_english_so_a_language_switch_is_no_change(
    db_workspace: Path, loopback: None
) -> None:
    german = policy_page(["Wir erheben Ihre E-Mail-Adresse.", *REWRITTEN_CLAUSES[1:]])

    def route(handler, n):  # type: ignore[no-untyped-def]
        wanted = handler.headers.get("Accept-Language", "")
        return Reply(200, policy_page() if wanted.startswith("en") else german, HTML)

    with http_server() as srv:
        srv.routes["/privacy"] = route
        src = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        first = _track(src, 1)
        assert _track(src, 2).status == "unchanged"
    with session_scope() as s:
        version = s.get(Version, first.version_id)
        assert version is not None and POLICY_CLAUSES[0] in version.markdown


@pytest.mark.parametrize("status", [403, 503])
def test_a_challenge_served_with_an_error_status_is_named_and_kept(
    db_workspace: Path, loopback: None, status: int
) -> None:
    """Cloudflare serves its challenge with 403 (managed) or 503 (older): the failure says
    what the page is, and its body is kept for diagnosis."""
    with http_server() as srv:
        srv.routes["/terms"] = Reply(status, cloudflare_challenge(), HTML)
        srv.routes["/gone"] = Reply(404, error_page_200(), HTML)
        src = SourceDecl(platform="nimbus-ai", doc_type="terms_of_service", url=srv.url("/terms"))
        out = _track(src, 1)
        assert out.status == "failed" and out.http_status == status
        assert f"HTTP {status}" in (out.reason or "") and "Cloudflare challenge" in (
            out.reason or ""
        )
        assert out.snapshot_sha256 and read_snapshot(out.snapshot_sha256) == cloudflare_challenge()
        gone = src.model_copy(update={"doc_type": "privacy_policy", "url": srv.url("/gone")})
        out = _track(gone, 1)  # a plain error status needs no second name
        assert out.reason == f"HTTP 404 from {srv.url('/gone')}" and out.snapshot_sha256
    assert _count(Version) == 0
