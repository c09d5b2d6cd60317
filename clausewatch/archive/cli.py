"""``clausewatch sources validate``, ``import``, ``history`` and ``track``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clausewatch.core.errors import ConfigError, InputError

sources_app = typer.Typer(help="Declarations of the tracked documents.", no_args_is_help=True)
versions_app = typer.Typer(help="Recorded versions of the documents.", no_args_is_help=True)
browser_app = typer.Typer(
    help="The browser that renders pages needing JavaScript.", no_args_is_help=True
)
fetches_app = typer.Typer(help="Recorded fetch attempts.", no_args_is_help=True)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=console,
        transient=False,
    )


SOURCES_ARG_HELP = (
    "Bundled list names (see 'clausewatch sources list') or declaration files, combined in "
    "order (default: the configured selection)."
)


@sources_app.command("validate")
def validate_command(
    refs: Annotated[
        list[str] | None, typer.Argument(help=SOURCES_ARG_HELP, metavar="NAME|FILE")
    ] = None,
) -> None:
    """Check declarations: schema, unique documents, URLs and selectors.

    Every problem is printed with its file:line and entry.
    """
    from clausewatch.archive.selection import configured_refs, validate_selection

    names = list(refs) if refs else configured_refs()
    selection = validate_selection(names)
    for problem in selection.problems:
        typer.echo(str(problem))
    if selection.problems:
        raise ConfigError(f"{len(selection.problems)} problem(s) in {', '.join(names)}")
    for override in selection.overrides:
        typer.echo(f"override: {override}")
    platforms = len({s.platform for s in selection.sources})
    for path in selection.files:
        typer.echo(f"{path}: valid")
    typer.echo(
        f"{', '.join(names)}: {len(selection.sources)} source(s) of {platforms} platform(s), "
        "no problems"
    )


@sources_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The bundled lists: services, documents, pages that need rendering, documents in parts."""
    from clausewatch.archive.declarations import validate_sources
    from clausewatch.archive.selection import bundled_lists

    rows = []
    for name, path in bundled_lists().items():
        sources, _problems = validate_sources(path)
        rows.append(
            {
                "name": name,
                "services": len({s.platform for s in sources}),
                "documents": len(sources),
                "render": sum(1 for s in sources if s.needs_render),
                "parts": sum(1 for s in sources if s.parts),
                "path": str(path),
            }
        )
    if as_json:
        lists = [{k: row[k] for k in ("name", "services", "documents")} for row in rows]
        typer.echo(json.dumps({"lists": lists}, indent=2))
        return
    table = Table(title="bundled source lists (clausewatch run --sources NAME)")
    for col in ("name", "services", "documents", "need rendering", "in parts", "file"):
        table.add_column(
            col, justify="left" if col in ("name", "file") else "right", overflow="fold"
        )
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("name", "services", "documents", "render", "parts", "path"))
        )
    Console().print(table)


@sources_app.command("check")
def check_command(
    refs: Annotated[
        list[str] | None, typer.Argument(help=SOURCES_ARG_HELP, metavar="NAME|FILE")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Pages fetched at once.")] = 4,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per page (default: CLAUSEWATCH_FETCH_TIMEOUT_S).")
    ] = None,
    retries: Annotated[int, typer.Option(min=0, help="Retries of a transient failure.")] = 1,
    render: Annotated[
        bool,
        typer.Option(
            "--render/--no-render",
            help="Render pages declared render: true with the system Chromium (as tracking).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch every declared URL once (online) and report its status; records nothing.

    A page is ok (text found), wall (bot challenge, captcha, error or maintenance page),
    unrendered (render: true but not rendered: --no-render or no browser) or failed.
    Exits 1 when a page failed or was a wall.
    """
    from clausewatch.archive.check import PageCheck, check_sources
    from clausewatch.archive.selection import configured_refs, load_selection
    from clausewatch.core.settings import get_settings

    names = list(refs) if refs else configured_refs()
    decls = load_selection(names)
    settings = get_settings()
    update: dict[str, float | int] = {"fetch_retries": retries}
    if timeout is not None:
        update["fetch_timeout_s"] = timeout
    settings = settings.model_copy(update=update)
    total = sum(len(d.fetch_parts) for d in decls)
    console = Console(stderr=True)
    with _progress(console) as progress:
        task = progress.add_task("checking", total=total, current="")

        def on_page(page: PageCheck) -> None:
            progress.update(
                task, advance=1, current=f"{page.platform}/{page.doc_type} {page.status}"
            )

        report = check_sources(
            decls, settings=settings, workers=workers, render=render, on_page=on_page
        )
    counts = {k: report.count(k) for k in ("ok", "unrendered", "wall", "failed")}
    if as_json:
        payload = {"pages": [p.model_dump(mode="json") for p in report.pages], **counts}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        _print_check(report.pages, counts)
    if counts["failed"] or counts["wall"]:
        raise typer.Exit(1)


def _print_check(pages: list[Any], counts: dict[str, int]) -> None:
    table = Table(title="sources check", box=box.SIMPLE_HEAD)
    for col in ("document", "part", "status", "HTTP", "words", "detail"):
        table.add_column(col, justify="right" if col in ("HTTP", "words") else "left")
    colours = {"ok": "green", "unrendered": "yellow", "wall": "magenta", "failed": "red"}
    for p in pages:
        colour = colours[p.status]
        table.add_row(
            f"{p.platform}/{p.doc_type}",
            f"{p.part}/{p.parts}" if p.parts > 1 else "",
            f"[{colour}]{p.status}[/{colour}]",
            str(p.http_status or ""),
            str(p.words or ""),
            escape(p.reason or p.url),
        )
    out = Console()
    out.print(table)
    out.print(
        f"pages: {len(pages)}; ok: {counts['ok']}, unrendered (need JavaScript): "
        f"{counts['unrendered']}, walls: {counts['wall']}, failed: {counts['failed']}",
        highlight=False,
    )


WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait",
        help="Seconds to wait for a run already in progress (default: "
        "CLAUSEWATCH_RUN_LOCK_WAIT_S, else 0: exit with code 4).",
        min=0,
    ),
]


def import_command(
    directory: Annotated[
        Path, typer.Argument(help="Tree of <platform>/<doc_type>/<YYYY-MM-DD>.md files.")
    ],
    wait: WaitOption = None,
) -> None:
    """Backfill history from dated files; importing twice adds nothing."""
    from clausewatch.archive.importer import ImportFile, import_tree
    from clausewatch.storage.runlock import run_lock

    if not directory.is_dir():
        raise InputError(f"not a directory: {directory}")
    console = Console(stderr=True)
    started = time.perf_counter()
    with run_lock(wait_s=wait, command="clausewatch import"), _progress(console) as progress:
        task = progress.add_task("importing", total=None, current="")

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_file(item: ImportFile, outcome: str) -> None:
            progress.update(task, advance=1, current=f"{item.label} {outcome}")

        summary = import_tree(directory, on_file=on_file, on_start=on_start)
    elapsed = time.perf_counter() - started
    out = Console()
    table = Table(title=f"import of {directory}", show_header=False)
    table.add_row("documents", str(summary.documents))
    table.add_row("files", str(summary.files))
    table.add_row("new versions", str(summary.added))
    table.add_row("unchanged (already recorded)", str(summary.unchanged))
    table.add_row("rejected (date out of order or range)", str(len(summary.rejected)))
    table.add_row("failed", str(len(summary.failed)))
    table.add_row("refused (link out of the folder)", str(len(summary.refused)))
    table.add_row("ignored entries", str(len(summary.ignored)))
    table.add_row("time", f"{elapsed:.1f} s")
    out.print(table)
    for path, reason in summary.rejected + summary.failed + summary.refused:
        out.print(f"[red]{path}[/red]: {reason}", markup=True, highlight=False)
    for path, reason in summary.ignored:
        out.print(f"[yellow]ignored[/yellow] {path}: {reason}", highlight=False)
    if summary.files == 0 and not summary.refused:
        raise InputError(f"no <platform>/<doc_type>/<YYYY-MM-DD>.md files under {directory}")
    if summary.failed or summary.rejected or summary.refused:
        raise InputError(
            f"{len(summary.failed)} file(s) failed, {len(summary.rejected)} rejected and "
            f"{len(summary.refused)} refused; the others were imported"
        )


def history_command(
    platform: Annotated[str, typer.Argument(help="Platform slug, e.g. claude-ai.")],
    doc_type: Annotated[str, typer.Argument(help="Document type, e.g. privacy_policy.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A document's timeline: versions, dates and clause changes at each."""
    from clausewatch.archive.history import document_history
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        history = document_history(session, platform, doc_type)
    if as_json:
        typer.echo(json.dumps(history.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    table = Table(
        title=f"{history.platform} / {history.doc_type}", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for col in ("id", "date", "source", "clauses", "added", "removed", "modified", "moved"):
        left = col in ("date", "source")
        table.add_column(col, justify="left" if left else "right", no_wrap=True)
    for i, v in enumerate(history.versions):
        first = i == 0
        table.add_row(
            str(v.id),
            v.date.strftime("%Y-%m-%d %H:%M")
            if v.date.time().isoformat() != "00:00:00"
            else v.date.strftime("%Y-%m-%d"),
            v.source,
            str(v.clauses),
            "-" if first else f"[green]{v.added}[/green]",
            "-" if first else f"[red]{v.removed}[/red]",
            "-" if first else f"[yellow]{v.modified}[/yellow]",
            "-" if first else f"[cyan]{v.moved}[/cyan]",
        )
    console = Console()
    console.print(table)
    if history.url:
        console.print(f"source: {history.url}", highlight=False, markup=False)


def track_command(
    sources: Annotated[
        list[str] | None,
        typer.Option("--sources", help=SOURCES_ARG_HELP + " Repeatable.", metavar="NAME|FILE"),
    ] = None,
    wait: WaitOption = None,
) -> None:
    """Fetch every declared source once; record new versions; summarise."""
    from clausewatch.archive.selection import load_selection
    from clausewatch.archive.track import track_all
    from clausewatch.schemas.sources import TrackOutcome
    from clausewatch.storage.runlock import run_lock

    decls = load_selection(sources)
    console = Console(stderr=True)
    with run_lock(wait_s=wait, command="clausewatch track"), _progress(console) as progress:
        task = progress.add_task("fetching", total=len(decls), current="")

        def on_done(outcome: TrackOutcome) -> None:
            progress.update(
                task, advance=1, current=f"{outcome.platform}/{outcome.doc_type} {outcome.status}"
            )

        outcomes = track_all(decls, on_done=on_done)
    table = Table(title="track")
    for col in ("document", "status", "changes", "detail"):
        table.add_column(col)
    colours = {
        "new": "green",
        "unchanged": "white",
        "not_modified": "white",
        "suspect": "yellow",
        "failed": "red",
    }
    for o in outcomes:
        changes = f"+{o.added} -{o.removed} ~{o.modified} >{o.moved}" if o.status == "new" else ""
        table.add_row(
            f"{o.platform}/{o.doc_type}",
            f"[{colours[o.status]}]{o.status}[/{colours[o.status]}]",
            changes,
            o.reason or (f"version {o.version_id}" if o.version_id else ""),
        )
    out = Console()
    out.print(table)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in colours}
    out.print(
        f"new versions: {counts['new']}, unchanged: {counts['unchanged'] + counts['not_modified']}"
        f" (not modified: {counts['not_modified']}), suspect (held until seen again): "
        f"{counts['suspect']}, failed: {counts['failed']}",
        highlight=False,
    )
    if outcomes and counts["failed"] == len(outcomes):
        raise InputError(f"all {len(outcomes)} source(s) failed")


def remove_version_command(
    platform: Annotated[str, typer.Argument(help="Platform slug, e.g. claude-ai.")],
    doc_type: Annotated[str, typer.Argument(help="Document type, e.g. privacy_policy.")],
    version_id: Annotated[int, typer.Argument(help="Version id (see 'clausewatch history').")],
    force: Annotated[
        bool, typer.Option("--force", help="Also remove approved analyses that depend on it.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
    wait: WaitOption = None,
) -> None:
    """Remove a wrongly recorded version with its clauses, changes and unapproved drafts."""
    from clausewatch.archive.remove import remove_version
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.runlock import run_lock

    # not while a run or an import records versions
    with run_lock(wait_s=wait, command="clausewatch versions remove"), session_scope() as s:
        removal = remove_version(s, platform, doc_type, version_id, force=force, dry_run=dry_run)
    for line in removal.lines():
        typer.echo(line)
    if not dry_run:
        typer.echo("the vector store follows at the next run (or 'clausewatch index')")


@browser_app.command("check")
def browser_check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether rendering works here: find Chromium, render a script-filled test page."""
    from clausewatch.archive.browser_check import check_browser

    check = check_browser()
    if as_json:
        typer.echo(json.dumps(check.model_dump(mode="json"), indent=2))
    else:
        out = Console(soft_wrap=True)
        out.print(f"chromium    {check.chromium or 'not found'}", highlight=False)
        out.print(f"version     {check.chromium_version or '?'}", highlight=False)
        out.print(f"playwright  {check.playwright_version or 'not installed'}", highlight=False)
        verdict = "[green]works[/green]" if check.ok else "[red]does not work[/red]"
        out.print(f"rendering   {verdict} ({check.seconds:.1f} s)")
        if check.reason:
            out.print(check.reason, markup=False, highlight=False)
    if not check.ok:
        raise ConfigError(
            "rendering does not work here: sources declared with 'render: true' will fail"
        )


def prune_fetches_command(
    older_than_days: Annotated[
        float,
        typer.Option("--older-than-days", min=0, help="Prune failed fetches older than this."),
    ] = 30.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
) -> None:
    """Drop the bodies kept by old failed fetches (the attempts stay, with size and sha256)."""
    from datetime import timedelta

    from clausewatch.archive.retention import prune_failed_bodies
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        report = prune_failed_bodies(session, timedelta(days=older_than_days), dry_run=dry_run)
    report.delete_files()
    verb = "would free" if dry_run else "freed"
    typer.echo(
        f"{report.attempts} failed fetch(es) older than {older_than_days:g} days: {verb} "
        f"{report.snapshots} kept bod(y/ies), {report.bytes} bytes"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.add_typer(versions_app, name="versions")
    app.add_typer(fetches_app, name="fetches")
    fetches_app.command("prune")(prune_fetches_command)
    versions_app.command("remove")(remove_version_command)
    app.add_typer(browser_app, name="browser")
    app.command("import")(import_command)
    app.command("history")(history_command)
    app.command("track")(track_command)
