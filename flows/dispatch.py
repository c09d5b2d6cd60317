"""A run's drafts on Prefect task workers: queue them, then wait for them or hand them off.

``CLAUSEWATCH_DRAFT_MODE`` (or ``clausewatch run --draft-mode``):

* ``process`` (default): the run drafts in its own process, as it always did;
* ``wait``: the run queues its changes (``drafting.claims``), schedules runs of the
  ``draft-next`` task (``flows.workers``) and waits for the task workers to draft them, within
  the drafting budget (what is left when the budget is spent stays queued for the workers);
  while it waits it puts back in the queue the claims whose lease expired (a worker died),
  marks that worker's task run Crashed in Prefect, and schedules a run for each;
* ``handoff``: the run queues its changes, schedules the first runs and ends; the workers keep
  the queue flowing (each run schedules the next while changes are claimable), and the next
  monitoring run queues again whatever is still undrafted.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import get_settings
from clausewatch.drafting import claims
from clausewatch.flows.budget import DraftBudget, minutes
from clausewatch.flows.live import RunProgress
from clausewatch.schemas.runs import DraftResult, Failure, RunSummary
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft

if TYPE_CHECKING:
    from clausewatch.flows.tasks import PendingDraft

log = logging.getLogger("clausewatch.flows")

QUEUE_AHEAD = 64  # task runs scheduled ahead of the workers (Prefect keeps them in memory)
POLL_S = 0.5


MODES = ("process", "wait", "handoff")


def check_mode(mode: str) -> str:
    """``mode`` when it can be used here. Task workers need a Prefect server they can reach,
    so ``wait`` and ``handoff`` refuse the temporary one a run starts without PREFECT_API_URL."""
    from clausewatch.flows.prefect_server import configured_api_url

    if mode not in MODES:
        raise ConfigError(f"unknown draft mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode != "process" and not configured_api_url():
        raise ConfigError(
            f"CLAUSEWATCH_DRAFT_MODE={mode} needs PREFECT_API_URL: the task workers "
            "(clausewatch worker) and this run must share a Prefect server"
        )
    return mode


def schedule_runs(count: int) -> int:
    """Schedule ``count`` runs of ``draft-next`` for the task workers."""
    from clausewatch.flows.workers import draft_next

    for _ in range(count):
        draft_next.delay()
    return count


def draft_on_workers(
    summary: RunSummary,
    plan: list[PendingDraft],
    live: RunProgress,
    budget: DraftBudget,
    *,
    handoff: bool,
) -> None:
    """Queue ``plan`` for the task workers; wait for the drafts unless ``handoff``."""
    items = [(p.change_id, p.label, float(len(plan) - i)) for i, p in enumerate(plan)]
    with session_scope() as session:
        claimable = claims.enqueue(session, items, summary.run_id)
    scheduled = schedule_runs(min(claimable, QUEUE_AHEAD))
    if handoff:
        summary.drafts_handed_off = len(plan)
        live.set_note(
            f"{len(plan)} changes queued for the task workers (clausewatch worker); "
            "CLAUSEWATCH_DRAFT_MODE=handoff: this run does not wait for them"
        )
        return
    _wait(summary, plan, live, budget, scheduled)


def _wait(
    summary: RunSummary,
    plan: list[PendingDraft],
    live: RunProgress,
    budget: DraftBudget,
    scheduled: int,
) -> None:
    lease_s = get_settings().draft_lease_s
    max_runs = 2 * len(plan) + QUEUE_AHEAD  # bounds the top-ups when no worker is running
    pending = {p.change_id for p in plan}
    started: set[int] = set()
    budget.begin()
    last_change, seen = time.monotonic(), None
    while pending:
        time.sleep(POLL_S)
        with session_scope() as session:
            expired = claims.requeue_expired(session)
            rows = claims.rows(session, pending)
            draft_ids = [r.draft_id for r in rows if r.state == claims.DONE and r.draft_id]
            drafts = {
                d.id: d for d in session.scalars(select(Draft).where(Draft.id.in_(draft_ids)))
            }
            live_claims = claims.live_claims(session)
            claimable = claims.claimable_count(session)
        for change_id, task_run_id, worker in expired:
            log.warning("change %s: %s stopped renewing its claim; queued again", change_id, worker)
            _mark_crashed(task_run_id, f"{worker} stopped renewing its claim on change {change_id}")
        if expired and scheduled < max_runs:
            scheduled += schedule_runs(len(expired))
        for row in rows:
            if row.state == claims.CLAIMED and row.change_id not in started:
                started.add(row.change_id)
                live.started(row.change_id)
            elif row.state in (claims.DONE, claims.FAILED):
                pending.discard(row.change_id)
                _collect(summary, live, row, drafts.get(row.draft_id or -1), budget)
        state = (tuple(sorted((r.change_id, r.state, r.attempts) for r in rows)), live_claims)
        now = time.monotonic()
        if state != seen:
            seen, last_change = state, now
        elif claimable and not live_claims and now - last_change > max(lease_s, 5.0):
            # queued changes, nobody drafting for a lease: runs were lost with a worker
            if scheduled < max_runs:
                scheduled += schedule_runs(min(claimable, QUEUE_AHEAD))
            last_change = now
        if pending and budget.elapsed_s >= budget.budget_s:
            break
    if pending:
        summary.drafts_handed_off = len(pending)
        summary.deferred_reason = (
            f"{len(pending)} of {len(plan)} changes are still queued for the task workers: "
            f"the drafting budget of {minutes(budget.budget_s)} "
            "(CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN) was spent waiting; the workers go on"
        )
        live.set_note(summary.deferred_reason)


def _collect(
    summary: RunSummary, live: RunProgress, row: Any, draft: Draft | None, budget: DraftBudget
) -> None:
    seconds = (
        (row.finished_at - row.claimed_at).total_seconds()
        if row.finished_at is not None and row.claimed_at is not None
        else 0.0
    )
    if row.state == claims.FAILED or draft is None:
        reason = row.error or "no draft was stored"
        summary.failures.append(
            Failure(stage="draft", item=f"change {row.change_id}", reason=reason)
        )
        live.finished(row.change_id, "failed", seconds)
        return
    result = DraftResult(
        change_id=row.change_id,
        draft_id=draft.id,
        status=draft.status,
        tokens_in=draft.tokens_in,
        tokens_out=draft.tokens_out,
        seconds=round(seconds, 3),
    )
    summary.drafts.append(result)
    summary.llm_seconds += result.seconds
    if draft.status == "flagged":
        summary.drafts_flagged += 1
    else:
        summary.drafts_created += 1
    budget.finished(seconds)
    live.finished(row.change_id, draft.status, seconds)


def _mark_crashed(task_run_id: str | None, message: str) -> None:
    """The task run of a worker that died stays RUNNING in Prefect: say it crashed."""
    if not task_run_id:
        return
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    with contextlib.suppress(Exception), get_client(sync_client=True) as client:
        client.set_task_run_state(UUID(task_run_id), Crashed(message=message), force=True)
