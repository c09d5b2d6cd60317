"""A ``ChangeSummary`` per new version: its material changes, one line each, for alerts.

Deterministic: the line is the change summary of the clause's current draft when there is
one (approved first, then pending), otherwise a line built from the change itself. Moves
are not material (the text is unchanged).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.drafting.demo import is_demo
from clausewatch.drafting.sentences import preview
from clausewatch.schemas.analysis import MAX_SUMMARY_CHANGES, ChangeSummary, MaterialChange
from clausewatch.storage.models import Change, Clause, Document, Draft, Version

MATERIAL_KINDS = ("added", "removed", "modified")
LINE_LIMIT = 200
_VERB = {"added": "Added", "removed": "Removed", "modified": "Changed"}
_STATUS_RANK = {"approved": 0, "pending": 1}


def _best_draft(drafts: list[Draft]) -> Draft | None:
    usable = [
        d
        for d in drafts
        if d.status in _STATUS_RANK
        and not is_demo(d.backend)  # an alert's line never comes from a demo analysis
        and isinstance(d.analysis, dict)
        and d.analysis.get("change")
    ]
    usable.sort(key=lambda d: (_STATUS_RANK[d.status], -d.id))
    return usable[0] if usable else None


def _fallback_line(change: Change, clause: Clause | None) -> str:
    section = " > ".join(clause.path) if clause and clause.path else ""
    where = f" in “{preview(section, 60)}”" if section else ""
    text = preview(clause.text, 110) if clause else "(clause text unavailable)"
    return preview(f"{_VERB[change.kind]} clause{where}: “{text}”", LINE_LIMIT)


def summarize_version(session: Session, version_id: int) -> ChangeSummary:
    version = session.get(Version, version_id)
    if version is None:
        raise InputError(f"no version with id {version_id}")
    document = session.get(Document, version.document_id)
    if document is None:
        raise InputError(f"version {version_id}: document not found")
    changes = list(
        session.scalars(
            select(Change)
            .where(Change.new_version_id == version_id, Change.kind.in_(MATERIAL_KINDS))
            .order_by(Change.id)
        )
    )
    ids = [c.id for c in changes]
    drafts_by_change: dict[int, list[Draft]] = {}
    if ids:
        for d in session.scalars(select(Draft).where(Draft.change_id.in_(ids))):
            if d.change_id is not None:
                drafts_by_change.setdefault(d.change_id, []).append(d)
    lines: list[MaterialChange] = []
    for change in changes[:MAX_SUMMARY_CHANGES]:
        clause_row = change.new_clause_id or change.old_clause_id
        clause = session.get(Clause, clause_row) if clause_row else None
        draft = _best_draft(drafts_by_change.get(change.id, []))
        if draft is not None and draft.analysis is not None:
            line = preview(str(draft.analysis["change"]["summary"]), LINE_LIMIT)
        else:
            line = _fallback_line(change, clause)
        lines.append(
            MaterialChange(
                clause_id=change.clause_uid,
                kind=change.kind,  # filtered by MATERIAL_KINDS
                line=line,
                change_id=change.id,
                draft_id=draft.id if draft is not None else None,
            )
        )
    return ChangeSummary(
        platform=document.platform,
        doc_type=document.doc_type,
        version_id=version.id,
        version_date=version.version_date,
        changes=lines,
        omitted=max(0, len(changes) - MAX_SUMMARY_CHANGES),
    )
