"""``clausewatch run``, ``schedule`` and ``flows``: the Prefect flows as CLI commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from clausewatch.flows.progress import Display
    from clausewatch.schemas.runs import RunSummary

console = Console()  # results: summaries and JSON (stdout)
progress_console = Console(stderr=True)  # progress and start-up lines: stdout stays parseable

flows_app = typer.Typer(help="Run the publish and digest flows.", no_args_is_help=True)


def _quiet_prefect(verbose: bool) -> None:
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    from clausewatch.core.settings import get_settings

    settings = get_settings()
    settings.ensure_home()
    # results (task cache) live in the storage (default: the workspace), so a new workspace
    # never sees stale results; a remote storage is set up by _prefect (flows.results)
    from clausewatch.flows.results import local_results_path

    local = local_results_path(settings)
    if local is not None:
        os.environ.setdefault("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(local))


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def _display() -> Iterator[Display]:
    """Progress on stderr (stdout keeps the summary or the JSON): a live rich display on a
    terminal, plain lines as they happen otherwise (cron, CI, a pipe), so a log shows it."""
    from clausewatch.flows import progress

    if not progress_console.is_terminal:
        display: Display = progress.LineDisplay(_line)
        with progress.use(display):
            yield display
        return
    with progress.rich_progress(progress_console) as bar:
        display = progress.RichDisplay(bar)
        with progress.use(display):
            yield display


SOURCES_HELP = (
    "A bundled list (ai-platforms, sample; see 'clausewatch sources list') or a declarations "
    "file; repeat to combine (a later declaration of the same document replaces an earlier "
    "one). Default: CLAUSEWATCH_SOURCES, else CLAUSEWATCH_SOURCES_FILE, else the sample."
)


def run(
    sources: Annotated[
        list[str] | None, typer.Option("--sources", help=SOURCES_HELP, metavar="NAME|FILE")
    ] = None,
    history: Annotated[
        Path | None, typer.Option("--history", help="Import dated history from this tree first.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="LLM backend (default: settings).")] = None,
    max_drafts: Annotated[
        int | None, typer.Option(help="Draft at most this many changes in this run.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
    verbose: Annotated[bool, typer.Option(help="Show Prefect's logs.")] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            help="Seconds to wait for a run already in progress (default: "
            "CLAUSEWATCH_RUN_LOCK_WAIT_S, else 0: exit with code 4).",
            min=0,
        ),
    ] = None,
    draft_mode: Annotated[
        str | None,
        typer.Option(
            "--draft-mode",
            help="process: draft in this process; wait: task workers (clausewatch worker) "
            "draft and the run waits for them; handoff: queue for the task workers and end "
            "(default: CLAUSEWATCH_DRAFT_MODE, else process).",
            metavar="process|wait|handoff",
        ),
    ] = None,
) -> None:
    """Run the monitoring flow once: fetch, detect changes, index, draft, queue for review.

    Exit codes: 0 ok, 1 failed, 2 usage, 3 partial, 4 another run in progress,
    130 interrupted (SIGINT), 143 stopped (SIGTERM).
    """
    _quiet_prefect(verbose)
    from clausewatch.core.settings import get_settings
    from clausewatch.flows import interrupts
    from clausewatch.flows.dispatch import check_mode
    from clausewatch.storage.runlock import run_lock

    mode = check_mode(draft_mode or get_settings().draft_mode)

    try:
        # the lock before Prefect: a second run says so at once, not after the server start
        with interrupts.stop_on_signals(), run_lock(wait_s=wait, command="clausewatch run"):
            summary = _run_flow(sources, history, backend, max_drafts, mode)
    except interrupts.RunInterrupted as exc:
        _line(f"clausewatch: {exc}; the run is recorded as interrupted")
        interrupts.hard_exit(exc.exit_code)  # do not wait for a model call still running
        raise  # not reached
    _report(summary, as_json)


@contextmanager
def _prefect(display: Display) -> Iterator[str]:
    """PREFECT_API_URL, or a temporary Prefect server that ends with this process; Prefect's
    results in the shared storage (flows.results)."""
    from clausewatch.core.settings import get_settings
    from clausewatch.flows.prefect_server import prefect_api
    from clausewatch.flows.results import shared_results

    log_path = get_settings().home / "prefect" / "server.log"
    with prefect_api(display.message, log_path) as url, shared_results():
        yield url


def _run_flow(
    sources: list[str] | None,
    history: Path | None,
    backend: str | None,
    max_drafts: int | None,
    draft_mode: str = "process",
) -> RunSummary:
    from clausewatch.flows.monitor import run_monitor

    with _display() as display, _prefect(display):
        return run_monitor(
            sources=list(sources) if sources else None,
            history_dir=str(history) if history else None,
            backend=backend,
            max_drafts=max_drafts,
            draft_mode=draft_mode,
        )


def _report(summary: RunSummary, as_json: bool) -> None:
    from clausewatch.core import exitcodes

    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
    else:
        _print_summary(summary.model_dump(mode="json"))
    code = exitcodes.RUN_STATUS_CODES.get(summary.status, exitcodes.FAILED)
    if code:
        raise typer.Exit(code)


def _print_summary(s: dict[str, Any]) -> None:
    from clausewatch.core.settings import get_settings

    table = Table(title=f"monitoring run {s['run_id']}: {s['status']}", show_header=False)
    for label, key in [
        ("versions imported from history", "imported_versions"),
        ("new versions fetched", "new_versions"),
        ("sources unchanged", "unchanged"),
        ("drastic changes held until seen again", "suspect"),
        ("clauses embedded", "embedded"),
        ("changes to draft", "changes_pending"),
        ("drafts queued for review", "drafts_created"),
        ("drafts flagged for an editor", "drafts_flagged"),
        ("redrafts", "redrafts"),
        ("left pending for the next run", "drafts_deferred"),
        ("left queued for the task workers", "drafts_handed_off"),
        ("seconds (of which LLM)", "seconds"),
    ]:
        value = s[key]
        if key == "seconds":
            value = f"{s['seconds']:.1f} ({s['llm_seconds']:.1f})"
        table.add_row(label, str(value))
    llm = s["llm"]
    table.add_row(
        "LLM calls (failed, invalid)", f"{llm['calls']} ({llm['failed']}, {llm['invalid']})"
    )
    console.print(table)
    if s.get("deferred_reason"):
        console.print(f"[yellow]{s['deferred_reason']}[/yellow]")
    if llm["last_error"]:
        console.print(
            f"[red]LLM errors[/red]: {llm['failed']} of {llm['calls']} calls failed; "
            f"last ({llm['last_error_at']}): {llm['last_error']}",
            highlight=False,
        )
    for f in s["failures"]:
        console.print(f"[red]failed[/red] {f['stage']} {f['item']}: {f['reason']}")
    home = get_settings().home
    console.print(
        f"\nWorkspace: {home}\n"
        "Next: [bold]clausewatch review list[/bold] (drafts awaiting review), "
        "[bold]clausewatch serve[/bold] (review app), "
        "[bold]clausewatch status[/bold], [bold]clausewatch history PLATFORM DOC_TYPE[/bold]."
    )


def schedule(
    cron: Annotated[str, typer.Option(help='Cron expression, e.g. "0 6 * * *".')],
    name: Annotated[str, typer.Option(help="Deployment name.")] = "clausewatch-monitor",
    sources: Annotated[
        list[str] | None, typer.Option("--sources", help=SOURCES_HELP, metavar="NAME|FILE")
    ] = None,
    backend: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Serve the monitoring flow on a schedule (needs `prefect server start` + PREFECT_API_URL)."""
    from clausewatch.core.errors import ConfigError

    _quiet_prefect(True)
    from clausewatch.flows.prefect_server import configured_api_url

    if not configured_api_url():
        raise ConfigError(
            "scheduling needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from prefect import serve

    from clausewatch.flows.monitor import monitor_deployment
    from clausewatch.flows.results import shared_results

    params: dict[str, Any] = {"sources": list(sources) if sources else None, "backend": backend}
    deployment = monitor_deployment(name=name, cron=cron, parameters=params)
    progress_console.print(
        f"serving [bold]{name}[/bold] on cron {cron!r} (one run at a time); Ctrl-C to stop"
    )
    with shared_results():  # the served runs' results in the shared storage too
        serve(deployment, print_starting_message=False)


@flows_app.command("publish")
def publish(
    out: Annotated[
        str | None, typer.Option(help="Site directory or storage URL (default: <storage>/site).")
    ] = None,
    alerts: Annotated[bool, typer.Option(help="Send same-day alerts.")] = True,
) -> None:
    """Run the publish flow: build the site, send same-day alerts."""
    _quiet_prefect(False)
    from clausewatch.flows.publish import publish_flow

    with _display() as display, _prefect(display):
        summary = publish_flow(out_dir=out, alerts=alerts)
    console.print_json(data=summary)


@flows_app.command("digest")
def digest() -> None:
    """Run the digest flow: send the weekly digest."""
    _quiet_prefect(False)
    from clausewatch.flows.publish import digest_flow

    with _display() as display, _prefect(display):
        summary = digest_flow()
    console.print_json(data=summary)


def register(app: typer.Typer) -> None:
    from clausewatch.flows.deploy import deploy

    app.command("run")(run)
    app.command("schedule")(schedule)
    app.command("deploy")(deploy)
    app.add_typer(flows_app, name="flows")
