"""The monitoring run: track -> detect changes -> index -> retrieve + draft -> review queue."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from prefect import State, flow
from prefect.deployments.runner import RunnerDeployment
from prefect.futures import PrefectFuture, as_completed, wait
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import select

from clausewatch.archive.selection import configured_refs, history_dirs
from clausewatch.core.settings import get_settings
from clausewatch.flows import interrupts, observe, progress, tasks
from clausewatch.flows.budget import DraftBudget, deferral_line, estimate_from_speed, minutes
from clausewatch.flows.dispatch import check_mode
from clausewatch.flows.live import RunProgress
from clausewatch.flows.runs import (
    ProgressWriter,
    finish_run,
    llm_usage_since,
    save_progress,
    start_run,
)
from clausewatch.schemas.runs import DraftResult, Failure, RunSummary, TrackResult
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.runlock import RunBusyError, run_lock

log = logging.getLogger("clausewatch.flows")


def _failure(stage: str, item: str, exc: BaseException) -> Failure:
    return Failure(
        stage=stage,
        item=item,
        reason=str(exc) or type(exc).__name__,
        retryable=bool(getattr(exc, "retryable", False)),
    )


RUNNER: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(max_workers=4)


class RunIncomplete(Exception):
    """A monitoring run that ended partial or failed; carries its summary.

    It is the data of the run's FAILED Prefect state (named "Partial" or "Failed"), so
    calling ``monitor_flow()`` raises it; ``run_monitor()`` returns the summary instead.
    """

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(summary)
        self.summary = summary

    def __str__(self) -> str:
        s = self.summary
        reasons = "; ".join(f"{f.stage} {f.item}: {f.reason}" for f in s.failures[:3])
        more = f" (+{len(s.failures) - 3} more)" if len(s.failures) > 3 else ""
        return f"monitoring run {s.run_id} {s.status}: {reasons}{more}"


@flow(name="monitor", task_runner=RUNNER, log_prints=False)  # type: ignore[arg-type]
def monitor_flow(
    sources_file: str | None = None,
    history_dir: str | None = None,
    backend: str | None = None,
    max_drafts: int | None = None,
    sources: list[str] | None = None,
    draft_mode: str | None = None,
) -> RunSummary | State[Any]:
    """One pass of the whole pipeline over the declared sources.

    ``sources``: bundled list names and declaration files (see archive.selection); else
    ``sources_file``; else the configured selection. ``draft_mode``: ``process``, ``wait`` or
    ``handoff`` (``flows.dispatch``; default CLAUSEWATCH_DRAFT_MODE).

    Per-document and per-change failures are recorded and never stop the others. One run at
    a time per database: the run lock (storage.runlock) is held for the whole pass; a run
    that cannot get it within CLAUSEWATCH_RUN_LOCK_WAIT_S ends FAILED, named "Busy".
    A partial or failed run ends in a FAILED state named "Partial" or "Failed" whose data
    is ``RunIncomplete(summary)``; an ok run is COMPLETED with the summary. In Prefect, the
    run's log holds clausewatch's log lines and its Markdown artifact the summary
    (``flows.observe``).
    """
    with observe.run_logs():  # clausewatch's log lines go to this flow run's Prefect log
        try:
            with run_lock(command="clausewatch monitor flow"), interrupts.reinstall():
                refs = list(sources) if sources else [sources_file] if sources_file else None
                summary = _monitor(
                    refs or configured_refs(), history_dir, backend, max_drafts, draft_mode
                )
        except RunBusyError as exc:
            log.warning("monitoring run not started: %s", exc)
            return Failed(name="Busy", message=str(exc), data=exc)
        observe.summary_artifact(summary)
    if summary.status == "ok":
        return summary
    incomplete = RunIncomplete(summary)
    return Failed(name=summary.status.capitalize(), message=str(incomplete), data=incomplete)


def monitor_deployment(
    name: str, cron: str | None = None, parameters: dict[str, Any] | None = None
) -> RunnerDeployment:
    """A deployment of ``monitor_flow`` that never runs twice at once (concurrency limit 1;
    a run due while another is running waits in Prefect's queue)."""
    deployment = monitor_flow.to_deployment(
        name=name, cron=cron, parameters=parameters or {}, concurrency_limit=1
    )
    assert isinstance(deployment, RunnerDeployment)  # sync context: not a coroutine
    return deployment


def run_monitor(**parameters: Any) -> RunSummary:
    """Run ``monitor_flow`` and return its summary whatever its status.

    Raises RunBusyError when another run holds the lock, and interruptions as they come.
    """
    state = monitor_flow(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, RunIncomplete):
        return result.summary
    if isinstance(result, RunSummary):
        return result
    if isinstance(result, BaseException):
        raise result
    raise TypeError(f"unexpected result of the monitor flow: {result!r:.200}")


def _monitor(
    refs: list[str],
    history_dir: str | None,
    backend: str | None,
    max_drafts: int | None,
    draft_mode: str | None = None,
) -> RunSummary:
    settings = get_settings()
    started = time.monotonic()
    run_started_at = utcnow()
    summary = RunSummary(run_id=start_run("monitor"))
    try:
        mode = check_mode(draft_mode or settings.draft_mode)  # before any work
        # an explicit history folder, else those the declarations bring (``history:``)
        folders = [history_dir] if history_dir else [str(p) for p in history_dirs(refs)]
        for folder in folders:
            summary.imported_versions += tasks.import_history(folder)

        declared = tasks.load_sources(refs)
        tracking = [tasks.track.submit(s, len(declared)) for s in declared]
        wait(tracking)
        for source, fut in zip(declared, tracking, strict=True):
            try:
                result: TrackResult = fut.result()
            except Exception as exc:  # recorded, the other documents go on
                item = f"{source.get('platform')}/{source.get('doc_type')}"
                summary.failures.append(_failure("track", item, exc))
                continue
            summary.tracked.append(result)
            if result.outcome == "new":
                summary.new_versions += 1
            elif result.outcome == "suspect":  # held until a later fetch confirms it
                summary.suspect += 1
            elif result.outcome == "failed":
                item = f"{result.platform}/{result.doc_type}"
                summary.failures.append(
                    Failure(stage="track", item=item, reason=result.reason or "failed")
                )
            else:
                summary.unchanged += 1

        try:
            summary.embedded = tasks.index()
        except Exception as exc:  # drafting still works with fewer comparables
            summary.failures.append(_failure("index", "provisions", exc))

        try:
            summary.redrafts = tasks.redrafts(backend)
        except Exception as exc:
            summary.failures.append(_failure("redraft", "queue", exc))

        plan = tasks.plan_drafts_task(max_drafts)
        summary.changes_pending = len(plan)
        _draft_all(summary, plan, backend, settings.db_url, mode)
    except Exception as exc:  # recorded; the run ends FAILED (see monitor_flow)
        log.exception("monitoring run %s failed", summary.run_id)
        summary.failures.append(_failure("run", "monitor", exc))
        summary.status = "failed"
    except BaseException as exc:  # interruptions (Ctrl-C, SIGTERM): recorded, then re-raised
        summary.failures.append(_failure("run", "monitor", exc))
        summary.status = "interrupted"
        raise
    finally:
        if summary.status not in ("failed", "interrupted"):
            summary.status = "partial" if summary.failures else "ok"
        summary.seconds = round(time.monotonic() - started, 3)
        summary.llm_seconds = round(summary.llm_seconds, 3)
        with contextlib.suppress(Exception):  # the summary must be written even so
            summary.llm = llm_usage_since(run_started_at)
        finish_run(summary.run_id, summary.status, summary.model_dump(mode="json"))
        log.info(
            "monitoring run %s %s: %d new versions, %d drafts (%d flagged), %d failures, %.0f s",
            summary.run_id,
            summary.status,
            summary.new_versions,
            summary.drafts_created + summary.drafts_flagged,
            summary.drafts_flagged,
            len(summary.failures),
            summary.seconds,
        )
    return summary


def _prior_estimate(backend: str | None) -> float | None:
    """Seconds per draft from the model's measured speed and this workspace's usual draft
    size, before this run drafted anything (``None`` when the speed was never measured)."""
    from clausewatch.drafting.demo import DEMO_BACKEND
    from clausewatch.llm.factory import resolve
    from clausewatch.llm.progress import measured_speed

    speed = measured_speed(resolve(backend).backend)
    if speed is None:
        return None
    with session_scope() as session:
        recent = session.execute(
            select(Draft.tokens_in, Draft.tokens_out)
            .where(Draft.backend != DEMO_BACKEND, Draft.tokens_out > 0)
            .order_by(Draft.id.desc())
            .limit(20)
        ).all()
    if not recent:
        return estimate_from_speed(speed)
    tokens_in = sum(r[0] for r in recent) / len(recent)
    tokens_out = sum(r[1] for r in recent) / len(recent)
    return estimate_from_speed(speed, tokens_in, tokens_out)


def _draft_all(
    summary: RunSummary,
    plan: list[tasks.PendingDraft],
    backend: str | None,
    database: str,
    mode: str = "process",
) -> None:
    """Draft ``plan`` in order, at most llm_concurrency at a time, within the run's drafting
    budget (``flows.budget``); what the budget leaves is pending for the next run. With
    ``mode`` ``wait`` or ``handoff`` the task workers draft them (``flows.dispatch``)."""
    settings = get_settings()
    budget = DraftBudget(
        settings.run_draft_budget_min * 60, prior_estimate_s=_prior_estimate(backend)
    )
    live = RunProgress(summary.run_id, budget, concurrency=max(1, settings.llm_concurrency))
    display = progress.installed()
    narrative = progress.LineDisplay(progress.log_line)  # the flow run's log (flows.observe)
    live.listeners += [narrative.drafts, ProgressWriter()]
    if display is not None:
        live.listeners.append(display.drafts)
    live.plan([(p.change_id, p.label) for p in plan])
    if mode != "process" and plan:
        from clausewatch.flows.dispatch import draft_on_workers

        with progress.tracking(live):
            draft_on_workers(summary, plan, live, budget, handoff=mode == "handoff")
        save_progress(summary.run_id, live.snapshot())
        return
    queue_s = budget.queue_s(len(plan))
    if queue_s is not None and queue_s > budget.budget_s:
        live.set_note(
            f"{len(plan)} drafts would take ~{minutes(queue_s)} at the measured speed, more "
            f"than the {minutes(budget.budget_s)} drafting budget: highest-exposure first"
        )
    queue = list(plan)
    in_flight: dict[PrefectFuture[DraftResult], tuple[tasks.PendingDraft, float]] = {}
    with progress.tracking(live):
        while queue or in_flight:
            while queue and len(in_flight) < live.concurrency and budget.may_start():
                item = queue.pop(0)
                fut = tasks.draft.submit(item.change_id, item.key, backend, database)
                in_flight[fut] = (item, time.monotonic())
            if not in_flight:
                break  # the budget is spent
            done = next(as_completed(list(in_flight)))
            item, submitted = in_flight.pop(done)
            outcome = _collect(summary, done, item, backend, database)
            seconds = time.monotonic() - submitted
            budget.finished(seconds)
            live.finished(item.change_id, outcome, seconds)
    if queue:
        summary.drafts_deferred = len(queue)
        summary.deferred_reason = deferral_line(len(queue), len(plan), budget, live.speed_text())
        live.deferred([p.change_id for p in queue])
        live.set_note(summary.deferred_reason)
    save_progress(summary.run_id, live.snapshot())


def _collect(
    summary: RunSummary,
    fut: PrefectFuture[DraftResult],
    item: tasks.PendingDraft,
    backend: str | None,
    database: str,
) -> str:
    """Add a finished draft task's result to the summary; returns its outcome."""
    try:
        d: DraftResult = fut.result()
        if not tasks.draft_exists(d.draft_id, item.change_id):  # stale cached result
            d = tasks.draft.with_options(refresh_cache=True)(
                item.change_id, item.key, backend, database
            )
    except Exception as exc:
        summary.failures.append(_failure("draft", f"change {item.change_id}", exc))
        return "failed"
    summary.drafts.append(d)
    summary.llm_seconds += d.seconds
    if d.status == DraftStatus.FLAGGED:
        summary.drafts_flagged += 1
    else:
        summary.drafts_created += 1
    return d.status
