"""What the drafter was given (``Draft.context``), arranged for the draft page.

The stored record is read by ``schemas.draft_context.read_context`` (every version, never
raising). The clause before/after comes from the record, else from the Change/Clause rows,
else from the analysis' ``change``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from clausewatch.review.diff import Segment, columns
from clausewatch.schemas.draft_context import DraftContextRecord, read_context
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate
from clausewatch.schemas.vocabulary import ChangeKind
from clausewatch.storage.models.archive import Change, Clause
from clausewatch.storage.models.drafts import Draft

MAX_TEXT = 20_000
MAX_ITEMS = 50  # comparables, regulations
MAX_LINES = 20  # errors, notes


@dataclass
class ClauseView:
    before: str | None = None
    after: str | None = None
    kind: str | None = None
    path: list[str] = field(default_factory=list)
    left: list[Segment] = field(default_factory=list)
    right: list[Segment] = field(default_factory=list)


@dataclass
class ContextView:
    clause: ClauseView
    comparables: list[Comparable]
    regulations: list[RegulationCandidate]
    errors: list[str]
    notes: list[str]


def _bounded(text: str | None) -> str | None:
    return text[:MAX_TEXT] if text is not None else None


def _clause_from_record(record: DraftContextRecord) -> ClauseView:
    """Whole texts first (the change's old and new clause), the changed sentences after."""
    view = ClauseView()
    if record.change is not None:
        view.kind = record.change.kind
        view.before = _bounded(record.change.old_text or record.change.before)
        view.after = _bounded(record.change.new_text or record.change.after)
    if record.clause is not None:
        if view.after is None:
            view.after = _bounded(record.clause.text)
        view.path = list(record.clause.path)
    return view


def _clause_text(session: Session, clause_id: int | None) -> str | None:
    if clause_id is None:
        return None
    clause = session.get(Clause, clause_id)
    return clause.text[:MAX_TEXT] if clause is not None else None


def clause_view(
    session: Session, draft: Draft, record: DraftContextRecord | None = None
) -> ClauseView:
    view = _clause_from_record(record or read_context(draft.context))
    if draft.change_id is not None and (view.before is None or view.after is None):
        change = session.get(Change, draft.change_id)
        if change is not None:
            view.kind = view.kind or change.kind
            if view.before is None:
                view.before = _clause_text(session, change.old_clause_id)
            if view.after is None:
                view.after = _clause_text(session, change.new_clause_id)
    if view.after is None and view.before is None:
        view.after = _clause_text(session, draft.clause_id)
    analysis = draft.analysis if isinstance(draft.analysis, Mapping) else {}
    change_info = analysis.get("change")
    if isinstance(change_info, Mapping) and view.before is None and view.after is None:
        view.before = _text(change_info.get("before"))
        view.after = _text(change_info.get("after"))
        view.kind = view.kind or _text(change_info.get("kind"))
    if view.kind == ChangeKind.ADDED:
        view.before = None
    elif view.kind == ChangeKind.REMOVED:
        view.after = None
    view.left, view.right = columns(view.before, view.after)
    return view


def _text(value: object) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def context_view(session: Session, draft: Draft) -> ContextView:
    record = read_context(draft.context)
    return ContextView(
        clause=clause_view(session, draft, record),
        comparables=record.comparables[:MAX_ITEMS],
        regulations=record.regulations[:MAX_ITEMS],
        errors=record.errors[:MAX_LINES],
        notes=record.retrieval_notes[:MAX_LINES],
    )
