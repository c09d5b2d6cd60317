"""Review service: queue, locked edits with field-level audit, decisions, accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import PASSWORD, analysis, seed_draft
from sqlalchemy import select

from clausewatch.review import accounts, service
from clausewatch.review.errors import (
    ConflictError,
    FieldErrors,
    RateLimitedError,
    ReviewError,
    TransitionError,
)
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.review import User


def _seed_queue() -> dict[str, int]:
    with session_scope() as db:
        return {
            "low": seed_draft(
                db, platform="alpha", data=analysis(exposure={"level": "Low", "rationale": "r"})
            ),
            "high": seed_draft(
                db,
                platform="beta",
                doc_type="terms-of-service",
                data=analysis(
                    categories=["arbitration"], exposure={"level": "High", "rationale": "r"}
                ),
            ),
            "medium": seed_draft(db, platform="alpha"),
            "flagged": seed_draft(db, platform="gamma", status="flagged", data={}),
            "approved": seed_draft(db, platform="alpha", status="approved"),
        }


def test_queue_filters_sorts_and_counts(db_workspace: Path) -> None:
    ids = _seed_queue()
    with session_scope() as db:
        newest = [s.id for s in service.list_drafts(db)]
        assert newest == [ids["flagged"], ids["medium"], ids["high"], ids["low"]]
        by_exposure = service.list_drafts(db, service.make_filter(sort="exposure"))
        assert [s.exposure for s in by_exposure] == ["High", "Medium", "Low", None]
        alpha = service.list_drafts(db, service.make_filter(platform="alpha"))
        assert {s.id for s in alpha} == {ids["low"], ids["medium"]}
        tos = service.list_drafts(db, service.make_filter(doc_type="terms-of-service"))
        assert [s.id for s in tos] == [ids["high"]]
        arb = service.list_drafts(db, service.make_filter(category="arbitration"))
        assert [s.id for s in arb] == [ids["high"]]
        low = service.list_drafts(db, service.make_filter(exposure="Low"))
        assert [s.id for s in low] == [ids["low"]]
        done = service.list_drafts(db, service.make_filter(status="approved"))
        assert [s.id for s in done] == [ids["approved"]]
        assert len(service.list_drafts(db, service.make_filter(status="all"))) == 5
        counts = service.status_counts(db)
        assert counts["pending"] == 3 and counts["flagged"] == 1 and counts["approved"] == 1
        assert counts["open"] == 4 and counts["all"] == 5 and counts["rejected"] == 0
        flagged = service.summarize(service.get_draft(db, ids["flagged"]))
        assert flagged.title.startswith("(no analysis)")
        with pytest.raises(ReviewError, match="unknown status"):
            service.make_filter(status="published")
        with pytest.raises(ReviewError, match="unknown exposure"):
            service.make_filter(exposure="Severe")


def test_edit_records_each_changed_field_and_bumps_the_version(db_workspace: Path) -> None:
    with session_scope() as db:
        draft_id = seed_draft(db)
    with session_scope() as db:
        result = service.edit_draft(
            db,
            draft_id,
            {"title": "  A sharper headline  ", "exposure": {"level": "High", "rationale": "x"}},
            lock_version=1,
            actor="erin",
        )
        assert result.changed == ["title", "exposure"] and result.lock_version == 2
    with session_scope() as db:
        draft = service.get_draft(db, draft_id)
        assert draft.lock_version == 2
        assert draft.analysis is not None and draft.analysis["title"] == "A sharper headline"
        assert draft.analysis["provenance"]["tokens_in"] == 1834  # kept, not editable
        edits = [e for e in service.events_of(db, draft_id) if e.action == "edit"]
        assert [(e.field, e.actor) for e in edits] == [("title", "erin"), ("exposure", "erin")]
        assert edits[0].before.startswith("Enterprise API data now governed")
        assert edits[0].after == "A sharper headline"
        assert edits[1].before["level"] == "Medium" and edits[1].after["level"] == "High"
        # saving the same values again changes nothing and records nothing
        again = service.edit_draft(db, draft_id, {"title": "A sharper headline"}, 2, "erin")
        assert again.changed == [] and again.lock_version == 2
        # reordering categories is not an edit (checkbox forms send taxonomy order)
        same = service.edit_draft(
            db, draft_id, {"categories": ["data-retention", "enterprise-data-terms"]}, 2, "erin"
        )
        assert same.changed == []


def test_invalid_edit_reports_errors_per_field_and_writes_nothing(db_workspace: Path) -> None:
    with session_scope() as db:
        draft_id = seed_draft(db)
    with session_scope() as db, pytest.raises(FieldErrors) as info:
        service.edit_draft(
            db,
            draft_id,
            {
                "title": "",
                "categories": ["not-a-category"],
                "exposure": {"level": "Severe", "rationale": "x"},
                "comparisons": [{"platform": "x", "clause_id": "y", "excerpt": "", "note": "n"}],
            },
            1,
            "erin",
        )
    assert set(info.value.errors) == {
        "title",
        "categories.0",
        "exposure.level",
        "comparisons.0.excerpt",
    }
    with pytest.raises(FieldErrors, match="provenance"), session_scope() as db:
        service.edit_draft(db, draft_id, {"provenance": {}}, 1, "erin")
    with session_scope() as db:
        assert service.get_draft(db, draft_id).lock_version == 1
        assert [e.action for e in service.events_of(db, draft_id)] == ["drafted"]


def test_stale_lock_version_is_a_conflict_and_overwrites_nothing(db_workspace: Path) -> None:
    with session_scope() as db:
        draft_id = seed_draft(db)
    # two editors read version 1 in their own sessions
    with session_scope() as first, session_scope() as second:
        v1 = service.get_draft(first, draft_id).lock_version
        v2 = service.get_draft(second, draft_id).lock_version
        assert v1 == v2 == 1
        service.edit_draft(first, draft_id, {"title": "First editor's title"}, v1, "ann")
        first.commit()
        with pytest.raises(ConflictError, match="changed by someone else") as info:
            service.edit_draft(second, draft_id, {"title": "Second editor's title"}, v2, "bob")
        assert info.value.current == 2
    with session_scope() as db:
        draft = service.get_draft(db, draft_id)
        assert draft.analysis is not None and draft.analysis["title"] == "First editor's title"
        assert [e.actor for e in service.events_of(db, draft_id) if e.action == "edit"] == ["ann"]
        with pytest.raises(ConflictError):
            service.approve(db, draft_id, "bob", lock_version=1)


def test_decisions(db_workspace: Path) -> None:
    with session_scope() as db:
        a, r, d = (seed_draft(db) for _ in range(3))
        f = seed_draft(db, status="flagged", data={})
    with session_scope() as db:
        assert service.approve(db, a, "erin", note="fine") == 2
        with pytest.raises(ReviewError, match="reason is required"):
            service.reject(db, r, "erin", "   ")
        service.reject(db, r, "erin", "Misreads the clause.")
        with pytest.raises(ReviewError, match="instructions is required"):
            service.request_redraft(db, d, "erin", "")
        service.request_redraft(db, d, "erin", "Say that the agreement is not public.")
        with pytest.raises(TransitionError, match="does not validate"):
            service.approve(db, f, "erin")
        with pytest.raises(TransitionError, match="approved"):
            service.reject(db, a, "erin", "too late")
        with pytest.raises(TransitionError):
            service.edit_draft(db, a, {"title": "x"}, 2, "erin")
    with session_scope() as db:
        approved = service.get_draft(db, a)
        assert (approved.status, approved.decided_by, approved.decision_reason) == (
            "approved",
            "erin",
            "fine",
        )
        assert approved.decided_at is not None
        rejected = service.get_draft(db, r)
        assert (rejected.status, rejected.decision_reason) == ("rejected", "Misreads the clause.")
        redraft = service.get_draft(db, d)
        assert redraft.status == "redraft_requested"
        assert redraft.redraft_instructions == "Say that the agreement is not public."
        trail = service.events_of(db, d)[-1]
        assert (trail.action, trail.before, trail.after) == (
            "redraft_request",
            "pending",
            "redraft_requested",
        )
        export = service.audit_export(db)
        assert json.loads(json.dumps(export))["events"]
        assert {e["action"] for e in export["events"]} >= {
            "drafted",
            "approve",
            "reject",
            "redraft_request",
        }
        one = service.audit_export(db, r)
        assert {e["draft_id"] for e in one["events"]} == {r}
        data = service.draft_json(db, rejected)
        assert json.loads(json.dumps(data, default=str))["events"][-1]["note"] == (
            "Misreads the clause."
        )


def test_accounts_and_rate_limited_authentication(db_workspace: Path) -> None:
    with session_scope() as db:
        accounts.add_user(db, "ann", PASSWORD, "admin")
        accounts.add_user(db, "bob", PASSWORD, "editor")
        with pytest.raises(ReviewError, match="already exists"):
            accounts.add_user(db, "bob", PASSWORD)
        with pytest.raises(ReviewError, match="at least 8"):
            accounts.add_user(db, "cat", "short")
        with pytest.raises(ReviewError, match="role"):
            accounts.add_user(db, "cat", PASSWORD, "owner")
        with pytest.raises(ReviewError, match="user name"):
            accounts.add_user(db, "<script>", PASSWORD)
    with session_scope() as db:
        stored = db.scalars(select(User)).all()
        assert all(u.password_hash.startswith("$argon2id$") for u in stored)
        assert accounts.authenticate(db, "bob", PASSWORD, "10.0.0.1") is not None
        assert accounts.authenticate(db, "nobody", PASSWORD, "10.0.0.1") is None
        for _ in range(accounts.MAX_FAILURES):
            assert accounts.authenticate(db, "bob", "wrong password", "10.0.0.1") is None
    # the limit is in the database: a new session (or a restarted app) still refuses
    with session_scope() as db:
        with pytest.raises(RateLimitedError) as info:
            accounts.authenticate(db, "bob", PASSWORD, "10.0.0.1")
        assert 0 < info.value.retry_after_s <= 15 * 60
        # another address is not blocked
        assert accounts.authenticate(db, "bob", PASSWORD, "10.0.0.2") is not None
    with session_scope() as db:
        with pytest.raises(ReviewError, match="last admin"):
            accounts.remove_user(db, "ann")
        accounts.remove_user(db, "bob")
        assert [u.name for u in accounts.list_users(db)] == ["ann"]
        accounts.set_password(db, "ann", "a new long password")
        assert accounts.authenticate(db, "ann", "a new long password", "10.0.0.3") is not None


def test_old_login_attempts_are_pruned(db_workspace: Path) -> None:
    from datetime import timedelta

    from clausewatch.storage.models.base import utcnow
    from clausewatch.storage.models.review import LoginAttempt

    with session_scope() as db:
        db.add(LoginAttempt(username="x", ip="1", at=utcnow() - timedelta(days=40)))
        db.add(LoginAttempt(username="x", ip="1", at=utcnow() - timedelta(days=1)))
    with session_scope() as db:
        assert accounts.prune_attempts(db) == 1
        assert len(db.scalars(select(LoginAttempt)).all()) == 1


def test_approval_rechecks_grounding_after_edits(db_workspace: Path) -> None:
    """An editor's edit that paraphrases the excerpt, or a citation that is neither a draft's
    candidate nor added by an editor, blocks approval; an editor adding a catalogue provision
    does not."""
    with session_scope() as db:
        a = seed_draft(db)
        b = seed_draft(db)
        c = seed_draft(db)
    with session_scope() as db:
        service.edit_draft(db, a, {"excerpt": "API inputs are kept for a while."}, 1, "erin")
        with pytest.raises(TransitionError, match="excerpt: not a verbatim quote"):
            service.approve(db, a, "erin")
        landscape = [
            *service.get_draft(db, b).analysis["regulatory_landscape"],  # type: ignore[index]
            {
                "provision_id": "gdpr:32",
                "title": "GDPR Art. 32 — Security of processing",
                "relevance": "Retained inputs must be kept secure for the whole period.",
            },
        ]
        service.edit_draft(db, b, {"regulatory_landscape": landscape}, 1, "erin")
        assert service.approve(db, b, "erin") == 3
    with session_scope() as db:
        draft = service.get_draft(db, c)
        data = dict(draft.analysis or {})
        data["regulatory_landscape"] = [
            {"provision_id": "gdpr:9", "title": "GDPR Art. 9", "relevance": "Not retrieved."}
        ]
        draft.analysis = data
    with (
        session_scope() as db,
        pytest.raises(TransitionError, match="not among the retrieved candidates"),
    ):
        service.approve(db, c, "erin")


def test_most_edited_fields_per_category(db_workspace: Path) -> None:
    from clausewatch.review.insights import edited_fields_by_category

    with session_scope() as db:
        a = seed_draft(db)
        b = seed_draft(db)
    with session_scope() as db:
        service.edit_draft(db, a, {"title": "A sharper title for editors"}, 1, "erin")
        service.edit_draft(
            db, a, {"key_point": "The real terms live in a contract that is not public."}, 2, "erin"
        )
        service.edit_draft(db, b, {"title": "Another better title here"}, 1, "erin")
        service.edit_draft(db, b, {"categories": ["children"]}, 2, "erin")
    with session_scope() as db:
        data = edited_fields_by_category(db)
    # both drafts were drafted with these two categories (b's category edit counts there)
    for slug in ("enterprise-data-terms", "data-retention"):
        assert data[slug][0] == ("title", 2)
        assert dict(data[slug]) == {"title": 2, "key_point": 1, "categories": 1}
    assert "children" not in data
