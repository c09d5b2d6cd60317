"""``clausewatch status``: what the workspace holds and how the last runs went."""

from __future__ import annotations

from datetime import datetime, time
from time import time as time_now
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Document, Draft, Run, Version


def _llm_usage(session: Session, since: datetime | None) -> dict[str, Any]:
    """Real calls (cache hits excluded), tokens, and the failures: count and last error."""
    from clausewatch.llm.calls import failure_summary

    return failure_summary(session, since)


def collect(session: Session) -> dict[str, Any]:
    from clausewatch.drafting.claims import counts as claim_counts
    from clausewatch.drafting.demo import DEMO_BACKEND
    from clausewatch.drafting.queue import open_changes
    from clausewatch.publication.status import delivery_status

    waiting = select(func.count()).select_from(open_changes(session).subquery())
    by_status = dict(
        session.execute(select(Draft.status, func.count(Draft.id)).group_by(Draft.status)).all()
    )
    last = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
    running = session.scalars(
        select(Run).where(Run.status == "running").order_by(Run.id.desc()).limit(1)
    ).first()
    midnight = datetime.combine(datetime.now().date(), time.min)
    return {
        "documents": session.scalar(select(func.count(Document.id))) or 0,
        "versions": session.scalar(select(func.count(Version.id))) or 0,
        "open_changes": session.scalar(waiting) or 0,
        "drafts": {k: int(v) for k, v in by_status.items()},
        "demo_drafts": session.scalar(
            select(func.count(Draft.id)).where(Draft.backend == DEMO_BACKEND)
        )
        or 0,
        "llm": {"today": _llm_usage(session, midnight), "total": _llm_usage(session, None)},
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "flow": last.flow,
            "status": last.status,
            "started_at": last.started_at.isoformat(timespec="seconds"),
            "finished_at": last.finished_at.isoformat(timespec="seconds")
            if last.finished_at
            else None,
            "failures": last.summary.get("failures", []),
            "drafts_deferred": last.summary.get("drafts_deferred", 0),
            "deferred_reason": last.summary.get("deferred_reason"),
        },
        "running": None
        if running is None
        else {
            "id": running.id,
            "flow": running.flow,
            "started_at": running.started_at.isoformat(timespec="seconds"),
            "progress": (running.summary or {}).get("progress"),
        },
        "deliveries": delivery_status(session),
        # changes queued for task workers (clausewatch worker): queued, claimed (drafting),
        # expired (a worker died; claimable again), done, failed
        "draft_queue": claim_counts(session),
    }


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Documents, versions, open changes, drafts by status, LLM usage, last run, deliveries."""
    with session_scope() as session:
        data = collect(session)
    console = Console()
    if as_json:
        console.print_json(data=data)
        return
    table = Table(title="clausewatch status", show_header=False)
    table.add_row("documents / versions", f"{data['documents']} / {data['versions']}")
    table.add_row("open changes (no draft yet)", str(data["open_changes"]))
    drafts = ", ".join(f"{k}: {v}" for k, v in sorted(data["drafts"].items()))
    if data["demo_drafts"]:
        drafts += f" (of which {data['demo_drafts']} DEMO, written by us for the sample)"
    table.add_row("drafts", drafts)
    queue = data["draft_queue"]
    if any(queue.values()):
        table.add_row(
            "task workers' queue",
            f"{queue['queued']} queued, {queue['claimed']} drafting, {queue['expired']} "
            f"lease expired, {queue['done']} done, {queue['failed']} failed",
        )
    for span in ("today", "total"):
        u = data["llm"][span]
        failed = f" ({u['failed']} failed, {u['invalid']} invalid)" if u["calls"] else ""
        table.add_row(
            f"LLM calls {span}",
            f"{u['calls']} calls{failed}, {u['tokens_in']} in / {u['tokens_out']} out",
        )
    run = data["last_run"]
    last = "none"
    if run is not None:
        last = f"{run['flow']} #{run['id']} {run['status']} {run['started_at']}"
    table.add_row("last run", last)
    deliveries = data["deliveries"]
    table.add_row("deliveries", ", ".join(f"{k}: {v}" for k, v in deliveries["deliveries"].items()))
    table.add_row(
        "subscribers", ", ".join(f"{k}: {v}" for k, v in deliveries["subscribers"].items())
    )
    console.print(table)
    total = data["llm"]["total"]
    if total["failed"]:
        console.print(
            f"[red]LLM failures[/red]: {total['failed']} of {total['calls']} calls failed "
            f"(today: {data['llm']['today']['failed']}); last at {total['last_error_at']}: "
            f"{total['last_error']}",
            highlight=False,
        )
    for sub in deliveries.get("failing_subscribers", []):
        console.print(
            f"[red]failing delivery[/red] subscriber {sub['subscriber_id']} "
            f"({sub['channel']} {sub['target']}): {sub['failed']} failed, "
            f"{sub['gave_up']} gave up; last error: {sub['last_error']}"
        )
    if run:
        if run.get("deferred_reason"):
            console.print(f"[yellow]{run['deferred_reason']}[/yellow]")
        for f in run["failures"]:
            console.print(f"[red]failed[/red] {f['stage']} {f['item']}: {f['reason']}")
    if data["running"] is not None:
        for line in running_lines(data["running"]):
            console.print(line, markup=False, highlight=False)


def running_lines(running: dict[str, Any], now: float | None = None) -> list[str]:
    """A run in progress: its drafting counts, ETA and each active draft's phase."""
    from clausewatch.flows.budget import minutes
    from clausewatch.flows.live import DraftState
    from clausewatch.flows.progress import describe

    head = f"run #{running['id']} ({running['flow']}) in progress since {running['started_at']}"
    snap = running.get("progress")
    if not snap:
        return [head + ": not drafting yet"]
    now = time_now() if now is None else now
    done, total, deferred = snap["done"], snap["total"], snap["deferred"]
    line = f"{head}: drafts {done}/{total - deferred} done"
    if snap.get("eta_s") is not None and done + deferred < total:
        line += f", ETA ~{minutes(snap['eta_s'])}"
    if snap.get("seconds_per_draft") is not None:
        line += f" (~{minutes(snap['seconds_per_draft'])} per draft)"
    line += f"; updated {minutes(max(0.0, now - snap['updated_at']))} ago"
    lines = [line]
    for d in snap.get("active", []):
        state = DraftState(**d)
        lines.append(
            f"  draft {state.position}/{total} change {state.change_id} "
            f"({state.label}): {describe(state)}"
        )
    if snap.get("note"):
        lines.append(snap["note"])
    return lines


def register(app: typer.Typer) -> None:
    app.command("status")(status)
