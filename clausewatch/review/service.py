"""The review workflow: queue, edits with optimistic locking, decisions and the audit trail.

Every state change is an atomic ``UPDATE drafts ... WHERE id = :id AND lock_version = :v``;
when no row matches, the caller's copy was stale and a ConflictError is raised with nothing
written. Every edited field, decision and redraft request is a DraftEvent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast, get_args

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clausewatch.drafting.demo import demo_title, is_demo
from clausewatch.review.errors import (
    ConflictError,
    FieldErrors,
    NotFoundError,
    ReviewError,
    TransitionError,
)
from clausewatch.schemas import analysis_versions
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.analysis_versions import AnalysisVersionError, upgrade_analysis
from clausewatch.schemas.draft_context import read_context
from clausewatch.schemas.taxonomy import CATEGORIES
from clausewatch.schemas.vocabulary import OPEN_STATUSES, DraftStatus, ExposureLevel, exposure_rank
from clausewatch.storage.models.base import fits_integer, utcnow
from clausewatch.storage.models.drafts import Draft, DraftEvent

STATUSES: tuple[str, ...] = tuple(DraftStatus)
EDITABLE_FIELDS: tuple[str, ...] = tuple(
    name for name in ProvisionAnalysis.model_fields if name != "provenance"
)
MAX_NOTE = 4000
QUEUE_LIMIT = 500  # drafts shown on one queue page
Sort = Literal["newest", "oldest", "exposure"]
SORTS: tuple[str, ...] = get_args(Sort)
EXPOSURES: tuple[str, ...] = tuple(ExposureLevel)


@dataclass
class QueueFilter:
    """Queue filters; ``status`` is a status, ``open`` (pending + flagged) or ``all``."""

    status: str = "open"
    platform: str | None = None
    doc_type: str | None = None
    category: str | None = None
    exposure: str | None = None
    sort: Sort = "newest"
    limit: int = 500


@dataclass(frozen=True)
class DraftSummary:
    id: int
    platform: str
    doc_type: str
    status: str
    title: str
    categories: list[str]
    exposure: str | None
    excerpt: str
    created_at: datetime
    redraft_of: int | None
    lock_version: int
    demo: bool = False  # written by us for the sample (``clausewatch demo``), not by a model

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "doc_type": self.doc_type,
            "status": self.status,
            "title": self.title,
            "categories": self.categories,
            "exposure": self.exposure,
            "excerpt": self.excerpt,
            "created_at": self.created_at.isoformat(),
            "redraft_of": self.redraft_of,
            "lock_version": self.lock_version,
            "demo": self.demo,
        }


@dataclass
class EditResult:
    changed: list[str] = field(default_factory=list)
    lock_version: int = 0


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise ReviewError(f"unknown {what} {value!r} (one of: {', '.join(allowed)})")
    return value


def make_filter(
    status: str = "open",
    platform: str | None = None,
    doc_type: str | None = None,
    category: str | None = None,
    exposure: str | None = None,
    sort: str = "newest",
) -> QueueFilter:
    """A QueueFilter from user input (unknown values raise ReviewError)."""
    return QueueFilter(
        status=_choice(status, ("open", "all", *STATUSES), "status") or "open",
        platform=(platform or "")[:100] or None,
        doc_type=(doc_type or "")[:50] or None,
        category=_choice(category, CATEGORIES, "category"),
        exposure=_choice(exposure, EXPOSURES, "exposure"),
        sort=cast(Sort, _choice(sort, SORTS, "sort") or "newest"),
        limit=QUEUE_LIMIT,
    )


# ---------------------------------------------------------------- reading


def analysis_dict(draft: Draft) -> dict[str, Any]:
    """The draft's analysis as the current version's dict (stored ones are upgraded)."""
    if not isinstance(draft.analysis, Mapping):
        return {}
    try:
        return upgrade_analysis(draft.analysis, draft.analysis_version)
    except AnalysisVersionError:
        return dict(draft.analysis)  # shown as stored; it cannot validate here


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def summarize(draft: Draft) -> DraftSummary:
    return _summary(
        draft.id,
        draft.platform,
        draft.doc_type,
        draft.status,
        draft.analysis,
        draft.clause_uid,
        draft.created_at,
        draft.redraft_of,
        draft.lock_version,
        draft.backend,
    )


def _summary(
    draft_id: int,
    platform: str,
    doc_type: str,
    status: str,
    raw: Any,
    clause_uid: str,
    created_at: datetime,
    redraft_of: int | None,
    lock_version: int,
    backend: str = "",
) -> DraftSummary:
    a = raw if isinstance(raw, Mapping) else {}
    exposure = a.get("exposure")
    level = exposure.get("level") if isinstance(exposure, Mapping) else None
    cats = a.get("categories")
    return DraftSummary(
        id=draft_id,
        platform=platform,
        doc_type=doc_type,
        status=status,
        title=demo_title(
            _text(a.get("title"), 200) or f"(no analysis) clause {clause_uid[:12]}", backend
        ),
        categories=[c for c in cats if isinstance(c, str)] if isinstance(cats, list) else [],
        exposure=level if isinstance(level, str) else None,
        excerpt=_text(a.get("excerpt"), 300),
        created_at=created_at,
        redraft_of=redraft_of,
        lock_version=lock_version,
        demo=is_demo(backend),
    )


def list_drafts(session: Session, flt: QueueFilter | None = None) -> list[DraftSummary]:
    """Drafts matching the filter, sorted. JSON fields (category, exposure) filter in Python."""
    flt = flt or QueueFilter()
    # plain rows of the columns the queue shows (no ORM objects, no prompt or context)
    stmt = select(
        Draft.id,
        Draft.platform,
        Draft.doc_type,
        Draft.status,
        Draft.analysis,
        Draft.clause_uid,
        Draft.created_at,
        Draft.redraft_of,
        Draft.lock_version,
        Draft.backend,
    )
    if flt.status == "open":
        stmt = stmt.where(Draft.status.in_(OPEN_STATUSES))
    elif flt.status != "all":
        if flt.status not in STATUSES:
            raise ReviewError(f"unknown status {flt.status!r}; one of open, all, {STATUSES}")
        stmt = stmt.where(Draft.status == flt.status)
    if flt.platform:
        stmt = stmt.where(Draft.platform == flt.platform)
    if flt.doc_type:
        stmt = stmt.where(Draft.doc_type == flt.doc_type)
    items = [_summary(*row) for row in session.execute(stmt)]
    if flt.category:
        items = [s for s in items if flt.category in s.categories]
    if flt.exposure:
        items = [s for s in items if s.exposure == flt.exposure]
    if flt.sort == "exposure":
        items.sort(key=lambda s: (exposure_rank(s.exposure), s.created_at, s.id))
        items.reverse()
    elif flt.sort == "oldest":
        items.sort(key=lambda s: (s.created_at, s.id))
    else:
        items.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    return items[: max(flt.limit, 0)]


def status_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(select(Draft.status, func.count()).group_by(Draft.status)):
        counts[status] = int(n)
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    counts["all"] = sum(counts[s] for s in STATUSES)
    return counts


def filter_options(session: Session) -> dict[str, list[str]]:
    platforms = session.scalars(select(Draft.platform).distinct().order_by(Draft.platform))
    doc_types = session.scalars(select(Draft.doc_type).distinct().order_by(Draft.doc_type))
    return {"platforms": list(platforms), "doc_types": list(doc_types)}


def get_draft(session: Session, draft_id: int) -> Draft:
    if not fits_integer(draft_id):  # no such id can exist; the database would refuse it
        raise NotFoundError(f"no draft {draft_id}")
    draft = session.get(Draft, draft_id, populate_existing=True)
    if draft is None:
        raise NotFoundError(f"no draft {draft_id}")
    return draft


def draft_exists(session: Session, draft_id: int) -> bool:
    if not fits_integer(draft_id):
        return False
    return session.scalar(select(Draft.id).where(Draft.id == draft_id)) is not None


def events_of(session: Session, draft_id: int) -> list[DraftEvent]:
    stmt = select(DraftEvent).where(DraftEvent.draft_id == draft_id).order_by(DraftEvent.id)
    return list(session.scalars(stmt))


def redraft_request_of(session: Session, draft: Draft) -> str | None:
    """The instructions this draft was redrafted with (stored on the draft it replaces)."""
    if draft.redraft_of is None:
        return None
    return session.scalar(select(Draft.redraft_instructions).where(Draft.id == draft.redraft_of))


def redrafts_of(session: Session, draft_id: int) -> list[int]:
    return list(session.scalars(select(Draft.id).where(Draft.redraft_of == draft_id)))


# ---------------------------------------------------------------- validation


def _loc_key(loc: Iterable[int | str]) -> str:
    return ".".join(str(p) for p in loc) or "analysis"


def validate_analysis(data: Mapping[str, Any]) -> ProvisionAnalysis:
    """Validate with the ProvisionAnalysis schema; FieldErrors maps ``a.0.b`` paths to messages."""
    try:
        return analysis_versions.MODEL.model_validate(dict(data))
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors(include_url=False):
            errors.setdefault(_loc_key(err["loc"]), []).append(err["msg"])
        raise FieldErrors(errors) from None


def grounding_problems(session: Session, draft: Draft, analysis: ProvisionAnalysis) -> list[str]:
    """Grounding re-checked after editors' edits: the excerpt verbatim in the clause, comparison
    quotes verbatim in the retrieved provisions, cited ids in the catalogue and among the
    draft's candidates or added by an editor (the audit trail says which). Drafts stored
    without their clause in the context (written before contexts kept it) are not checked."""
    from clausewatch.drafting.grounding import GroundingSources, check_grounding
    from clausewatch.regulations.catalogue import load_catalogue

    record = read_context(draft.context)
    if record.clause is None or not record.clause.text:
        return []
    sources = GroundingSources.from_record(record, load_catalogue().keys())
    candidates = {r.id for r in record.regulations}
    for event in session.scalars(
        select(DraftEvent).where(
            DraftEvent.draft_id == draft.id, DraftEvent.field == "regulatory_landscape"
        )
    ):
        for item in event.after or []:
            if isinstance(item, Mapping) and item.get("provision_id"):
                candidates.add(str(item["provision_id"]))
    return check_grounding(analysis, dataclasses.replace(sources, candidate_ids=candidates))


def _normalised(data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return analysis_versions.MODEL.model_validate(dict(data)).model_dump(mode="json")
    except ValidationError:
        return dict(data)


# ---------------------------------------------------------------- writing


def _clean_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor:
        raise ReviewError("an actor (user name) is required")
    return actor[:100]


def _guarded_update(
    session: Session,
    draft_id: int,
    lock_version: int,
    statuses: tuple[DraftStatus, ...],
    values: dict[str, Any],
) -> int:
    """Atomic compare-and-set on lock_version; returns the new lock_version."""
    if not fits_integer(lock_version):  # no copy ever had it: a stale (or forged) copy
        current = session.scalar(select(Draft.lock_version).where(Draft.id == draft_id))
        raise ConflictError(draft_id, lock_version, current)
    stmt = (
        update(Draft)
        .where(
            Draft.id == draft_id,
            Draft.lock_version == lock_version,
            Draft.status.in_(statuses),
        )
        .values(lock_version=Draft.lock_version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(stmt)
    if getattr(result, "rowcount", 0) != 1:
        row = session.execute(
            select(Draft.lock_version, Draft.status).where(Draft.id == draft_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no draft {draft_id}")
        if row.lock_version != lock_version:
            raise ConflictError(draft_id, lock_version, row.lock_version)
        raise TransitionError(f"draft {draft_id} is {row.status}; this action needs {statuses}")
    return lock_version + 1


def edit_draft(
    session: Session,
    draft_id: int,
    changes: Mapping[str, Any],
    lock_version: int,
    actor: str,
    note: str | None = None,
) -> EditResult:
    """Apply edited top-level analysis fields (validated); one DraftEvent per changed field."""
    actor = _clean_actor(actor)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise FieldErrors({k: ["not an editable field"] for k in unknown})
    draft = get_draft(session, draft_id)
    if draft.status not in OPEN_STATUSES:
        raise TransitionError(f"draft {draft_id} is {draft.status}; only open drafts can be edited")
    if draft.lock_version != lock_version:
        raise ConflictError(draft_id, lock_version, draft.lock_version)
    old = analysis_dict(draft)
    merged = {**old, **dict(changes)}
    cats, old_cats = merged.get("categories"), old.get("categories")
    if isinstance(cats, list) and isinstance(old_cats, list):
        # forms send checked categories in taxonomy order: keep the drafted order (primary
        # first) and append newly checked ones
        merged["categories"] = [c for c in old_cats if c in cats] + [
            c for c in cats if c not in old_cats
        ]
    new = validate_analysis(merged).model_dump(mode="json")
    old_norm = _normalised(old)
    changed = [f for f in EDITABLE_FIELDS if old_norm.get(f) != new.get(f)]
    if not changed:
        return EditResult([], lock_version)
    if old.get("provenance") is not None:
        new["provenance"] = old_norm.get("provenance", old.get("provenance"))
    version = _guarded_update(
        session,
        draft_id,
        lock_version,
        OPEN_STATUSES,
        {"analysis": new, "analysis_version": analysis_versions.ANALYSIS_VERSION},
    )
    now = utcnow()
    for name in changed:
        session.add(
            DraftEvent(
                draft_id=draft_id,
                at=now,
                actor=actor,
                action="edit",
                field=name,
                before=old.get(name),
                after=new.get(name),
                note=(note or None) and note[:MAX_NOTE],
            )
        )
    session.flush()
    return EditResult(changed, version)


def _required_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ReviewError(f"{what} is required")
    if len(text) > MAX_NOTE:
        raise ReviewError(f"{what} is too long (at most {MAX_NOTE} characters)")
    return text


def _decide(
    session: Session,
    draft_id: int,
    actor: str,
    lock_version: int | None,
    status: DraftStatus,
    action: str,
    note: str | None,
    values: dict[str, Any],
) -> int:
    actor = _clean_actor(actor)
    draft = get_draft(session, draft_id)
    if draft.status not in OPEN_STATUSES:
        raise TransitionError(
            f"draft {draft_id} is {draft.status}; only pending or flagged drafts can be decided"
        )
    expected = draft.lock_version if lock_version is None else lock_version
    if status == DraftStatus.APPROVED:
        try:
            analysis = validate_analysis(analysis_dict(draft))
        except FieldErrors as exc:
            raise TransitionError(
                f"draft {draft_id} cannot be approved: its analysis does not validate "
                f"({', '.join(sorted(exc.errors))}); edit it first"
            ) from None
        problems = grounding_problems(session, draft, analysis)
        if problems:
            raise TransitionError(
                f"draft {draft_id} cannot be approved: {'; '.join(problems[:3])}; edit it first"
            )
    now = utcnow()
    version = _guarded_update(
        session,
        draft_id,
        expected,
        OPEN_STATUSES,
        {"status": status, **values, "decided_by": actor, "decided_at": now},
    )
    session.add(
        DraftEvent(
            draft_id=draft_id,
            at=now,
            actor=actor,
            action=action,
            field="status",
            before=draft.status,
            after=status,
            note=note,
        )
    )
    session.flush()
    return version


def approve(
    session: Session,
    draft_id: int,
    actor: str,
    lock_version: int | None = None,
    note: str | None = None,
) -> int:
    """Approve a pending/flagged draft whose analysis validates. Returns the new lock_version."""
    note = (note or "").strip()[:MAX_NOTE] or None
    return _decide(
        session,
        draft_id,
        actor,
        lock_version,
        DraftStatus.APPROVED,
        "approve",
        note,
        {"decision_reason": note},
    )


def reject(
    session: Session,
    draft_id: int,
    actor: str,
    reason: str,
    lock_version: int | None = None,
) -> int:
    reason = _required_text(reason, "a reason")
    return _decide(
        session,
        draft_id,
        actor,
        lock_version,
        DraftStatus.REJECTED,
        "reject",
        reason,
        {"decision_reason": reason},
    )


def request_redraft(
    session: Session,
    draft_id: int,
    actor: str,
    instructions: str,
    lock_version: int | None = None,
) -> int:
    """Ask for a new draft; the instructions go into the next prompt (drafting picks it up)."""
    instructions = _required_text(instructions, "redraft instructions")
    return _decide(
        session,
        draft_id,
        actor,
        lock_version,
        DraftStatus.REDRAFT_REQUESTED,
        "redraft_request",
        instructions,
        {"redraft_instructions": instructions},
    )


# ---------------------------------------------------------------- export


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_json(event: DraftEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "draft_id": event.draft_id,
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "field": event.field,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }


def audit_export(session: Session, draft_id: int | None = None) -> dict[str, Any]:
    """The audit trail as JSON-ready data: one draft's events, or every draft's."""
    stmt = select(DraftEvent).order_by(DraftEvent.id)
    if draft_id is not None:
        get_draft(session, draft_id)
        stmt = stmt.where(DraftEvent.draft_id == draft_id)
    return {
        "exported_at": utcnow().isoformat(),
        "draft_id": draft_id,
        "events": [event_json(e) for e in session.scalars(stmt)],
    }


def draft_json(session: Session, draft: Draft, with_events: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        **summarize(draft).as_json(),
        "clause_uid": draft.clause_uid,
        "change_id": draft.change_id,
        "clause_id": draft.clause_id,
        "analysis": draft.analysis,
        "analysis_version": draft.analysis_version,
        "context": draft.context,
        "model": draft.model,
        "backend": draft.backend,
        "prompt_id": draft.prompt_id,
        "prompt_version": draft.prompt_version,
        "tokens_in": draft.tokens_in,
        "tokens_out": draft.tokens_out,
        "attempts": len(draft.attempts or []),
        "redraft_instructions": draft.redraft_instructions,
        "decision_reason": draft.decision_reason,
        "decided_by": draft.decided_by,
        "decided_at": _iso(draft.decided_at),
        "updated_at": _iso(draft.updated_at),
        "redrafts": redrafts_of(session, draft.id),
    }
    if with_events:
        data["events"] = [event_json(e) for e in events_of(session, draft.id)]
    return data
