"""Small typed tasks of the monitoring pipeline. Each calls one function of a package."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.settings import get_settings
from clausewatch.flows.interrupts import using_llm
from clausewatch.flows.live import RunProgress
from clausewatch.flows.progress import current_run, report
from clausewatch.flows.retry import only_transient
from clausewatch.schemas.runs import DraftResult, TrackResult
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Clause, Document, Draft, Version

_llm_slots_lock = threading.Lock()
_llm_slots: threading.BoundedSemaphore | None = None


def llm_slots() -> threading.BoundedSemaphore:
    """Process-wide cap on concurrent LLM calls (settings.llm_concurrency)."""
    global _llm_slots
    with _llm_slots_lock:
        if _llm_slots is None:
            _llm_slots = threading.BoundedSemaphore(max(1, get_settings().llm_concurrency))
        return _llm_slots


@task(name="import-history", cache_policy=NO_CACHE)
def import_history(history_dir: str) -> int:
    """Backfill dated versions from a ``<platform>/<doc_type>/<date>.md`` tree (idempotent)."""
    from clausewatch.archive.importer import import_tree

    summary = import_tree(Path(history_dir))
    report("import history", advance=1, total=1, note=f"{summary.added} new")
    return summary.added


@task(name="load-sources", cache_policy=NO_CACHE)
def load_sources(refs: list[str]) -> list[dict[str, object]]:
    """The declarations of a selection (bundled list names and declaration files)."""
    from clausewatch.archive.selection import load_selection

    return [s.model_dump(mode="json") for s in load_selection(refs)]


@task(name="track", cache_policy=NO_CACHE)
def track(source: dict[str, object], total: int) -> TrackResult:
    """Fetch one declared source; a failure is recorded by the archive and returned.

    Transient network errors are retried with back-off inside the fetcher (bounded), so
    this task does not retry on top of it.
    """
    from clausewatch.archive.track import track_source
    from clausewatch.schemas.sources import SourceDecl

    decl = SourceDecl.model_validate(source)
    outcome = track_source(session_scope, decl)
    report("fetch sources", advance=1, total=total, note=decl.key)
    return TrackResult(
        platform=decl.platform,
        doc_type=decl.doc_type,
        outcome=outcome.status,
        reason=outcome.reason,
        version_id=outcome.version_id,
    )


@task(name="index", cache_policy=NO_CACHE, retries=1, retry_condition_fn=only_transient)
def index() -> int:
    """Embed new or changed clauses of current versions (nothing when unchanged)."""
    from clausewatch.vectorstore.indexing import index_provisions

    with session_scope() as session:
        result = index_provisions(session)
    report("index", advance=1, total=1, note=f"{result.embedded} embedded")
    return int(result.embedded)


class PendingDraft(BaseModel):
    """A change the run will draft, in the order the priority rule gives."""

    change_id: int
    key: str  # content key: makes the draft task's cache content-addressed
    label: str  # "nimbus-ai/privacy_policy modified [training-use]"
    score: float


def clause_categories(clauses: list[Clause | None]) -> list[list[str]]:
    """Stored categories, else the classifier's (empty when no classifier is available)."""
    out = [list(c.categories or []) if c is not None else [] for c in clauses]
    missing = [i for i, c in enumerate(clauses) if c is not None and not out[i]]
    if missing:
        from clausewatch.drafting.retrieve import category_hint

        for i in missing:
            clause = clauses[i]
            assert clause is not None
            out[i] = category_hint(clause.text, [])
    return out


def plan_drafts(limit: int | None = None) -> list[PendingDraft]:
    """The open changes (``drafting.queue.open_changes``: material, of each document's
    newest versions, no draft yet), highest exposure first (``drafting.priority``: the
    clause's categories and the change kind)."""
    from clausewatch.drafting.priority import Candidate, load_rule, rank
    from clausewatch.drafting.queue import open_changes

    settings = get_settings()
    limit = limit or settings.max_drafts_per_run
    rule = load_rule()
    with session_scope() as session:
        rows = session.execute(
            select(Change, Version.version_date, Document.platform, Document.doc_type)
            .join(Version, Version.id == Change.new_version_id)
            .join(Document, Document.id == Change.document_id)
            .where(Change.id.in_(open_changes(session, settings.draft_recent_versions)))
            .order_by(Version.version_date.desc(), Change.id)
        ).all()
        clauses = [
            session.get(Clause, change.new_clause_id or change.old_clause_id)
            if (change.new_clause_id or change.old_clause_id)
            else None
            for change, *_ in rows
        ]
        categories = clause_categories(clauses)
        by_id: dict[int, PendingDraft] = {}
        candidates = []
        for (change, when, platform, doc_type), cats in zip(rows, categories, strict=True):
            shown = f" [{', '.join(cats)}]" if cats else ""
            by_id[change.id] = PendingDraft(
                change_id=change.id,
                key=change_key(session, change),
                label=f"{platform}/{doc_type} {change.kind}{shown}",
                score=rule.score(cats, change.kind),
            )
            candidates.append(Candidate(change.id, change.kind, tuple(cats), when.timestamp()))
        ranked = [by_id[c.change_id] for c in rank(candidates, rule)]
    return ranked[:limit] if limit else ranked


@task(name="pending-changes", cache_policy=NO_CACHE)
def pending_changes(limit: int | None = None) -> list[tuple[int, str]]:
    """(change id, content key) of the changes to draft, highest exposure first."""
    return [(p.change_id, p.key) for p in plan_drafts(limit)]


@task(name="plan-drafts", cache_policy=NO_CACHE)
def plan_drafts_task(limit: int | None = None) -> list[PendingDraft]:
    return plan_drafts(limit)


def change_key(session: Session, change: Change) -> str:
    """A content hash of a change: its kind and the texts before and after."""
    texts = []
    for clause_id in (change.old_clause_id, change.new_clause_id):
        clause = session.get(Clause, clause_id) if clause_id is not None else None
        texts.append(clause.text_sha256 if clause is not None else "-")
    return hashlib.sha256("|".join([change.kind, *texts]).encode()).hexdigest()


@task(
    name="draft",
    cache_policy=INPUTS + TASK_SOURCE,
    persist_result=True,
    result_serializer="json",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=only_transient,
)
def draft(change_id: int, content_key: str, backend: str | None, database: str) -> DraftResult:
    """Draft the analysis of one change (re-asked and flagged inside the drafting package).

    Cached by content (change, its texts' hashes, backend, database): a rerun reuses what it
    already did. The flow checks that a cached draft still exists (``draft_exists``).
    """
    from clausewatch.drafting.service import draft_change
    from clausewatch.llm.factory import get_llm

    llm = get_llm(backend)  # the local server is shared by the process and outlives close()
    run = current_run()
    try:
        with llm_slots(), using_llm(llm), session_scope() as session, _reporting_to(run, change_id):
            started = time.monotonic()  # after the wait for a slot: time spent drafting
            if run is not None:
                run.started(change_id)
            row = draft_change(session, change_id, llm=llm)
            result = DraftResult(
                change_id=change_id,
                draft_id=row.id,
                status=row.status.value,
                tokens_in=row.tokens_in,
                tokens_out=row.tokens_out,
                seconds=round(time.monotonic() - started, 3),
            )
    finally:
        llm.close()
    return result


@contextmanager
def _reporting_to(run: RunProgress | None, change_id: int) -> Iterator[None]:
    """Forward the progress of this draft's LLM calls to the run's live state."""
    if run is None:
        yield
        return
    from clausewatch.llm.progress import CallProgress, reporting

    def forward(p: CallProgress) -> None:
        run.call(
            change_id,
            p.phase,
            queue_position=p.queue_position,
            prompt_tokens=p.prompt_tokens,
            tokens_generated=p.tokens_generated,
            tokens_per_s=p.tokens_per_s,
        )

    with reporting(forward):
        yield


def draft_exists(draft_id: int | None, change_id: int) -> bool:
    """Whether a (possibly cached) draft result still stands for this change."""
    if draft_id is None:
        return False
    with session_scope() as session:
        row = session.get(Draft, draft_id)
        return row is not None and row.change_id == change_id


@task(name="redrafts", cache_policy=NO_CACHE, retries=1, retry_condition_fn=only_transient)
def redrafts(backend: str | None) -> int:
    """Drafts editors sent back with instructions come back to the queue."""
    from clausewatch.drafting.service import process_redrafts
    from clausewatch.llm.factory import get_llm

    llm = get_llm(backend)
    try:
        with llm_slots(), using_llm(llm), session_scope() as session:
            done = process_redrafts(session, llm=llm)
    finally:
        llm.close()
    report("redrafts", advance=1, total=1)
    return len(done)
