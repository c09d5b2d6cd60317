"""Small pure parts: relative links, names, week windows, signatures, the tree writer."""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clausewatch.publication.digest import week_window
from clausewatch.publication.mailer import one_line
from clausewatch.publication.names import display_name, exposure_at_least, slugify
from clausewatch.publication.render import relative_url
from clausewatch.publication.webhook import sign, verify_signature
from clausewatch.publication.writer import MANIFEST, write_tree

segment = st.sampled_from(["a", "b", "platforms", "x-y", "index.html"])
site_path = st.lists(segment, min_size=0, max_size=4).map(
    lambda parts: "/".join([*parts, "p.html"])
)


@given(site_path, site_path)
def test_relative_url_matches_posixpath(target: str, page: str) -> None:
    expected = posixpath.relpath(target, posixpath.dirname(page) or ".")
    assert relative_url(target, page) == expected


def test_names() -> None:
    assert display_name("nimbus-ai") == "Nimbus AI"
    assert display_name("privacy_policy") == "Privacy Policy"
    assert slugify("Nimbus AI <script> & “quotes”") == "nimbus-ai-script-quotes"
    assert slugify("???") == "item"
    assert exposure_at_least("High", "Medium") and not exposure_at_least("Low", "Medium")
    assert exposure_at_least("Low", None)
    assert one_line("a\r\nBcc: evil@example.org\n b") == "a Bcc: evil@example.org b"


def test_week_window() -> None:
    assert week_window(datetime(2026, 3, 11, 7, tzinfo=UTC)) == (
        "2026-W10",
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 9, tzinfo=UTC),
    )
    # Monday 00:00 belongs to the new week: the digest is of the week that just ended
    assert week_window(datetime(2026, 3, 9))[0] == "2026-W10"
    assert week_window(datetime(2026, 1, 5))[0] == "2026-W01"
    assert week_window(datetime(2026, 1, 1))[0] == "2025-W52"


def test_signature_round_trip_and_staleness() -> None:
    body = b'{"event":"analysis.published"}'
    sig = sign("s" * 32, "1700000000", body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify_signature("s" * 32, body, "1700000000", sig, now=1700000100)
    assert not verify_signature("s" * 32, body, "1700000000", sig, now=1700001000)
    assert not verify_signature("s" * 32, body, "not-a-time", sig, now=1700000000)
    assert not verify_signature("t" * 32, body, "1700000000", sig, now=1700000000)


def test_writer_writes_only_changes_and_removes_only_its_own_files(tmp_path: Path) -> None:
    root = tmp_path / "site"
    first = write_tree(root, {"a.html": b"A", "d/b.html": b"B", "d/e/c.html": b"C"})
    assert (first.written, first.unchanged, first.removed) == (3, 0, 0)
    (root / "d" / "extra.txt").write_text("not ours")
    second = write_tree(root, {"a.html": b"A2", "d/b.html": b"B"})
    assert second.written_paths == ["a.html"] and second.unchanged == 1
    assert second.removed_paths == ["d/e/c.html"]
    assert not (root / "d" / "e").exists()  # emptied directory pruned
    assert (root / "d" / "extra.txt").read_text() == "not ours"
    assert (root / MANIFEST).exists()
    assert not list(root.rglob(".tmp-*"))
    with pytest.raises(ValueError):
        write_tree(root, {"../escape.html": b"x"})
