"""Drafts in the database: ``draft_change`` for a Change row, ``process_redrafts`` for editors'
redraft requests. Both are idempotent through ``Draft.input_hash`` and commit after each draft
(the LLM call log writes through its own session, and a long run keeps what it finished).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.core.settings import get_settings
from clausewatch.drafting.context import ChangeInput, ClauseInput, DraftContext, Redraft
from clausewatch.drafting.demo import is_demo
from clausewatch.drafting.engine import DraftOutcome, draft_analysis
from clausewatch.drafting.examples import approved_examples
from clausewatch.drafting.prompting import PROMPT_ID
from clausewatch.drafting.retrieve import category_hint, load_catalogue_safely, retrieve
from clausewatch.llm.base import LLM
from clausewatch.prompts import load_prompt
from clausewatch.regulations.mapper import map_regulations, shortlist_candidates
from clausewatch.regulations.votes import editor_votes
from clausewatch.schemas.draft_context import read_context
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models import Change, Clause, Document, Draft, DraftEvent

log = logging.getLogger(__name__)

ACTOR = "clausewatch"

# called in the transaction that stores a new draft, after the draft row is written; raising
# rolls the draft back (a task worker marks its claim done there: drafting.claims.finish)
OnStore = Callable[[Session, "Draft"], None]


def build_context(
    session: Session | None,
    clause: ClauseInput,
    change: ChangeInput | None,
    *,
    stored_categories: list[str] | None = None,
    redraft: Redraft | None = None,
    exclude_examples: tuple[int, ...] = (),
) -> DraftContext:
    """Retrieval, catalogue, category hint and approved examples for one clause."""
    settings = get_settings()
    notes: list[str] = []
    catalogue = load_catalogue_safely(notes)
    hint = list(stored_categories or []) or category_hint(clause.text, notes)
    found = retrieve(
        clause.text,
        platform=clause.platform,
        catalogue=catalogue,
        comparables_k=settings.drafting_comparables,
        regulations_k=settings.drafting_regulations,
        topics=hint,
    )
    rmap = map_regulations(
        found.regulations,
        hint,
        catalogue,
        doc_type=clause.doc_type,
        editor_votes=editor_votes(session, hint) if session is not None else None,
    )
    examples = (
        approved_examples(
            session,
            clause.text,
            limit=settings.drafting_examples,
            exclude_draft_ids=exclude_examples,
        )
        if session is not None
        else []
    )
    return DraftContext(
        clause=clause,
        change=change,
        comparables=found.comparables,
        regulations=shortlist_candidates(rmap, catalogue),
        catalogue=catalogue,
        category_hint=hint,
        regulation_map=rmap,
        examples=examples,
        redraft=redraft,
        retrieval_notes=notes + found.notes,
    )


def _inputs_for_change(session: Session, change: Change) -> tuple[ClauseInput, ChangeInput, Clause]:
    document = session.get(Document, change.document_id)
    if document is None:
        raise InputError(f"change {change.id}: document {change.document_id} not found")
    old = session.get(Clause, change.old_clause_id) if change.old_clause_id else None
    new = session.get(Clause, change.new_clause_id) if change.new_clause_id else None
    subject = new or old
    if subject is None:
        raise InputError(f"change {change.id} has neither an old nor a new clause")
    clause = ClauseInput(
        uid=change.clause_uid,
        text=subject.text,
        platform=document.platform,
        doc_type=document.doc_type,
        path=list(subject.path or []),
        row_id=subject.id,
    )
    diff = ChangeInput(
        kind=change.kind,
        old_text=old.text if old else None,
        new_text=new.text if new else None,
        old_path=list(old.path or []) if old else [],
        new_path=list(new.path or []) if new else [],
    )
    return clause, diff, subject


def _existing(session: Session, input_hash: str) -> Draft | None:
    return session.scalars(select(Draft).where(Draft.input_hash == input_hash)).first()


def _store(
    session: Session,
    ctx: DraftContext,
    outcome: DraftOutcome,
    input_hash: str,
    *,
    change_id: int | None,
    redraft_of: int | None = None,
    on_store: OnStore | None = None,
) -> Draft:
    record = ctx.to_record()
    best = outcome.analysis or outcome.best_effort
    if not outcome.ok:
        record.errors = list(outcome.errors)
        record.best_effort = outcome.best_effort is not None
    draft = Draft(
        input_hash=input_hash,
        change_id=change_id,
        clause_id=ctx.clause.row_id,
        clause_uid=ctx.clause.uid,
        platform=ctx.clause.platform,
        doc_type=ctx.clause.doc_type,
        status=DraftStatus.PENDING if outcome.ok else DraftStatus.FLAGGED,
        analysis=best.model_dump(mode="json") if best is not None else None,
        context=record.model_dump(mode="json"),
        prompt_id=outcome.rendered.id,
        prompt_version=outcome.rendered.version,
        rendered_prompt=outcome.rendered.as_text(),
        model=outcome.model,
        backend=outcome.backend,
        attempts=outcome.attempts,
        tokens_in=outcome.tokens_in,
        tokens_out=outcome.tokens_out,
        redraft_of=redraft_of,
    )
    note = (
        f"drafted in {len(outcome.attempts)} attempt(s)"
        if outcome.ok
        else f"flagged after {len(outcome.attempts)} attempt(s): " + "; ".join(outcome.errors)
    )
    if redraft_of is not None:
        note = f"redraft of #{redraft_of}; {note}"
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
            session.add(
                DraftEvent(
                    draft_id=draft.id,
                    actor=ACTOR,
                    action="drafted",
                    field="status",
                    before=None,
                    after=draft.status,
                    note=note[:4000],
                )
            )
            session.flush()
            if on_store is not None:
                on_store(session, draft)
    except IntegrityError:  # drafted concurrently by another worker: keep theirs
        existing = _existing(session, input_hash)
        if existing is None:
            raise
        return existing
    return draft


def _prompt_identity() -> tuple[str, str]:
    template = load_prompt(PROMPT_ID)
    return template.id, template.version


def draft_change(
    session: Session, change_id: int, *, llm: LLM | None = None, on_store: OnStore | None = None
) -> Draft:
    """The draft for a Change: the stored one when the same inputs were drafted before (no LLM
    call), otherwise a new ``pending`` draft, or a ``flagged`` one when the model never
    produced a valid, grounded analysis. Transport errors (``TransientError``) propagate.
    ``on_store`` runs in the transaction that stores a new draft (not for a stored one)."""
    change = session.get(Change, change_id)
    if change is None:
        raise InputError(f"no change with id {change_id}")
    clause, diff, subject = _inputs_for_change(session, change)
    ctx = build_context(session, clause, diff, stored_categories=list(subject.categories or []))
    return _draft(session, ctx, change_id=change.id, llm=llm, on_store=on_store)


def _draft(
    session: Session,
    ctx: DraftContext,
    *,
    change_id: int | None,
    llm: LLM | None,
    redraft_of: int | None = None,
    on_store: OnStore | None = None,
) -> Draft:
    owned = llm is None
    if llm is None:
        from clausewatch.llm.factory import get_llm

        llm = get_llm()
    try:
        prompt_id, prompt_version = _prompt_identity()
        input_hash = ctx.input_hash(
            prompt_id=prompt_id, prompt_version=prompt_version, model=llm.model
        )
        if change_id is not None:
            # each change gets its own draft (the review queue and the monitor's "already
            # drafted?" test key on it); identical texts reuse the logged LLM answer instead
            input_hash = hashlib.sha256(f"{input_hash}|change:{change_id}".encode()).hexdigest()
        existing = _existing(session, input_hash)
        if existing is not None:
            return existing
        session.commit()  # end the read transaction before the (long) model call
        outcome = draft_analysis(ctx, llm)
        draft = _store(
            session,
            ctx,
            outcome,
            input_hash,
            change_id=change_id,
            redraft_of=redraft_of,
            on_store=on_store,
        )
        session.commit()
        return draft
    finally:
        if owned:
            llm.close()


def _clause_for_draft(session: Session, draft: Draft) -> tuple[ClauseInput, ChangeInput | None]:
    if draft.change_id is not None:
        change = session.get(Change, draft.change_id)
        if change is not None:
            clause, diff, _ = _inputs_for_change(session, change)
            return clause, diff
    if draft.clause_id is not None:
        row = session.get(Clause, draft.clause_id)
        if row is not None:
            return (
                ClauseInput(
                    uid=draft.clause_uid,
                    text=row.text,
                    platform=draft.platform,
                    doc_type=draft.doc_type,
                    path=list(row.path or []),
                    row_id=row.id,
                ),
                None,
            )
    record = read_context(draft.context).clause
    if record is None or not record.text:
        raise InputError(f"draft {draft.id}: its clause is no longer available")
    return (
        ClauseInput(
            uid=draft.clause_uid,
            text=record.text,
            platform=draft.platform,
            doc_type=draft.doc_type,
            path=list(record.path),
        ),
        None,
    )


def process_redrafts(session: Session, *, llm: LLM | None = None) -> list[Draft]:
    """Redraft every draft an editor sent back (status ``redraft_requested``): the new draft's
    prompt carries the editor's instructions, ``redraft_of`` links it, the old draft becomes
    ``superseded`` (both events recorded). Returns the new drafts."""
    requested = list(
        session.scalars(
            select(Draft).where(Draft.status == DraftStatus.REDRAFT_REQUESTED).order_by(Draft.id)
        )
    )
    if not requested:
        return []
    owned = llm is None
    if llm is None:
        from clausewatch.llm.factory import get_llm

        llm = get_llm()
    out: list[Draft] = []
    try:
        for old in requested:
            clause, diff = _clause_for_draft(session, old)
            # a demo analysis (written by us) never goes into a model's prompt
            previous: dict[str, Any] = {} if is_demo(old.backend) else (old.analysis or {})
            redraft = Redraft(
                previous_draft_id=old.id,
                instructions=(old.redraft_instructions or "").strip()
                or "Redraft the analysis more carefully.",
                previous_title=str(previous.get("title", "(none: the draft was flagged)")),
                previous_summary=str(previous.get("summary", "")),
                previous_exposure=str((previous.get("exposure") or {}).get("level", "none")),
            )
            stored = []
            if old.clause_id is not None and (row := session.get(Clause, old.clause_id)):
                stored = list(row.categories or [])
            ctx = build_context(
                session,
                clause,
                diff,
                stored_categories=stored,
                redraft=redraft,
                exclude_examples=(old.id,),
            )
            new = _draft(session, ctx, change_id=old.change_id, llm=llm, redraft_of=old.id)
            if new.redraft_of is None:
                new.redraft_of = old.id
            old.status = DraftStatus.SUPERSEDED
            old.lock_version += 1
            session.add(
                DraftEvent(
                    draft_id=old.id,
                    actor=ACTOR,
                    action="superseded",
                    field="status",
                    before=DraftStatus.REDRAFT_REQUESTED,
                    after=DraftStatus.SUPERSEDED,
                    note=f"redrafted as #{new.id}",
                )
            )
            session.commit()
            out.append(new)
    finally:
        if owned:
            llm.close()
    return out
