"""``clausewatch publish``, ``clausewatch digest`` and ``clausewatch subscribers``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clausewatch.core.errors import InputError

console = Console()
subscribers_app = typer.Typer(
    help="Manage subscribers (same-day alerts or weekly digests).", no_args_is_help=True
)


def _print_delivery(label: str, summary: dict[str, int], errors: list[str]) -> None:
    typer.echo(
        f"{label}: {summary['sent']} sent, {summary['failed']} failed (retried next run), "
        f"{summary['gave_up']} given up, {summary['already_sent']} already sent"
        + (f", {summary['cancelled']} cancelled" if summary.get("cancelled") else "")
    )
    for line in errors[:20]:
        typer.echo(f"  {line}", err=True)


def publish(
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            help="Site directory or storage URL, e.g. s3://bucket/site (default: "
            "<storage>/site, the storage being CLAUSEWATCH_STORAGE_URL or the workspace).",
        ),
    ] = None,
    no_alerts: Annotated[
        bool, typer.Option("--no-alerts", help="Build the site only; send no alerts.")
    ] = False,
) -> None:
    """Build the static site (pages, dataset, feeds) from approved analyses; send alerts."""
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from clausewatch.publication.alerts import send_same_day_alerts
    from clausewatch.publication.site import build_site
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.files import site_url

    target = out or site_url()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("building the site", total=None)
        started = time.perf_counter()
        with session_scope() as session:
            report = build_site(session, target)
        elapsed = time.perf_counter() - started
        progress.update(task, description="site built")
        delivery = None
        if not no_alerts:
            progress.update(task, description="sending same-day alerts")
            with session_scope() as session:
                delivery = send_same_day_alerts(session)
            progress.update(task, description="done")
    typer.echo(
        f"site {target}: {report.analyses} analyses; {report.written} files written, "
        f"{report.unchanged} unchanged, {report.removed} removed ({elapsed:.2f} s)"
    )
    for problem in report.problems:
        typer.echo(f"  skipped {problem}", err=True)
    if delivery is not None:
        _print_delivery("alerts", delivery.summary(), delivery.errors)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--now must be an ISO 8601 date or date-time: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def digest(
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Pretend the current time is this ISO date/date-time (UTC); the digest covers "
            "the last complete Monday-Sunday week before it.",
        ),
    ] = None,
) -> None:
    """Send the weekly digest of the last complete week (and retry failed earlier digests)."""
    from clausewatch.publication.digest import send_weekly_digest, week_window
    from clausewatch.storage.db import session_scope

    when = _parse_now(now)
    week, _start, _end = week_window(when or datetime.now(UTC))
    with session_scope() as session:
        report = send_weekly_digest(session, now=when)
    _print_delivery(f"digest {week}", report.summary(), report.errors)


@subscribers_app.command("add")
def add(
    webhook: Annotated[str | None, typer.Option(help="Deliver to this webhook URL.")] = None,
    email: Annotated[str | None, typer.Option(help="Deliver to this e-mail address.")] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="Webhook signing secret (default: a random one, printed once)."),
    ] = None,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", help="Watch this platform (repeatable).")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="Watch this taxonomy category (repeatable)."),
    ] = None,
    min_exposure: Annotated[
        str | None, typer.Option(help="Only analyses at or above: Low, Medium or High.")
    ] = None,
    digest_mode: Annotated[
        bool, typer.Option("--digest/--alerts", help="Weekly digest or same-day alerts.")
    ] = False,
    name: Annotated[str, typer.Option(help="A label for this subscriber.")] = "",
) -> None:
    """Add a subscriber: --webhook URL or --email ADDRESS, optional filters."""
    from clausewatch.publication.subscriptions import add_subscriber, describe
    from clausewatch.storage.db import session_scope

    if (webhook is None) == (email is None):
        raise InputError("give exactly one of --webhook URL or --email ADDRESS")
    channel, target = ("webhook", webhook) if webhook is not None else ("email", email)
    assert target is not None
    with session_scope() as session:
        sub = add_subscriber(
            session,
            channel=channel,
            target=target,
            mode="digest" if digest_mode else "alert",
            platforms=platform or [],
            categories=category or [],
            min_exposure=min_exposure.capitalize() if min_exposure else None,
            name=name,
            secret=secret,
            on_warning=lambda line: typer.echo(line, err=True),
        )
        sub_id, mode, what, sub_secret = sub.id, sub.mode, describe(sub), sub.secret
    typer.echo(f"subscriber {sub_id} added: {channel} {mode} ({what})")
    if channel == "webhook" and secret is None:
        typer.echo(f"signing secret (keep it; shown once): {sub_secret}")


@subscribers_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List subscribers (webhook URLs shown as host only)."""
    from clausewatch.publication.subscriptions import describe, list_subscribers, redact_target
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "channel": s.channel,
                "target": redact_target(s),
                "mode": s.mode,
                "platforms": s.platforms,
                "categories": s.categories,
                "min_exposure": s.min_exposure,
                "watches": describe(s),
                "created_at": s.created_at.isoformat(timespec="seconds"),
            }
            for s in list_subscribers(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "channel", "target", "mode", "watches", "since")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["name"]),
            str(r["channel"]),
            str(r["target"]),
            str(r["mode"]),
            str(r["watches"]),
            str(r["created_at"]),
        )
    console.print(table)


@subscribers_app.command("remove")
def remove(subscriber_id: Annotated[int, typer.Argument(help="Subscriber id.")]) -> None:
    """Remove a subscriber and its delivery records."""
    from clausewatch.publication.subscriptions import remove_subscriber
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        remove_subscriber(session, subscriber_id)
    typer.echo(f"subscriber {subscriber_id} removed")


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)
    app.command("digest")(digest)
    app.add_typer(subscribers_app, name="subscribers")
