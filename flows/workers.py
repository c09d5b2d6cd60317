"""Drafting on Prefect task workers: the task ``draft_next`` that ``clausewatch worker`` serves.

Served with ``clausewatch worker`` (or ``prefect task serve --module clausewatch.flows.workers``;
this module defines no other task). A monitoring run with ``CLAUSEWATCH_DRAFT_MODE=wait`` or
``handoff`` queues its changes in the database (``drafting.claims``) and schedules runs of
``draft_next`` with ``.delay()``; each run, on whichever worker Prefect hands it to, claims the
highest-priority queued change, drafts it with that worker's own LLM settings (its local model,
or a shared OpenAI-compatible endpoint) while renewing its lease, and stores the draft in the
transaction that marks the claim done; then the next one, up to ``RUN_BATCH`` per run. Then,
while changes are still claimable, it schedules one more run, so a handed-off queue keeps
flowing after the monitoring run ended.

The task takes no parameters: Prefect stores nothing for it in result storage before it runs,
so workers on other machines need only ``PREFECT_API_URL`` and the same database (plus the
same vector store) as the run. Its result (a small dict) goes to the worker's result storage
(the shared storage, ``flows.results``); the run reads the outcome from the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import task
from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext
from sqlalchemy import select

from clausewatch.core.settings import get_settings
from clausewatch.drafting import claims
from clausewatch.schemas.runs import DraftResult
from clausewatch.storage.db import session_scope

log = logging.getLogger("clausewatch.workers")


def _this_run_only(context: TaskRunContext, _inputs: dict[str, Any]) -> str:
    # every run is new work: Prefect's default policy (inputs + flow run) would treat the
    # runs one monitoring run schedules as the same cached call (the task has no inputs)
    return f"draft-next-{context.task_run.id}"


# changes one run drafts back to back: Prefect's cost per task run (states, events, result)
# is paid once for them; claims are still taken one change at a time, when drafting starts
RUN_BATCH = 8


@task(
    name="draft-next",
    cache_policy=CachePolicy.from_cache_key_fn(_this_run_only),
    retries=0,  # a retryable failure goes back to the queue (drafting.claims.release)
)
def draft_next() -> dict[str, Any]:
    """Claim the next queued change and draft it, then the next, up to ``RUN_BATCH``;
    ``drafted`` is empty when nothing was left to claim. While changes remain, the run
    schedules its successor."""
    context = TaskRunContext.get()
    task_run_id = str(context.task_run.id) if context is not None else None
    drafted: list[dict[str, Any]] = []
    try:
        for _ in range(RUN_BATCH):
            result = _draft_one(task_run_id)
            if result is None:
                break
            drafted.append(result.model_dump(mode="json"))
    except Exception:
        _schedule_successor()
        raise
    if drafted:
        _schedule_successor()
    return {"worker": claims.worker_id(), "drafted": drafted}


def _draft_one(task_run_id: str | None) -> DraftResult | None:
    """Claim one change and draft it; None when no change is claimable."""
    from clausewatch.flows.tasks import llm_slots

    lease_s = get_settings().draft_lease_s
    with llm_slots():  # claim only when this process can start drafting it
        with session_scope() as session:
            claim = claims.claim_next(session, claims.worker_id(), lease_s, task_run_id)
        if claim is None:
            return None
        _logger().info(
            "drafting change %s (%s), attempt %s", claim.change_id, claim.label, claim.attempt
        )
        result = draft_claimed(claim, lease_s)
    _logger().info(
        "change %s: %s (draft %s) in %.1f s",
        claim.change_id,
        result.status,
        result.draft_id,
        result.seconds,
    )
    return result


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger inside a task run (its lines reach the UI), else ours."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return log


def draft_claimed(claim: claims.Claim, lease_s: float) -> DraftResult:
    """Draft the claimed change under a renewed lease; the claim ends done, queued again
    (a retryable failure with attempts left), failed, or lost (taken over)."""
    from clausewatch.drafting.demo import DEMO_BACKEND
    from clausewatch.drafting.service import draft_change
    from clausewatch.flows.interrupts import using_llm
    from clausewatch.llm.factory import get_llm
    from clausewatch.storage.models import Draft

    started = time.monotonic()
    with _lease(claim, lease_s):
        llm = get_llm()  # this worker's settings: its local model or its endpoint
        try:
            with using_llm(llm), session_scope() as session:
                stored: list[int] = []

                def finish(sess: Any, draft: Draft) -> None:
                    claims.finish(sess, claim, draft.id)
                    stored.append(draft.id)

                existing = session.scalar(  # a draft stored since, by any model
                    select(Draft.id)
                    .where(Draft.change_id == claim.change_id, Draft.backend != DEMO_BACKEND)
                    .limit(1)
                )
                if existing is not None:
                    claims.finish(session, claim, int(existing))
                    return DraftResult(
                        change_id=claim.change_id, draft_id=existing, status="reused"
                    )
                row = draft_change(session, claim.change_id, llm=llm, on_store=finish)
                if not stored:  # the same inputs were drafted before: that draft stands
                    claims.finish(session, claim, row.id)
                return DraftResult(
                    change_id=claim.change_id,
                    draft_id=row.id,
                    status=row.status if stored else "reused",
                    tokens_in=row.tokens_in,
                    tokens_out=row.tokens_out,
                    seconds=round(time.monotonic() - started, 3),
                )
        except claims.ClaimLost as exc:
            _logger().warning("%s", exc)
            return DraftResult(change_id=claim.change_id, status="lost", reason=str(exc))
        except Exception as exc:
            retry = bool(getattr(exc, "retryable", False))
            with session_scope() as session:
                state = claims.release(session, claim, f"{type(exc).__name__}: {exc}", retry=retry)
            _logger().warning("change %s: %s (claim %s)", claim.change_id, exc, state)
            raise
        finally:
            llm.close()


@contextmanager
def _lease(claim: claims.Claim, lease_s: float) -> Iterator[None]:
    """Renew the claim's lease every third of it while the block runs."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(max(0.2, lease_s / 3)):
            try:
                with session_scope() as session:
                    held = claims.renew(session, claim, lease_s)
            except Exception as exc:  # the database is away: try again at the next tick
                log.warning("could not renew the claim on change %s: %s", claim.change_id, exc)
                continue
            if not held:
                log.warning("the claim on change %s was taken over", claim.change_id)
                return

    thread = threading.Thread(target=renew, name=f"lease-{claim.change_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _schedule_successor() -> None:
    """Keep a handed-off queue flowing: one more run while changes are claimable."""
    try:
        with session_scope() as session:
            left = claims.claimable_count(session)
        if left:
            draft_next.delay()
    except Exception as exc:  # the run that queued the changes (or the next one) tops up
        log.warning("could not schedule the next draft: %s", exc)


def warm_up() -> None:
    """Load what drafting needs (models, clients, catalogue) before the first claim, so a
    claim's lease never waits on imports and model loading."""
    from clausewatch.drafting.retrieve import category_hint, load_catalogue_safely, retrieve
    from clausewatch.drafting.service import draft_change  # noqa: F401  (imports the stack)

    notes: list[str] = []
    catalogue = load_catalogue_safely(notes)
    retrieve("warm-up", platform="-", catalogue=catalogue, comparables_k=1, regulations_k=1)
    category_hint("warm-up", notes)


def serve(limit: int) -> None:
    """Run a Prefect task worker for ``draft_next`` (needs PREFECT_API_URL)."""
    from prefect.task_worker import serve as prefect_serve

    prefect_serve(draft_next, limit=limit)
