"""Editors' past decisions as votes for the regulation mapper.

Every approved analysis is a decision: each provision it cites counts +1 for clauses of the same
categories (kept or added by the editor); each provision an editor removed from a draft's
regulatory landscape (seen in the audit trail) counts -1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models.drafts import Draft, DraftEvent

SCAN_LIMIT = 500  # most recent approved analyses read


def _ids(value: Any) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {
        str(item["provision_id"])
        for item in value
        if isinstance(item, dict) and item.get("provision_id")
    }


def editor_votes(session: Session, categories: Sequence[str]) -> dict[str, int]:
    """provision id -> net votes from approved analyses sharing a category with the clause."""
    wanted = set(categories)
    if not wanted:
        return {}
    drafts = session.scalars(
        select(Draft)
        .where(Draft.status == DraftStatus.APPROVED, Draft.analysis.is_not(None))
        .order_by(Draft.id.desc())
        .limit(SCAN_LIMIT)
    ).all()
    votes: Counter[str] = Counter()
    relevant: list[int] = []
    for draft in drafts:
        analysis = draft.analysis or {}
        if not wanted & set(analysis.get("categories") or []):
            continue
        relevant.append(draft.id)
        for pid in _ids(analysis.get("regulatory_landscape")):
            votes[pid] += 1
    if relevant:
        edits = session.scalars(
            select(DraftEvent).where(
                DraftEvent.draft_id.in_(relevant),
                DraftEvent.field == "regulatory_landscape",
            )
        )
        for event in edits:
            for pid in _ids(event.before) - _ids(event.after):
                votes[pid] -= 1
    return {pid: n for pid, n in votes.items() if n}
