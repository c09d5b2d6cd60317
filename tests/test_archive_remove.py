"""Import refuses implausible dates; a wrongly recorded version can be removed, with what
depends on it, keeping the chain of versions consecutive and free of equal neighbours."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from clausewatch.archive.importer import VersionDateError, check_version_date, import_tree
from clausewatch.archive.remove import PublishedDependentsError, remove_version
from clausewatch.archive.store import (
    document_versions,
    get_document,
    get_or_create_document,
    record_version,
    version_changes,
    version_clauses,
)
from clausewatch.archive.track import track_source
from clausewatch.cli import app
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import Change, Clause, Version
from clausewatch.storage.models.drafts import Draft, DraftEvent

A = """# Acme Privacy Policy

## Collection

We collect your e-mail address.

We collect usage data.

## Retention

We keep logs for 30 days.
"""
B = A.replace("30 days", "90 days")
C = A.replace("We collect usage data.\n", "We collect usage data.\n\nWe collect voice prints.\n")
D = C.replace("e-mail address", "e-mail address and phone number")


def write_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "tree"
    folder = root / "acme" / "privacy_policy"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def dates() -> list[str]:
    with session_scope() as s:
        doc = get_document(s, "acme", "privacy_policy")
        assert doc is not None
        return [f"{v.version_date:%Y-%m-%d}" for v in document_versions(s, doc)]


# -- dates on import -------------------------------------------------------------------------


def test_import_rejects_future_and_ancient_dates_and_keeps_the_rest(
    workspace: Path, tmp_path: Path
) -> None:
    root = write_tree(
        tmp_path,
        {
            "0001-01-01.md": A,
            "1989-12-31.md": A,
            "2025-01-01.md": A,
            "2025-06-01.md": B,
            "9999-12-31.md": C,
        },
    )
    summary = import_tree(root)
    assert summary.added == 2
    reasons = {Path(p).name: r for p, r in summary.rejected}
    assert set(reasons) == {"0001-01-01.md", "1989-12-31.md", "9999-12-31.md"}
    assert "in the future" in reasons["9999-12-31.md"]
    assert "before 1990-01-01" in reasons["0001-01-01.md"]
    assert dates() == ["2025-01-01", "2025-06-01"]
    # the document can still be tracked: nothing dated ahead of now blocks it
    page = tmp_path / "live.md"
    page.write_text(D, encoding="utf-8")
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=page.as_uri())
    assert track_source(session_scope, source).status == "new"


def test_one_day_of_tolerance() -> None:
    now = datetime(2026, 12, 2, 7, 0)
    check_version_date(datetime(2026, 12, 3), now)  # tomorrow (time zones)
    with pytest.raises(VersionDateError):
        check_version_date(datetime(2026, 12, 4), now)
    check_version_date(datetime(1990, 1, 1), now)
    with pytest.raises(VersionDateError):
        check_version_date(datetime(1989, 12, 31), now)


def test_import_cli_reports_the_date_and_fails(workspace: Path, tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"2025-01-01.md": A, "9999-12-31.md": B})
    result = CliRunner().invoke(app, ["import", str(root)])
    assert result.exit_code != 0
    assert "9999-12-31.md" in result.output and "in the future" in result.output
    assert dates() == ["2025-01-01"]


# -- removing a version ----------------------------------------------------------------------


def record(*texts_and_dates: tuple[str, datetime]) -> list[int]:
    ids = []
    with session_scope() as s:
        doc = get_or_create_document(s, "acme", "privacy_policy")
        for text, date in texts_and_dates:
            v = record_version(s, doc, text, date, source="import")
            assert v is not None
            ids.append(v.id)
    return ids


def add_draft(version_id: int, status: str) -> int:
    """A draft of the first material change of ``version_id``, with one audit event."""
    with session_scope() as s:
        change = s.scalars(
            select(Change).where(Change.new_version_id == version_id).order_by(Change.id)
        ).first()
        assert change is not None
        draft = Draft(
            input_hash=hashlib.sha256(f"{version_id}:{status}".encode()).hexdigest(),
            change_id=change.id,
            clause_id=change.new_clause_id,
            clause_uid=change.clause_uid,
            platform="acme",
            doc_type="privacy_policy",
            status=status,
            prompt_id="provision-analysis",
            prompt_version="1",
            rendered_prompt="(test)",
            model="fake",
            backend="fake",
        )
        s.add(draft)
        s.flush()
        s.add(DraftEvent(draft_id=draft.id, actor="alice", action="drafted", before="", after=""))
        return draft.id


def test_removing_a_future_version_unblocks_tracking(db_workspace: Path, tmp_path: Path) -> None:
    # what an import before the date check could leave behind
    _, future = record((A, datetime(2025, 1, 1)), (B, datetime(9999, 12, 31)))
    page = tmp_path / "live.md"
    page.write_text(C, encoding="utf-8")
    source = SourceDecl(platform="acme", doc_type="privacy_policy", url=page.as_uri())
    blocked = track_source(session_scope, source)
    assert blocked.status == "failed" and "append-only" in (blocked.reason or "")
    with session_scope() as s:
        removal = remove_version(s, "acme", "privacy_policy", future)
    assert removal.removed_versions == [future] and removal.realigned is None
    with session_scope() as s:
        assert s.get(Version, future) is None
        assert (
            s.scalar(select(func.count()).select_from(Clause).where(Clause.version_id == future))
            == 0
        )
        assert (
            s.scalar(
                select(func.count()).select_from(Change).where(Change.new_version_id == future)
            )
            == 0
        )
    assert track_source(session_scope, source).status == "new"
    assert dates()[0] == "2025-01-01" and len(dates()) == 2


def test_removing_a_middle_version_recomputes_the_next_ones_changes(db_workspace: Path) -> None:
    v1, v2, v3 = record(
        (A, datetime(2025, 1, 1)), (B, datetime(2025, 2, 1)), (C, datetime(2025, 3, 1))
    )
    with session_scope() as s:
        uids_before = [c.uid for c in version_clauses(s, s.get_one(Version, v3))]
        kinds_before = sorted(c.kind for c in version_changes(s, s.get_one(Version, v3)))
    assert kinds_before == ["added", "modified"]  # 90 -> 30 days, voice prints added
    pending = add_draft(v3, "pending")
    with session_scope() as s:
        removal = remove_version(s, "acme", "privacy_policy", v2)
    assert (removal.realigned, removal.realigned_against) == (v3, v1)
    assert removal.drafts == {"pending": 1}
    with session_scope() as s:
        v3row = s.get_one(Version, v3)
        changes = version_changes(s, v3row)
        assert [c.kind for c in changes] == ["added"]  # A -> C: only the added clause
        assert all(c.old_version_id == v1 for c in changes)
        assert [c.uid for c in version_clauses(s, v3row)] == uids_before  # ids kept
        new_clause = s.get_one(Clause, changes[0].new_clause_id)
        assert new_clause.version_id == v3 and "voice prints" in new_clause.text
        assert changes[0].clause_uid == new_clause.uid
        assert s.get(Draft, pending) is None
        assert s.scalars(select(DraftEvent).where(DraftEvent.draft_id == pending)).all() == []
    assert dates() == ["2025-01-01", "2025-03-01"]


def test_neighbours_that_become_equal_are_merged(db_workspace: Path) -> None:
    v1, v2, v3, v4 = record(
        (A, datetime(2025, 1, 1)),
        (B, datetime(2025, 2, 1)),
        (A, datetime(2025, 3, 1)),  # A -> B -> A
        (C, datetime(2025, 4, 1)),
    )
    with session_scope() as s:
        removal = remove_version(s, "acme", "privacy_policy", v2)
    assert removal.removed_versions == [v2, v3] and removal.merged == [v3]
    assert (removal.realigned, removal.realigned_against) == (v4, v1)
    assert any("too" in line for line in removal.lines())
    with session_scope() as s:
        doc = get_document(s, "acme", "privacy_policy")
        assert doc is not None
        versions = document_versions(s, doc)
        assert [v.id for v in versions] == [v1, v4]
        shas = [v.text_sha256 for v in versions]
        assert all(a != b for a, b in itertools.pairwise(shas))
        assert [c.kind for c in version_changes(s, versions[1])] == ["added"]


def test_removing_the_first_version_leaves_the_next_without_changes(db_workspace: Path) -> None:
    v1, v2 = record((A, datetime(2025, 1, 1)), (B, datetime(2025, 2, 1)))
    with session_scope() as s:
        remove_version(s, "acme", "privacy_policy", v1)
    with session_scope() as s:
        assert version_changes(s, s.get_one(Version, v2)) == []
        assert s.scalar(select(func.count()).select_from(Change)) == 0


def test_approved_analyses_need_force(db_workspace: Path) -> None:
    _v1, v2 = record((A, datetime(2025, 1, 1)), (B, datetime(2025, 2, 1)))
    approved = add_draft(v2, "approved")
    with session_scope() as s, pytest.raises(PublishedDependentsError, match=str(approved)):
        remove_version(s, "acme", "privacy_policy", v2)
    with session_scope() as s:  # nothing changed
        assert s.get(Version, v2) is not None and s.get(Draft, approved) is not None
    with session_scope() as s:
        removal = remove_version(s, "acme", "privacy_policy", v2, force=True)
    assert removal.approved_drafts == [approved]
    with session_scope() as s:
        assert s.get(Version, v2) is None and s.get(Draft, approved) is None


def test_versions_remove_cli(db_workspace: Path) -> None:
    _v1, v2 = record((A, datetime(2025, 1, 1)), (B, datetime(9999, 12, 31)))
    runner = CliRunner()
    dry = runner.invoke(app, ["versions", "remove", "acme", "privacy_policy", str(v2), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and str(v2) in dry.output
    assert len(dates()) == 2
    wrong = runner.invoke(app, ["versions", "remove", "acme", "terms_of_service", str(v2)])
    assert wrong.exit_code != 0
    done = runner.invoke(app, ["versions", "remove", "acme", "privacy_policy", str(v2)])
    assert done.exit_code == 0, done.output
    assert "removed version(s)" in done.output
    assert dates() == ["2025-01-01"]
