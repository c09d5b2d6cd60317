"""Drafts in the database: idempotence, flagging, redrafts, approved examples, summaries."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from drafting_support import CATALOGUE, CLAUSE, COMPARABLES, OLD_CLAUSE, answer, with_change
from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.drafting import service
from clausewatch.drafting.retrieve import Retrieved
from clausewatch.drafting.service import draft_change, process_redrafts
from clausewatch.llm.fake import FakeLLM
from clausewatch.schemas.retrieval import RegulationCandidate
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Clause, Document, Draft, DraftEvent, LLMCall, Version


@pytest.fixture
def stub_retrieval(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_retrieve(text: str, **_: Any) -> Retrieved:
        return Retrieved(
            comparables=list(COMPARABLES),
            regulations=[
                RegulationCandidate(id=i, title=CATALOGUE[i].title, score=0.5)
                for i in ("gdpr:28", "ccpa:1798.100")
            ],
        )

    monkeypatch.setattr(service, "retrieve", fake_retrieve)
    monkeypatch.setattr(service, "load_catalogue_safely", lambda notes: dict(CATALOGUE))
    monkeypatch.setattr(service, "category_hint", lambda text, notes: [])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _version(s: Session, doc: Document, day: int, texts: list[str]) -> tuple[Version, list[Clause]]:
    v = Version(
        document_id=doc.id,
        version_date=datetime(2026, 1, day),
        text_sha256=_sha(f"{day}{texts}"),
        markdown="\n\n".join(texts),
    )
    s.add(v)
    s.flush()
    rows = []
    for i, t in enumerate(texts):
        c = Clause(
            version_id=v.id,
            position=i,
            uid=f"uid-{i}",
            path=["Policy"],
            text=t,
            text_sha256=_sha(t),
        )
        s.add(c)
        rows.append(c)
    s.flush()
    return v, rows


def _seed(s: Session) -> dict[str, int]:
    doc = Document(platform="acme", doc_type="privacy_policy")
    s.add(doc)
    s.flush()
    extra_old = "We keep account data for as long as your account is open."
    moved = "Contact our privacy team by e-mail."
    added = "We may use your prompts to train our models unless you opt out."
    v1, old = _version(s, doc, 1, [OLD_CLAUSE, extra_old, moved])
    v2, new = _version(s, doc, 2, [moved, CLAUSE, added])
    modified = Change(
        document_id=doc.id,
        old_version_id=v1.id,
        new_version_id=v2.id,
        kind="modified",
        clause_uid="uid-0",
        old_clause_id=old[0].id,
        new_clause_id=new[1].id,
    )
    removed = Change(
        document_id=doc.id,
        old_version_id=v1.id,
        new_version_id=v2.id,
        kind="removed",
        clause_uid="uid-1",
        old_clause_id=old[1].id,
    )
    added_c = Change(
        document_id=doc.id,
        old_version_id=v1.id,
        new_version_id=v2.id,
        kind="added",
        clause_uid="uid-2b",
        new_clause_id=new[2].id,
    )
    moved_c = Change(
        document_id=doc.id,
        old_version_id=v1.id,
        new_version_id=v2.id,
        kind="moved",
        clause_uid="uid-2",
        old_clause_id=old[2].id,
        new_clause_id=new[0].id,
    )
    s.add_all([modified, removed, added_c, moved_c])
    s.commit()
    return {
        "modified": modified.id,
        "removed": removed.id,
        "added": added_c.id,
        "moved": moved_c.id,
        "v2": v2.id,
    }


def test_draft_change_stores_a_pending_draft_and_is_idempotent(
    db_workspace: Path, stub_retrieval: None
) -> None:
    with session_scope() as s:
        ids = _seed(s)
        llm = FakeLLM([with_change()])
        draft = draft_change(s, ids["modified"], llm=llm)
        assert draft.status == "pending" and draft.analysis is not None
        assert draft.analysis["change"]["kind"] == "modified"
        assert draft.prompt_id == "provision_analysis" and draft.prompt_version
        assert (
            "=== system ===" in draft.rendered_prompt
            and "<<<BEGIN DATA>>>" in draft.rendered_prompt
        )
        assert draft.context["clause"]["text"] == CLAUSE
        assert draft.tokens_in > 0 and len(draft.attempts) == 1
        events = s.scalars(select(DraftEvent).where(DraftEvent.draft_id == draft.id)).all()
        assert [e.action for e in events] == ["drafted"]
        first_id = draft.id
        # rerun: same inputs -> the stored draft, and no LLM call (the script is empty)
        again = draft_change(s, ids["modified"], llm=llm)
        assert again.id == first_id and len(llm.requests) == 1
    with session_scope() as s:
        assert s.scalar(select(LLMCall.prompt_id)) == "provision_analysis"
        assert len(s.scalars(select(Draft)).all()) == 1


def test_removed_clause_is_analysed_from_the_old_text(
    db_workspace: Path, stub_retrieval: None
) -> None:
    with session_scope() as s:
        ids = _seed(s)
        a = with_change(excerpt_sentences=[1])
        draft = draft_change(s, ids["removed"], llm=FakeLLM([a]))
        assert draft.analysis is not None
        assert draft.analysis["excerpt"].startswith("We keep account data")
        assert draft.analysis["change"]["before"].startswith("We keep account data")
        assert draft.analysis["change"]["after"] is None


def test_failed_draft_is_flagged_not_dropped(db_workspace: Path, stub_retrieval: None) -> None:
    with session_scope() as s:
        ids = _seed(s)
        draft = draft_change(s, ids["modified"], llm=FakeLLM(["x", "y", "z"]))
        assert draft.status == "flagged" and draft.analysis is None
        assert len(draft.attempts) == 3
        assert all(a["outcome"] == "json" for a in draft.attempts)
        assert draft.context["errors"]
        event = s.scalars(select(DraftEvent).where(DraftEvent.draft_id == draft.id)).one()
        assert event.note is not None and event.note.startswith("flagged after 3 attempt(s)")


def test_flagged_draft_keeps_a_best_effort(db_workspace: Path, stub_retrieval: None) -> None:
    lazy = with_change(comparisons=[], regulatory_landscape=[])
    with session_scope() as s:
        ids = _seed(s)
        draft = draft_change(s, ids["modified"], llm=FakeLLM([lazy, lazy, lazy]))
        assert draft.status == "flagged" and draft.context["best_effort"] is True
        assert draft.analysis is not None and draft.analysis["comparisons"] == []
        assert any("cite at least one" in e for e in draft.context["errors"])


def test_unknown_change_is_an_input_error(db_workspace: Path) -> None:
    with session_scope() as s, pytest.raises(InputError):
        draft_change(s, 9999, llm=FakeLLM([]))


def test_process_redrafts(db_workspace: Path, stub_retrieval: None) -> None:
    with session_scope() as s:
        ids = _seed(s)
        old = draft_change(s, ids["modified"], llm=FakeLLM([with_change()]))
        old.status = "redraft_requested"
        old.redraft_instructions = "Mention that the agreement is not public."
        s.commit()
        llm = FakeLLM([with_change(title="Business API data: agreement not public")])
        new_drafts = process_redrafts(s, llm=llm)
        assert len(new_drafts) == 1
        new = new_drafts[0]
        assert new.id != old.id and new.redraft_of == old.id and new.status == "pending"
        assert "Mention that the agreement is not public." in llm.requests[0].messages[1]["content"]
        assert "Mention that the agreement" in new.rendered_prompt
        s.refresh(old)
        assert old.status == "superseded"
        actions = [
            e.action for e in s.scalars(select(DraftEvent).where(DraftEvent.draft_id == old.id))
        ]
        assert actions == ["drafted", "superseded"]
        assert process_redrafts(s, llm=FakeLLM([])) == []


def test_approved_analyses_become_examples(
    db_workspace: Path, stub_retrieval: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.drafting import examples

    # a deterministic embedder: every text is similar
    monkeypatch.setattr(examples, "_default_embed", lambda texts: [[1.0, 0.5]] * len(texts))
    with session_scope() as s:
        ids = _seed(s)
        approved = draft_change(s, ids["modified"], llm=FakeLLM([with_change()]))
        approved.status = "approved"
        approved.decided_at = datetime(2026, 2, 1)
        s.commit()
        llm = FakeLLM([with_change(excerpt_sentences=[1])])
        draft = draft_change(s, ids["added"], llm=llm)
        user = llm.requests[0].messages[1]["content"]
        assert "EXAMPLES OF APPROVED ANALYSES" in user
        assert "Business API data follows a separate agreement" in user
        assert draft.analysis is not None
        assert draft.analysis["provenance"]["examples"] == [approved.id]


def test_examples_fall_back_to_word_overlap(
    db_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.drafting import examples

    def broken(texts: list[str]) -> list[list[float]]:
        raise RuntimeError("no embedder")

    with session_scope() as s:
        for i, text in enumerate([CLAUSE, "Disputes go to arbitration in Delaware."]):
            d = Draft(
                input_hash=f"h{i}",
                clause_uid=f"u{i}",
                platform="p",
                doc_type="privacy_policy",
                status="approved",
                analysis={**answer(), "exposure": {"level": "Low", "rationale": "r"}},
                context={"clause": {"text": text}},
                prompt_id="p",
                prompt_version="1",
                rendered_prompt="",
                model="m",
                backend="fake",
            )
            s.add(d)
        s.commit()
        found = examples.approved_examples(s, OLD_CLAUSE, limit=2, embed=broken)
        assert [e.clause for e in found] == [CLAUSE]
        found = examples.approved_examples(
            s, OLD_CLAUSE, limit=2, embed=lambda texts: [[1.0, 0.0]] * len(texts)
        )
        assert len(found) == 2
