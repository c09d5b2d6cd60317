"""What the drafter was given (``Draft.context``), read defensively for display.

The context is JSON written by the drafting stage; keys are looked up under a few names and
anything of an unexpected shape is skipped rather than trusted. The clause before/after comes
from the context, else from the Change/Clause rows, else from the analysis' ``change``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from clausewatch.review.diff import Segment, word_diff
from clausewatch.storage.models.archive import Change, Clause
from clausewatch.storage.models.drafts import Draft

COMPARABLE_KEYS = ("comparables", "comparable_provisions", "similar", "retrieved_provisions")
REGULATION_KEYS = (
    "regulations",
    "regulation_candidates",
    "regulatory_candidates",
    "retrieved_regulations",
)
# full texts first (drafting stores change.old_text/new_text and clause.text), excerpts last
BEFORE_KEYS = ("old_text", "clause_before", "before_text", "previous_text", "before")
AFTER_KEYS = ("new_text", "clause_after", "after_text", "clause_text", "text", "after")
MAX_TEXT = 20_000


@dataclass
class Comparable:
    platform: str
    doc_type: str
    clause_id: str
    text: str
    score: float | None
    path: list[str]


@dataclass
class Regulation:
    id: str
    title: str
    score: float | None
    obligations: str


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
    regulations: list[Regulation]
    errors: list[str]
    notes: list[str]


def _str(value: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in data and data[key] not in (None, ""):
            return data[key]
    return None


def _str_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_str(v, 300) for v in value if isinstance(v, str)]
    return []


def _comparables(raw: Any) -> list[Comparable]:
    if isinstance(raw, Mapping):  # grouped by platform
        raw = [item for group in raw.values() if isinstance(group, list) for item in group]
    if not isinstance(raw, list):
        return []
    out: list[Comparable] = []
    for item in raw[:50]:
        if not isinstance(item, Mapping):
            continue
        out.append(
            Comparable(
                platform=_str(item.get("platform"), 100),
                doc_type=_str(item.get("doc_type"), 50),
                clause_id=_str(item.get("clause_id") or item.get("id") or item.get("uid"), 100),
                text=_str(item.get("text") or item.get("excerpt")),
                score=_float(item.get("score")),
                path=_str_list(item.get("path")),
            )
        )
    return out


def _regulations(raw: Any) -> list[Regulation]:
    if not isinstance(raw, list):
        return []
    out: list[Regulation] = []
    for item in raw[:50]:
        if not isinstance(item, Mapping):
            continue
        out.append(
            Regulation(
                id=_str(item.get("id") or item.get("provision_id"), 100),
                title=_str(item.get("title"), 300),
                score=_float(item.get("score")),
                obligations=_str(item.get("obligations") or item.get("text")),
            )
        )
    return out


def _clause_from_context(ctx: Mapping[str, Any]) -> ClauseView:
    view = ClauseView()
    holders: list[Mapping[str, Any]] = []
    for key in ("change", "diff"):
        sub = ctx.get(key)
        if isinstance(sub, Mapping):
            holders.append(sub)
    holders.append(ctx)
    clause = ctx.get("clause")
    if isinstance(clause, Mapping):
        holders.append(clause)
    for holder in holders:
        if view.before is None:
            b = _first(holder, BEFORE_KEYS)
            view.before = _str(b) if isinstance(b, str) else None
        if view.after is None:
            a = _first(holder, AFTER_KEYS)
            view.after = _str(a) if isinstance(a, str) else None
        if view.kind is None and isinstance(holder.get("kind"), str):
            view.kind = _str(holder.get("kind"), 20)
        if not view.path:
            view.path = _str_list(holder.get("path") or holder.get("heading_trail"))
    return view


def _clause_text(session: Session, clause_id: int | None) -> str | None:
    if clause_id is None:
        return None
    clause = session.get(Clause, clause_id)
    return clause.text[:MAX_TEXT] if clause is not None else None


def clause_view(session: Session, draft: Draft) -> ClauseView:
    ctx = draft.context if isinstance(draft.context, Mapping) else {}
    view = _clause_from_context(ctx)
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
        view.before = _str(change_info.get("before")) or None
        view.after = _str(change_info.get("after")) or None
        view.kind = view.kind or _str(change_info.get("kind"), 20) or None
    if view.kind == "added":
        view.before = None
    elif view.kind == "removed":
        view.after = None
    view.left, view.right = word_diff(view.before, view.after)
    return view


def context_view(session: Session, draft: Draft) -> ContextView:
    ctx = draft.context if isinstance(draft.context, Mapping) else {}
    return ContextView(
        clause=clause_view(session, draft),
        comparables=_comparables(_first(ctx, COMPARABLE_KEYS)),
        regulations=_regulations(_first(ctx, REGULATION_KEYS)),
        errors=[_str(e, 2000) for e in _list(ctx.get("errors"))][:20],
        notes=[_str(e, 2000) for e in _list(ctx.get("retrieval_notes"))][:20],
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
