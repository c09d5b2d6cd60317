"""``clausewatch status``: what the workspace holds and how the last runs went."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import session_scope
from storage.models import Change, Document, Draft, LLMCall, Run, Version

MATERIAL = ("added", "removed", "modified")


def _llm_usage(session: Session, since: datetime | None) -> dict[str, int]:
    query = select(
        func.count(LLMCall.id),
        func.coalesce(func.sum(LLMCall.tokens_in), 0),
        func.coalesce(func.sum(LLMCall.tokens_out), 0),
    )
    if since is not None:
        query = query.where(LLMCall.at >= since)
    calls, tokens_in, tokens_out = session.execute(query).one()
    return {"calls": int(calls), "tokens_in": int(tokens_in), "tokens_out": int(tokens_out)}


def collect(session: Session) -> dict[str, Any]:
    from archive.store import recent_version_ids
    from clausewatch.settings import get_settings
    from publication.status import delivery_status

    per_document = get_settings().draft_recent_versions
    drafted = select(Draft.change_id).where(
        Draft.change_id.is_not(None), Draft.status.in_(("approved", "rejected"))
    )
    open_changes = session.scalar(
        select(func.count(Change.id)).where(
            Change.old_version_id.is_not(None),
            Change.new_version_id.in_(recent_version_ids(session, per_document)),
            Change.kind.in_(MATERIAL),
            Change.id.not_in(drafted),
        )
    )
    by_status = dict(
        session.execute(select(Draft.status, func.count(Draft.id)).group_by(Draft.status)).all()
    )
    last = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
    midnight = datetime.combine(datetime.now().date(), time.min)
    return {
        "documents": session.scalar(select(func.count(Document.id))) or 0,
        "versions": session.scalar(select(func.count(Version.id))) or 0,
        "open_changes": open_changes or 0,
        "drafts": {k: int(v) for k, v in by_status.items()},
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
        },
        "deliveries": delivery_status(session),
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
    table.add_row("open changes", str(data["open_changes"]))
    table.add_row("drafts", ", ".join(f"{k}: {v}" for k, v in sorted(data["drafts"].items())))
    for span in ("today", "total"):
        u = data["llm"][span]
        table.add_row(
            f"LLM calls {span}", f"{u['calls']} calls, {u['tokens_in']} in / {u['tokens_out']} out"
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
    for sub in deliveries.get("failing_subscribers", []):
        console.print(
            f"[red]failing delivery[/red] subscriber {sub['subscriber_id']} "
            f"({sub['channel']} {sub['target']}): {sub['failed']} failed, "
            f"{sub['gave_up']} gave up; last error: {sub['last_error']}"
        )
    if run:
        for f in run["failures"]:
            console.print(f"[red]failed[/red] {f['stage']} {f['item']}: {f['reason']}")


def register(app: typer.Typer) -> None:
    app.command("status")(status)
