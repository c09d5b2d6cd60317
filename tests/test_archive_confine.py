"""Local files stay in their folder: ``import`` does not follow links out of the imported
tree, and ``file:`` sources are confined to the file root."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clausewatch.archive.declarations import validate_sources
from clausewatch.archive.importer import import_tree
from clausewatch.archive.track import track_source
from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import FetchAttempt, Version

SECRET = "root:x:0:0:secret line that must never become a version\n"
POLICY = "# Acme Privacy Policy\n\nWe collect your e-mail address.\n"


def secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "passwd"
    path.write_text(SECRET, encoding="utf-8")
    return path


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    doc = root / "acme" / "privacy_policy"
    doc.mkdir(parents=True)
    (doc / "2025-01-01.md").write_text(POLICY, encoding="utf-8")
    return root


def stored_texts() -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(Version.markdown)))


def test_import_refuses_a_file_link_out_of_the_tree(workspace: Path, tmp_path: Path) -> None:
    secret = secret_file(tmp_path)
    root = tree(tmp_path)
    link = root / "acme" / "privacy_policy" / "2025-02-01.md"
    link.symlink_to(secret)
    summary = import_tree(root)
    assert summary.added == 1  # the real file; nothing else lost
    assert [p for p, _ in summary.refused] == [str(link)]
    assert "outside the imported folder" in summary.refused[0][1]
    assert all("secret line" not in text for text in stored_texts())


def test_import_refuses_a_directory_link_out_of_the_tree(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "privacy_policy").mkdir(parents=True)
    (outside / "privacy_policy" / "2025-01-01.md").write_text(SECRET, encoding="utf-8")
    (outside / "terms_of_service").mkdir()
    (outside / "terms_of_service" / "2025-01-01.md").write_text(SECRET, encoding="utf-8")
    root = tree(tmp_path)
    (root / "evil").symlink_to(outside, target_is_directory=True)  # a platform folder
    (root / "acme" / "terms_of_service").symlink_to(  # a doc_type folder
        outside / "terms_of_service", target_is_directory=True
    )
    summary = import_tree(root)
    assert summary.added == 1
    assert sorted(p for p, _ in summary.refused) == sorted(
        [str(root / "evil"), str(root / "acme" / "terms_of_service")]
    )
    assert all("secret line" not in text for text in stored_texts())


def test_import_follows_links_that_stay_inside(workspace: Path, tmp_path: Path) -> None:
    root = tree(tmp_path)
    kept = root / "acme" / "privacy_policy" / "2025-01-01.md"
    other = root / "beta" / "privacy_policy"
    other.mkdir(parents=True)
    (other / "2025-03-01.md").symlink_to(kept)
    summary = import_tree(root)
    assert (summary.added, summary.refused) == (2, [])


def test_import_cli_names_the_refused_link_and_fails(workspace: Path, tmp_path: Path) -> None:
    secret = secret_file(tmp_path)
    root = tree(tmp_path)
    (root / "acme" / "privacy_policy" / "2025-02-01.md").symlink_to(secret)
    result = CliRunner().invoke(app, ["import", str(root)])
    assert result.exit_code != 0
    assert "outside the imported folder" in result.output
    assert "1 refused" in str(result.exception)
    assert len(stored_texts()) == 1


def declarations(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sources.yaml"
    path.write_text(
        f"sources:\n  - platform: acme\n    doc_type: privacy_policy\n    url: {url}\n",
        encoding="utf-8",
    )
    return path


def test_file_sources_outside_the_declarations_folder_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAUSEWATCH_FILE_ROOT", raising=False)
    reset_settings()
    secret = secret_file(tmp_path)
    conf = tmp_path / "conf"
    for url in (secret.as_uri(), "../outside/passwd", str(secret)):
        valid, problems = validate_sources(declarations(conf, url))
        assert valid == []
        assert len(problems) == 1 and "outside the file root" in problems[0].message
    # a link inside the folder that points out of it is refused too
    (conf / "pages").mkdir()
    (conf / "pages" / "privacy.txt").symlink_to(secret)
    valid, problems = validate_sources(declarations(conf, "pages/privacy.txt"))
    assert valid == [] and "outside the file root" in problems[0].message
    # a wider root, configured, admits it
    monkeypatch.setenv("CLAUSEWATCH_FILE_ROOT", str(tmp_path))
    reset_settings()
    try:
        valid, problems = validate_sources(declarations(conf, "../outside/passwd"))
        assert problems == [] and valid[0].url == secret.resolve().as_uri()
    finally:
        reset_settings()


def test_tracking_refuses_a_link_that_appeared_after_loading(
    workspace: Path, tmp_path: Path
) -> None:
    secret = secret_file(tmp_path)
    page = tmp_path / "conf" / "privacy.md"
    page.parent.mkdir()
    page.write_text(POLICY, encoding="utf-8")
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=page.as_uri())
    assert track_source(session_scope, source).status == "new"
    page.unlink()
    page.symlink_to(secret)  # swapped after the declarations were checked
    outcome = track_source(session_scope, source)
    assert outcome.status == "failed" and "symbolic link" in (outcome.reason or "")
    assert all("secret line" not in text for text in stored_texts())
    with session_scope() as s:
        assert s.scalars(select(FetchAttempt.outcome)).all() == ["new", "failed"]


def test_tracking_honours_a_configured_file_root(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = secret_file(tmp_path)
    monkeypatch.setenv("CLAUSEWATCH_FILE_ROOT", str(tmp_path / "conf"))
    reset_settings()
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=secret.as_uri())
    outcome = track_source(session_scope, source)
    assert outcome.status == "failed" and "outside the file root" in (outcome.reason or "")
    assert stored_texts() == []
