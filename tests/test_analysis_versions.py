"""Stored analyses carry their schema version; reading brings them to the current one.

``data/analyses/v<N>.json`` holds analyses as version N stored them (what the drafting stage
and editors' edits wrote). A change to ``ProvisionAnalysis`` that old analyses no longer fit
fails here until it bumps ``ANALYSIS_VERSION`` and registers the upgrader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from review_helpers import analysis, seed_draft

from clausewatch.publication.catalog import load_catalog
from clausewatch.review import service
from clausewatch.schemas import analysis_versions
from clausewatch.schemas.analysis import ProvisionAnalysis, Text
from clausewatch.schemas.analysis_versions import (
    ANALYSIS_VERSION,
    UPGRADES,
    AnalysisVersionError,
    read_analysis,
    upgrade_analysis,
)
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft

STORED = Path(__file__).parent / "data" / "analyses"


def _stored() -> list[tuple[int, str, dict[str, Any]]]:
    out = []
    for path in sorted(STORED.glob("v*.json")):
        version = int(path.stem.removeprefix("v"))
        for name, data in json.loads(path.read_text(encoding="utf-8")).items():
            out.append((version, name, data))
    return out


def test_every_version_has_its_upgrader_and_a_stored_example() -> None:
    assert sorted(UPGRADES) == list(range(1, ANALYSIS_VERSION))
    assert {version for version, _, _ in _stored()} == set(range(1, ANALYSIS_VERSION + 1))


@pytest.mark.parametrize(("version", "name", "data"), _stored())
def test_what_every_version_stored_still_reads(version: int, name: str, data: Any) -> None:
    parsed = read_analysis(data, version)
    assert parsed.title == data["title"]


def test_a_version_this_code_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(AnalysisVersionError, match="newer clausewatch"):
        upgrade_analysis(analysis(), ANALYSIS_VERSION + 1)
    assert upgrade_analysis(analysis(), None) == analysis()  # rows from before versions: 1


# ---- a future version with a new required field ---------------------------------------------


class WithScope(ProvisionAnalysis):
    """Version 2 of this test: what the editor checked the analysis against, required."""

    reviewed_scope: Text


SCOPE = "Not recorded: approved before analyses said what was reviewed."


@pytest.fixture
def version_2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(analysis_versions, "ANALYSIS_VERSION", 2)
    monkeypatch.setattr(analysis_versions, "MODEL", WithScope)
    monkeypatch.setitem(UPGRADES, 1, lambda d: {**d, "reviewed_scope": SCOPE})
    yield


def _old_draft(status: str) -> int:
    """A draft stored by version 1 (before the new field existed)."""
    with session_scope() as session:
        draft_id = seed_draft(session, status=status, data=analysis())
        draft = session.get(Draft, draft_id)
        assert draft is not None
        draft.analysis_version = 1
    return draft_id


def test_a_new_required_field_keeps_old_approved_analyses_published(
    db_workspace: Path, version_2: None
) -> None:
    draft_id = _old_draft("approved")
    with pytest.raises(ValidationError, match="reviewed_scope"):  # what the upgrader prevents
        WithScope.model_validate(analysis())
    with session_scope() as session:
        catalog = load_catalog(session, with_changes=False)
    assert catalog.problems == []
    [published] = catalog.analyses
    assert published.draft_id == draft_id
    assert isinstance(published.analysis, WithScope)
    assert published.analysis.reviewed_scope == SCOPE


def test_without_its_upgrader_the_old_analysis_is_reported_not_published(
    db_workspace: Path, version_2: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(UPGRADES, 1)
    _old_draft("approved")
    with session_scope() as session:
        catalog = load_catalog(session, with_changes=False)
    assert catalog.analyses == []
    assert "no upgrader from analysis version 1 to 2" in catalog.problems[0]


def test_editors_edit_and_approve_old_drafts_after_the_bump(
    db_workspace: Path, version_2: None
) -> None:
    draft_id = _old_draft("pending")
    with session_scope() as session:
        draft = service.get_draft(session, draft_id)
        result = service.edit_draft(
            session, draft_id, {"title": "A clearer title"}, draft.lock_version, "alice"
        )
        assert result.changed == ["title"]  # the upgrade itself is not an editor's edit
        service.approve(session, draft_id, "alice")
    with session_scope() as session:
        draft = service.get_draft(session, draft_id)
        assert draft.analysis_version == 2
        assert draft.analysis is not None and draft.analysis["reviewed_scope"] == SCOPE
        assert draft.status == "approved"
