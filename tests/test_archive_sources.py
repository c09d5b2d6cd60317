"""Declarations file: every problem reported with its location; relative file URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clausewatch.archive.declarations import load_sources, resolve_location, validate_sources
from clausewatch.cli import app
from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import SAMPLE_SOURCES

BAD = """\
sources:
  - platform: acme
    doc_type: privacy_policy
    url: file:pages/privacy.html
  - platform: Acme Corp
    doc_type: privacy_polcy
    url: ftp://acme.example/terms
  - platform: beta
    doc_type: terms_of_service
    url: https://beta.example/terms
    select: ["main >>> p"]
    colour: blue
  - platform: acme
    doc_type: privacy_policy
    url: https://acme.example/privacy
  - platform: gamma
    doc_type: dpa
    url: missing/dpa.pdf
  - just a string
  - platform: delta
    doc_type: usage_policy
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    (tmp_path / "pages" / "privacy.html").write_text("<p>Policy</p>", encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_reported_with_location(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    valid, problems = validate_sources(path)
    assert [v.platform for v in valid] == ["acme"]
    assert valid[0].url == (tmp_path / "pages" / "privacy.html").resolve().as_uri()
    found = {(p.line, p.field, p.entry) for p in problems}
    assert (5, "platform", "#2 Acme Corp/privacy_polcy") in found
    assert (6, "doc_type", "#2 Acme Corp/privacy_polcy") in found
    assert (7, "url", "#2 Acme Corp/privacy_polcy") in found
    assert (11, "select", "#3 beta/terms_of_service") in found
    assert (12, "colour", "#3 beta/terms_of_service") in found
    assert (13, None, "#4 acme/privacy_policy") in found  # duplicate of #1
    assert (18, "url", "#5 gamma/dpa") in found  # file not found
    assert (19, None, "#6") in found
    assert (20, "url", "#7 delta/usage_policy") in found  # missing url
    assert len(problems) == 9
    text = [str(p) for p in problems]
    assert any(t.startswith(f"{path}:7: entry #2") and "ftp" in t for t in text)
    assert any("duplicate of entry #1" in t for t in text)


def test_cli_validate_prints_all_and_fails(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = CliRunner().invoke(app, ["sources", "validate", str(path)])
    assert result.exit_code != 0
    assert result.output.count(f"{path}:") == 9
    ok = CliRunner().invoke(app, ["sources", "validate", str(SAMPLE_SOURCES)])
    assert ok.exit_code == 0, ok.output
    assert "no problems" in ok.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("sources: [\n  - a\n", "YAML syntax"),
        ("- platform: a\n", "top level"),
        ("source:\n  - {}\n", "unknown key 'source'"),
        ("sources: {}\n", "must be a list"),
        ("sources:\nsources:\n", "duplicate key"),
    ],
)
def test_structural_problems(tmp_path: Path, text: str, message: str) -> None:
    _, problems = validate_sources(write(tmp_path, text))
    assert problems and any(message in str(p) for p in problems)


def test_load_sources_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="9 problem"):
        load_sources(write(tmp_path, BAD))
    with pytest.raises(ConfigError, match="not found"):
        load_sources(tmp_path / "nope.yaml")


def test_sample_and_relative_locations(tmp_path: Path) -> None:
    sources = load_sources(SAMPLE_SOURCES)
    assert len(sources) >= 1
    for s in sources:
        assert s.url.startswith("file:///")
        assert Path(s.url.removeprefix("file://")).is_file()
    base = tmp_path
    want = (tmp_path / "a" / "b.html").resolve().as_uri()
    for form in ("file://a/b.html", "file:a/b.html", "a/b.html", "./a/b.html"):
        assert resolve_location(form, base) == want
    assert resolve_location("file:///etc/x", base) == "file:///etc/x"
    assert resolve_location("https://x.example/a", base) == "https://x.example/a"
