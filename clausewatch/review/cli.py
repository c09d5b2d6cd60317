"""CLI: ``clausewatch serve``, ``clausewatch users ...`` and ``clausewatch review ...``."""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clausewatch.core.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

users_app = typer.Typer(help="Accounts of the review app.", no_args_is_help=True)
review_app = typer.Typer(
    help="Review drafted analyses from the command line.", no_args_is_help=True
)

ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The review user who decides, an editor or admin (default: your login name); "
        "recorded in the audit trail.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _decider(db: Session, actor: str | None) -> str:
    """The review user who decides: --as NAME, else the login name; it must be an existing
    editor or admin (the audit trail names a real account)."""
    from clausewatch.review import accounts
    from clausewatch.review.errors import NotFoundError

    name = actor
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            raise InputError("say who decides: --as NAME (an editor or admin)") from None
    try:
        return accounts.decider(db, name).name
    except NotFoundError:
        raise InputError(
            f"no review user {name!r}: decide --as an existing editor or admin "
            "(clausewatch users list)"
        ) from None


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the review web app."""
    from datetime import timedelta

    import uvicorn

    from clausewatch.core.settings import get_settings
    from clausewatch.review import sessions
    from clausewatch.review.accounts import prune_attempts
    from clausewatch.review.web.app import create_app
    from clausewatch.storage.db import session_scope

    with session_scope() as db:  # migrates the database on first use
        prune_attempts(db)  # login attempts older than 30 days
        sessions.prune(db, timedelta(hours=get_settings().review_session_hours))
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            "warning: listening beyond loopback; serve behind HTTPS and set "
            "CLAUSEWATCH_REVIEW_SECURE_COOKIES=true",
            err=True,
        )
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)


def _read_password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InputError("no password on standard input")
        return password
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise InputError("the passwords differ")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="editor or admin.")] = "editor",
) -> None:
    """Add a user; the password is read from a hidden prompt, or from stdin when piped."""
    from clausewatch.review import accounts
    from clausewatch.storage.db import session_scope

    accounts.validate_name(name)
    accounts.validate_role(role)
    password = _read_password()
    with session_scope() as db:
        accounts.add_user(db, name, password, role)
    typer.echo(f"user {name} added ({role})")


@users_app.command("passwd")
def users_passwd(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Set a user's password (hidden prompt, or stdin when piped)."""
    from clausewatch.review import accounts
    from clausewatch.storage.db import session_scope

    password = _read_password()
    with session_scope() as db:
        accounts.set_password(db, name, password)
    typer.echo(f"password of {name} changed")


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """List users."""
    from rich.console import Console
    from rich.table import Table

    from clausewatch.review import accounts
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        users = accounts.list_users(db)
    if as_json:
        _echo_json(
            [
                {
                    "name": u.name,
                    "role": u.role,
                    "created_at": u.created_at,
                    "last_login_at": u.last_login_at,
                }
                for u in users
            ]
        )
        return
    table = Table("name", "role", "created", "last sign-in")
    for u in users:
        table.add_row(
            u.name,
            u.role,
            f"{u.created_at:%Y-%m-%d %H:%M}",
            f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never",
        )
    Console().print(table)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Remove a user."""
    from clausewatch.review import accounts
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        accounts.remove_user(db, name)
    typer.echo(f"user {name} removed")


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="open, all, or a status.")] = "open",
    platform: Annotated[str | None, typer.Option()] = None,
    doc_type: Annotated[str | None, typer.Option("--doc-type")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    exposure: Annotated[str | None, typer.Option(help="Low, Medium or High.")] = None,
    sort: Annotated[str, typer.Option(help="newest, oldest or exposure.")] = "newest",
    limit: Annotated[int, typer.Option(min=1)] = 200,
    as_json: JsonOpt = False,
) -> None:
    """The review queue, with counts per status."""
    from rich.console import Console
    from rich.table import Table

    from clausewatch.review import service
    from clausewatch.storage.db import session_scope

    flt = service.make_filter(status, platform, doc_type, category, exposure, sort)
    flt.limit = limit
    with session_scope() as db:
        items = service.list_drafts(db, flt)
        counts = service.status_counts(db)
    if as_json:
        _echo_json({"counts": counts, "drafts": [s.as_json() for s in items]})
        return
    table = Table("id", "exposure", "title", "platform", "doc type", "status", "drafted")
    for s in items:
        table.add_row(
            str(s.id),
            s.exposure or "-",
            s.title,
            s.platform,
            s.doc_type,
            s.status,
            f"{s.created_at:%Y-%m-%d %H:%M}",
        )
    console = Console()
    console.print(table, markup=False)
    console.print(" · ".join(f"{k}: {v}" for k, v in counts.items()), markup=False)


@review_app.command("show")
def review_show(
    draft_id: Annotated[int, typer.Argument(help="Draft id.")],
    as_json: JsonOpt = False,
) -> None:
    """One draft: analysis, context summary, provenance and audit trail."""
    from clausewatch.review import service
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        data = service.draft_json(db, service.get_draft(db, draft_id))
    if as_json:
        _echo_json(data)
        return
    a = data["analysis"] or {}
    lines = [
        f"#{data['id']} [{data['status']}] {data['title']}",
        f"{data['platform']} · {data['doc_type']} · exposure {data['exposure'] or '-'} · "
        f"version {data['lock_version']}",
        f"model {data['model']} ({data['backend']}) · prompt {data['prompt_id']} "
        f"v{data['prompt_version']} · tokens {data['tokens_in']} in / {data['tokens_out']} out",
    ]
    for key in ("summary", "key_point", "excerpt"):
        if a.get(key):
            lines.append(f"{key}: {a[key]}")
    if data["decided_by"]:
        lines.append(
            f"decided by {data['decided_by']} at {data['decided_at']}: "
            f"{data['decision_reason'] or ''}"
        )
    lines.append(f"audit trail: {len(data['events'])} event(s)")
    for e in data["events"]:
        lines.append(f"  {e['at']} {e['actor']} {e['action']} {e['field'] or ''} {e['note'] or ''}")
    typer.echo("\n".join(lines))


@review_app.command("approve")
def review_approve(
    draft_id: Annotated[int, typer.Argument(help="Draft id.")],
    note: Annotated[str | None, typer.Option(help="Optional note.")] = None,
    actor: ActorOpt = None,
) -> None:
    """Approve a draft for publication."""
    from clausewatch.review import service
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        service.approve(db, draft_id, _decider(db, actor), note=note)
    typer.echo(f"draft {draft_id} approved")


@review_app.command("reject")
def review_reject(
    draft_id: Annotated[int, typer.Argument(help="Draft id.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    actor: ActorOpt = None,
) -> None:
    """Reject a draft (a reason is required)."""
    from clausewatch.review import service
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        service.reject(db, draft_id, _decider(db, actor), reason)
    typer.echo(f"draft {draft_id} rejected")


@review_app.command("redraft")
def review_redraft(
    draft_id: Annotated[int, typer.Argument(help="Draft id.")],
    instructions: Annotated[str, typer.Option(help="What the next draft must change.")],
    queue_only: Annotated[
        bool, typer.Option("--queue-only", help="Only record the request; draft later.")
    ] = False,
    actor: ActorOpt = None,
) -> None:
    """Request a redraft; unless --queue-only, run the drafting of requested redrafts now."""
    from clausewatch.review import service
    from clausewatch.review.redraft import run_redrafts
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        service.request_redraft(db, draft_id, _decider(db, actor), instructions)
    typer.echo(f"redraft of draft {draft_id} requested")
    if queue_only:
        return
    from rich.console import Console

    with Console(stderr=True).status("drafting requested redrafts..."):
        result = run_redrafts()
    with session_scope() as db:
        new_ids = service.redrafts_of(db, draft_id)
    if new_ids:
        typer.echo(f"new draft(s) in the queue: {', '.join(f'#{i}' for i in new_ids)}")
    else:
        typer.echo(f"no new draft yet for {draft_id} (drafting returned: {result})")


@review_app.command("audit")
def review_audit(
    draft_id: Annotated[int | None, typer.Argument(help="Draft id (default: every draft).")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Export the audit trail as JSON."""
    from clausewatch.review import service
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        data = service.audit_export(db, draft_id)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output:
        import pathlib

        from clausewatch.core.files import atomic_write

        atomic_write(pathlib.Path(output), text + "\n")
        typer.echo(f"{len(data['events'])} event(s) written to {output}")
    else:
        typer.echo(text)


@review_app.command("edits")
def review_edits(as_json: JsonOpt = False) -> None:
    """The fields editors edit most, per clause category (what playbooks and prompts miss)."""
    from clausewatch.review.insights import edited_fields_by_category
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        data = edited_fields_by_category(db)
    if as_json:
        typer.echo(json.dumps({"categories": {k: dict(v) for k, v in data.items()}}, indent=2))
        return
    if not data:
        typer.echo("no edits recorded yet")
        return
    for slug, fields in data.items():
        listing = ", ".join(f"{name} {n}" for name, n in fields)
        typer.echo(f"{slug}: {listing}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(review_app, name="review")
