"""``Draft.context`` has one schema (``schemas.draft_context``): drafting writes it, review and
grounding read it, and rows stored before it had a version are read by ``read_context``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drafting_support import CLAUSE, COMPARABLES, OLD_CLAUSE, make_ctx, modified_change
from review_helpers import ANALYSIS, analysis, context, seed_draft

from clausewatch.review.context import context_view
from clausewatch.review.service import grounding_problems
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.draft_context import CONTEXT_VERSION, DraftContextRecord, read_context
from clausewatch.schemas.vocabulary import ChangeKind
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft


def test_drafting_writes_a_versioned_record_that_reads_back_the_same() -> None:
    record = make_ctx(change=modified_change()).to_record()
    stored = record.model_dump(mode="json")
    assert stored["version"] == CONTEXT_VERSION
    assert read_context(stored) == record
    assert record.clause is not None and record.clause.text == CLAUSE
    assert record.change is not None and record.change.old_text == OLD_CLAUSE
    assert [c.clause_id for c in record.comparables] == [c.clause_id for c in COMPARABLES]


def test_a_row_stored_before_the_version_reads_as_drafting_wrote_it() -> None:
    """The dict ``DraftContext.to_record`` returned before this schema (no ``version``)."""
    legacy = make_ctx(change=modified_change()).to_record().model_dump(mode="json")
    for key in ("version", "errors", "best_effort", "demo", "note"):
        del legacy[key]
    assert read_context(legacy) == make_ctx(change=modified_change()).to_record()


def test_old_key_names_are_read() -> None:
    """Names the review page used to look under, besides the ones drafting wrote."""
    record = read_context(
        {
            "comparable_provisions": {
                "otherco": [
                    {"platform": "otherco", "id": "cmp-1", "excerpt": "We keep logs.", "score": 0.5}
                ]
            },
            "regulation_candidates": [
                {"provision_id": "gdpr:5", "title": "Principles", "score": 0.4, "text": "Limits."}
            ],
            "diff": {"kind": "modified", "clause_before": "Old text.", "clause_after": "New."},
            "clause": {"clause_text": "New.", "heading_trail": ["Logs"]},
        }
    )
    assert [(c.clause_id, c.text) for c in record.comparables] == [("cmp-1", "We keep logs.")]
    assert [(r.id, r.obligations) for r in record.regulations] == [("gdpr:5", "Limits.")]
    assert record.change is not None and record.change.kind is ChangeKind.MODIFIED
    assert (record.change.old_text, record.change.new_text) == ("Old text.", "New.")
    assert record.clause is not None and record.clause.path == ["Logs"]


def test_anything_stored_reads_without_raising() -> None:
    for raw in (None, [], "text", {}, {"comparables": "x", "clause": "y", "change": []}):
        assert read_context(raw) == DraftContextRecord()
    record = read_context({"comparables": [1, {"clause_id": "a"}, COMPARABLES[0].model_dump()]})
    assert [c.clause_id for c in record.comparables] == [COMPARABLES[0].clause_id]
    assert record.retrieval_notes == ["2 stored comparables of an unreadable shape left out"]
    damaged = {**make_ctx().to_record().model_dump(mode="json"), "examples": "none"}
    assert read_context(damaged).clause is not None  # read as tolerantly as an old row


def _edited_excerpt() -> dict[str, Any]:
    return analysis(excerpt="words the clause never says")


def test_review_and_grounding_read_old_and_new_rows_alike(db_workspace: Path) -> None:
    old_row = context()  # the shape stored before the record had a version
    new_row = read_context(old_row).model_dump(mode="json")
    assert "version" not in old_row and new_row["version"] == CONTEXT_VERSION
    with session_scope() as session:
        ids = {
            name: seed_draft(session, data=data, ctx=ctx)
            for name, data, ctx in (
                ("old", analysis(), old_row),
                ("new", analysis(), new_row),
                ("old-bad", _edited_excerpt(), old_row),
                ("new-bad", _edited_excerpt(), new_row),
            )
        }
        views, problems = {}, {}
        for name, draft_id in ids.items():
            draft = session.get(Draft, draft_id)
            assert draft is not None
            views[name] = context_view(session, draft)
            problems[name] = grounding_problems(
                session, draft, ProvisionAnalysis.model_validate(draft.analysis)
            )
    assert views["old"] == views["new"]
    assert views["old"].clause.before is not None and "standard terms" in views["old"].clause.before
    assert [c.clause_id for c in views["old"].comparables] == ["cirrus-privacy-7f3a"]
    assert problems["old"] == problems["new"] == []
    assert problems["old-bad"] == problems["new-bad"] != []
    assert "excerpt" in problems["old-bad"][0]


def test_a_demo_record_has_no_clause_to_ground(db_workspace: Path) -> None:
    demo = DraftContextRecord(demo=True, note="written by us").model_dump(mode="json")
    with session_scope() as session:
        draft_id = seed_draft(session, data=dict(ANALYSIS), ctx=demo)
        draft = session.get(Draft, draft_id)
        assert draft is not None
        parsed = ProvisionAnalysis.model_validate(draft.analysis)
        assert grounding_problems(session, draft, parsed) == []
        assert context_view(session, draft).comparables == []
