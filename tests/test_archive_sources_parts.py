"""Declarations of documents published in parts and of pages that need JavaScript."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clausewatch.archive.declarations import validate_sources
from clausewatch.schemas.sources import SourceDecl

PARTS = """\
sources:
  - platform: acme
    doc_type: acceptable_use_policy
    parts:
      - url: pages/one.html
        select: [main]
      - url: https://acme.example/two
        render: true
  - platform: acme
    doc_type: privacy_policy
    url: https://acme.example/privacy
    render: true
  - platform: acme
    doc_type: commercial_terms
    url: https://acme.example/commercial
"""


def test_parts_and_render_load(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "one.html").write_text("<main>One</main>", encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(PARTS, encoding="utf-8")
    valid, problems = validate_sources(path)
    assert problems == []
    aup, privacy, commercial = valid
    first = (tmp_path / "pages" / "one.html").resolve().as_uri()
    assert [p.url for p in aup.fetch_parts] == [first, "https://acme.example/two"]
    assert aup.url == first  # the document's address defaults to its first part's
    assert aup.fetch_parts[0].select == ["main"]
    assert [p.render for p in aup.fetch_parts] == [False, True]
    assert aup.needs_render and privacy.needs_render and not commercial.needs_render
    assert privacy.fetch_parts[0].url == "https://acme.example/privacy"


BAD_PARTS = """\
sources:
  - platform: acme
    doc_type: dpa
    parts:
      - url: https://acme.example/dpa
        select: ["main >>> p"]
      - url: ftp://acme.example/annex
  - platform: beta
    doc_type: dpa
    select: [main]
    parts:
      - url: https://beta.example/dpa
  - platform: gamma
    doc_type: dpa
    parts: []
  - platform: delta
    doc_type: dpa
    parts:
      - url: https://delta.example/dpa
      - url: https://delta.example/annex
        render: maybe
        colour: blue
"""


def test_part_problems_reported_with_location(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(BAD_PARTS, encoding="utf-8")
    valid, problems = validate_sources(path)
    assert valid == []
    found = {(p.line, p.field) for p in problems}
    assert (6, "parts.0.select") in found  # the invalid selector, on its line
    assert (7, "parts.1.url") in found  # unsupported scheme
    messages = " | ".join(str(p) for p in problems)
    assert "on each part, not on the document" in messages  # beta
    assert "#3 gamma/dpa" in messages and "'parts' is empty" in messages
    assert (21, "parts.1.render") in found  # a part's own field, on its own line
    assert (22, "parts.1.colour") in found


def test_parts_settings_not_on_the_document() -> None:
    with pytest.raises(ValidationError, match="on each part"):
        SourceDecl.model_validate(
            {"platform": "a", "doc_type": "dpa", "render": True, "parts": [{"url": "https://a/"}]}
        )


def test_round_trip_keeps_parts() -> None:
    decl = SourceDecl.model_validate(
        {
            "platform": "a",
            "doc_type": "dpa",
            "parts": [{"url": "https://a/1", "render": True}, {"url": "https://a/2"}],
        }
    )
    again = SourceDecl.model_validate(decl.model_dump(mode="json"))
    assert again == decl and again.url == "https://a/1"
