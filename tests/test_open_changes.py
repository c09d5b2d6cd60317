"""One definition of an open change (``drafting.queue.open_changes``) for ``clausewatch status``
and the monitor's drafting plan.

They used to disagree: status counted a change as open until an editor approved or rejected
its draft, while the monitor drafts only changes with no draft at all. A change whose draft
waited in the queue (pending, flagged, sent back for a redraft) was "open" in the status and
never drafted by a run, so after a run drafted everything, status still said 8 open changes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from clausewatch.drafting.demo import DEMO_BACKEND
from clausewatch.flows.tasks import plan_drafts
from clausewatch.status import collect
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Clause, Document, Draft, Version


def _version(session: Session, doc: Document, day: int, texts: list[str]) -> list[Clause]:
    version = Version(
        document_id=doc.id,
        version_date=datetime(2026, 1, day),
        text_sha256=hashlib.sha256(f"{day}{texts}".encode()).hexdigest(),
        markdown="\n\n".join(texts),
    )
    session.add(version)
    session.flush()
    clauses = [
        Clause(
            version_id=version.id,
            position=i,
            uid=f"c{i}",
            text=text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            categories=["data-retention"],
        )
        for i, text in enumerate(texts)
    ]
    session.add_all(clauses)
    session.flush()
    return clauses


def _change(session: Session, kind: str, old: Clause | None, new: Clause) -> Change:
    change = Change(
        document_id=new.version.document_id,
        old_version_id=old.version_id if old is not None else None,
        new_version_id=new.version_id,
        kind=kind,
        clause_uid=new.uid,
        old_clause_id=old.id if old is not None else None,
        new_clause_id=new.id,
    )
    session.add(change)
    session.flush()
    return change


def _draft(session: Session, change: Change, status: str, backend: str = "local") -> None:
    session.add(
        Draft(
            input_hash=f"{change.id}-{status}-{backend}",
            change_id=change.id,
            clause_uid=change.clause_uid,
            platform="acme",
            doc_type="privacy_policy",
            status=status,
            prompt_id="provision-analysis",
            prompt_version="1",
            rendered_prompt="",
            model="m",
            backend=backend,
        )
    )


def test_status_counts_what_the_monitor_drafts(db_workspace: Path) -> None:
    texts = [f"We keep your data for {n} days." for n in range(7)]
    with session_scope() as session:
        doc = Document(platform="acme", doc_type="privacy_policy")
        session.add(doc)
        session.flush()
        first = _version(session, doc, 1, texts)
        second = _version(session, doc, 2, [t.replace("days", "weeks") for t in texts])
        _change(session, "added", None, first[0])  # a first version's clause: not a change
        changes = {
            name: _change(session, kind, first[i], second[i])
            for i, (name, kind) in enumerate(
                [
                    ("undrafted", "modified"),
                    ("demo-only", "modified"),
                    ("pending", "modified"),
                    ("flagged", "added"),
                    ("redraft", "modified"),
                    ("rejected", "removed"),
                    ("moved", "moved"),
                ]
            )
        }
        _draft(session, changes["demo-only"], "approved", backend=DEMO_BACKEND)
        _draft(session, changes["pending"], "pending")
        _draft(session, changes["flagged"], "flagged")
        _draft(session, changes["redraft"], "redraft_requested")
        _draft(session, changes["rejected"], "rejected")
        expected = {changes["undrafted"].id, changes["demo-only"].id}

    planned = {p.change_id for p in plan_drafts()}
    with session_scope() as session:
        counted = collect(session)["open_changes"]
    # the old status query also counted the pending, flagged and redraft-requested ones (5)
    assert planned == expected
    assert counted == len(expected) == 2
