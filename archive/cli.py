"""``clausewatch sources validate``, ``import``, ``history`` and ``track``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clausewatch.errors import ConfigError, InputError

sources_app = typer.Typer(help="Declarations of the tracked documents.", no_args_is_help=True)
versions_app = typer.Typer(help="Recorded versions of the documents.", no_args_is_help=True)


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


def _sources_path(file: Path | None) -> Path:
    from clausewatch.settings import get_settings

    return file if file is not None else get_settings().sources_path


@sources_app.command("validate")
def validate_command(
    file: Annotated[
        Path | None, typer.Argument(help="Declarations file (default: the configured one).")
    ] = None,
) -> None:
    """Check the declarations file; print every problem with its file:line and entry."""
    from archive.declarations import validate_sources

    path = _sources_path(file)
    sources, problems = validate_sources(path)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in {path}")
    typer.echo(f"{path}: {len(sources)} source(s), no problems")


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
    from archive.importer import ImportFile, import_tree
    from storage.runlock import run_lock

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
    from archive.history import document_history
    from storage.db import session_scope

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
        Path | None, typer.Option("--sources", help="Declarations file (default: configured).")
    ] = None,
    wait: WaitOption = None,
) -> None:
    """Fetch every declared source once; record new versions; summarise."""
    from archive.declarations import load_sources
    from archive.track import track_all
    from schemas.sources import TrackOutcome
    from storage.runlock import run_lock

    decls = load_sources(_sources_path(sources))
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
    colours = {"new": "green", "unchanged": "white", "not_modified": "white", "failed": "red"}
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
        f" (not modified: {counts['not_modified']}), failed: {counts['failed']}",
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
    from archive.remove import remove_version
    from storage.db import session_scope
    from storage.runlock import run_lock

    # not while a run or an import records versions
    with run_lock(wait_s=wait, command="clausewatch versions remove"), session_scope() as s:
        removal = remove_version(s, platform, doc_type, version_id, force=force, dry_run=dry_run)
    for line in removal.lines():
        typer.echo(line)
    if not dry_run:
        typer.echo("the vector store follows at the next run (or 'clausewatch index')")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.add_typer(versions_app, name="versions")
    versions_app.command("remove")(remove_version_command)
    app.command("import")(import_command)
    app.command("history")(history_command)
    app.command("track")(track_command)
