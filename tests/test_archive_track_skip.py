"""Tracking skips normalising raw bytes it already normalised under the same settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from archive_helpers import Reply, http_server
from sqlalchemy import func, select

import clausewatch.archive.normalize
import clausewatch.archive.page
import clausewatch.archive.track
from clausewatch.archive.declarations import load_sources
from clausewatch.archive.store import get_or_create_document, record_version
from clausewatch.archive.track import track_source
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl, TrackOutcome
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import FetchAttempt, Version

PAGE = """<html><head><meta charset="utf-8"></head><body><nav>Menu</nav>
<article><h1>Acme Terms</h1><p>You may cancel at any time.</p>
<p>We may change these terms.</p></article>
<div id="promo"><p>Try Acme Pro for free.</p></div></body></html>"""

SOURCES = """sources:
  - platform: acme
    doc_type: terms_of_service
    url: file:terms.html
{extra}"""


class Normaliser:
    """Counts calls to ``page_markdown`` through tracking; ``fail`` makes a call an error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.fail = False
        real: Callable[..., str] = clausewatch.archive.page.page_markdown

        def counted(*args: Any, **kwargs: Any) -> str:
            self.calls += 1
            if self.fail:
                raise AssertionError("normalised although the raw bytes did not change")
            return real(*args, **kwargs)

        monkeypatch.setattr(clausewatch.archive.track, "page_markdown", counted)


@pytest.fixture
def normaliser(monkeypatch: pytest.MonkeyPatch) -> Normaliser:
    return Normaliser(monkeypatch)


def _declare(tmp_path: Path, extra: str = "") -> SourceDecl:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES.format(extra=extra), encoding="utf-8")
    (source,) = load_sources(path)
    return source


def _track(source: SourceDecl, day: int) -> TrackOutcome:
    return track_source(session_scope, source, now=datetime(2025, 1, day))


def _versions() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(Version)) or 0)


def _attempts() -> list[FetchAttempt]:
    with session_scope() as s:
        return list(s.scalars(select(FetchAttempt).order_by(FetchAttempt.id)))


def test_unchanged_raw_is_not_normalised_again(
    db_workspace: Path, tmp_path: Path, normaliser: Normaliser
) -> None:
    (tmp_path / "terms.html").write_text(PAGE, encoding="utf-8")
    source = _declare(tmp_path)
    first = _track(source, 1)
    assert first.status == "new" and normaliser.calls == 1

    normaliser.fail = True
    for day in (2, 3):
        again = _track(source, day)
        assert again.status == "unchanged", again.reason
        assert again.version_id is None and again.snapshot_sha256 == first.snapshot_sha256
    assert normaliser.calls == 1  # only the first fetch normalised
    assert _versions() == 1
    attempts = _attempts()
    assert [a.outcome for a in attempts] == ["new", "unchanged", "unchanged"]
    with session_scope() as s:
        version = s.get(Version, first.version_id)
        assert version is not None
        assert {a.text_sha256 for a in attempts} == {version.text_sha256}
    assert len({a.normalise_key for a in attempts}) == 1 and attempts[0].normalise_key

    # new raw bytes are normalised (here: same text, so still unchanged)
    normaliser.fail = False
    (tmp_path / "terms.html").write_text(PAGE.replace("Menu", "Home"), encoding="utf-8")
    assert _track(source, 4).status == "unchanged" and normaliser.calls == 2
    # and a real edit is a new version
    (tmp_path / "terms.html").write_text(PAGE.replace("any time", "any moment"), encoding="utf-8")
    edited = _track(source, 5)
    assert edited.status == "new" and edited.modified == 1 and normaliser.calls == 3


def test_changed_selectors_in_sources_yaml_renormalise(
    db_workspace: Path, tmp_path: Path, normaliser: Normaliser
) -> None:
    (tmp_path / "terms.html").write_text(PAGE, encoding="utf-8")
    source = _declare(tmp_path)
    first = _track(source, 1)
    assert first.status == "new"
    with session_scope() as s:
        version = s.get(Version, first.version_id)
        assert version is not None and "Try Acme Pro" in version.markdown

    narrowed = _declare(tmp_path, '    remove: ["#promo"]\n')
    second = _track(narrowed, 2)
    assert normaliser.calls == 2  # same bytes, other selectors: normalised again
    assert second.status == "new" and second.removed == 1
    with session_scope() as s:
        version = s.get(Version, second.version_id)
        assert version is not None and "Try Acme Pro" not in version.markdown

    assert _track(narrowed, 3).status == "unchanged" and normaliser.calls == 2
    kept = _declare(tmp_path, '    remove: ["#promo"]\n    select: ["article"]\n')
    assert _track(kept, 4).status == "unchanged" and normaliser.calls == 3  # same text
    assert _track(kept, 5).status == "unchanged" and normaliser.calls == 3
    assert _versions() == 2


def test_a_version_recorded_since_forces_normalising(
    db_workspace: Path, tmp_path: Path, normaliser: Normaliser
) -> None:
    (tmp_path / "terms.html").write_text(PAGE, encoding="utf-8")
    source = _declare(tmp_path)
    assert _track(source, 1).status == "new"
    with session_scope() as s:  # e.g. an import of a later text
        doc = get_or_create_document(s, "acme", "terms_of_service")
        assert record_version(s, doc, "# Other\n\nOther terms.\n", datetime(2025, 1, 2))
    again = _track(source, 3)
    assert normaliser.calls == 2
    assert again.status == "new"  # the page's text is again the latest
    assert _versions() == 3


def test_a_normaliser_change_renormalises(
    db_workspace: Path, tmp_path: Path, normaliser: Normaliser, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "terms.html").write_text(PAGE, encoding="utf-8")
    source = _declare(tmp_path)
    assert _track(source, 1).status == "new"
    assert _track(source, 2).status == "unchanged" and normaliser.calls == 1
    monkeypatch.setattr(clausewatch.archive.normalize, "_normaliser_identity", lambda: "v-next")
    assert _track(source, 3).status == "unchanged" and normaliser.calls == 2
    assert _track(source, 4).status == "unchanged" and normaliser.calls == 2
    keys = [a.normalise_key for a in _attempts()]
    assert keys[0] == keys[1] != keys[2] == keys[3]


def test_normalisation_key_covers_every_input() -> None:
    from clausewatch.archive.normalize import normalisation_key

    base: dict[str, Any] = {
        "content_type": "text/html",
        "location": "https://acme.example/terms",
        "select": ["article"],
        "remove": ["#promo"],
    }
    key = normalisation_key(**base)
    assert normalisation_key(**base) == key
    for field, other in (
        ("content_type", "text/html; charset=latin-1"),
        ("location", "https://acme.example/terms.pdf"),
        ("select", ["main"]),
        ("select", []),
        ("remove", []),
        ("remove", ["#promo", "nav"]),
    ):
        assert normalisation_key(**{**base, field: other}) != key, field
    # selector lists are not merged: ["a b"] and ["a", "b"] differ
    assert normalisation_key(select=["a b"]) != normalisation_key(select=["a", "b"])


def test_304_skips_normalising_until_the_selectors_change(
    db_workspace: Path, normaliser: Normaliser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "0")
    reset_settings()

    def route(handler, n):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"e1"':
            return Reply(304, headers={"ETag": '"e1"'})
        return Reply(200, PAGE.encode(), {"Content-Type": "text/html", "ETag": '"e1"'})

    with http_server() as srv:
        srv.routes["/terms"] = route
        src = SourceDecl(platform="acme", doc_type="terms_of_service", url=srv.url("/terms"))
        assert track_source(session_scope, src).status == "new"
        assert track_source(session_scope, src).status == "not_modified"
        assert normaliser.calls == 1
        narrowed = src.model_copy(update={"remove": ["#promo"]})
        assert track_source(session_scope, narrowed).status == "new"
        assert normaliser.calls == 2 and srv.hits["/terms"] == 3
        assert track_source(session_scope, narrowed).status == "not_modified"
        assert normaliser.calls == 2
    assert [a.outcome for a in _attempts()] == ["new", "not_modified", "new", "not_modified"]
