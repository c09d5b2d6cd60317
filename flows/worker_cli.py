"""``clausewatch worker``: a Prefect task worker that drafts the changes runs queue for it."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer


def worker(
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, help="Drafts at a time in this process (default: CLAUSEWATCH_LLM_CONCURRENCY)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show Prefect's debug logs.")] = False,
) -> None:
    """Draft queued changes as a Prefect task worker, with this machine's LLM settings.

    Start one per machine (same PREFECT_API_URL, CLAUSEWATCH_DATABASE_URL and
    CLAUSEWATCH_CHROMA_URL as the runs); runs with CLAUSEWATCH_DRAFT_MODE=wait or handoff
    queue their changes for it. The same as `prefect task serve --module
    clausewatch.flows.workers --limit N`. Stop it with Ctrl-C or SIGTERM; a worker killed
    while drafting releases its claim when the lease (CLAUSEWATCH_DRAFT_LEASE_S) expires.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if verbose else "INFO")
    from clausewatch.core.errors import ConfigError
    from clausewatch.core.settings import get_settings, reset_settings
    from clausewatch.drafting.claims import worker_id
    from clausewatch.flows.prefect_server import configured_api_url
    from clausewatch.flows.results import local_results_path, shared_results
    from clausewatch.llm.factory import resolve
    from clausewatch.storage.db import get_engine

    settings = get_settings()
    settings.ensure_home()
    local = local_results_path(settings)  # results in the storage, as `clausewatch run` keeps
    if local is not None:
        os.environ.setdefault("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(local))
    url = configured_api_url()
    if not url:
        raise ConfigError(
            "a task worker needs PREFECT_API_URL: the Prefect server the monitoring runs use "
            "(`prefect server start`; task workers cannot use a temporary server)"
        )
    get_engine()  # the schema is current before the first claim
    slots = limit or max(1, settings.llm_concurrency)
    if slots != settings.llm_concurrency:  # one LLM call per draft at a time, in this process
        os.environ["CLAUSEWATCH_LLM_CONCURRENCY"] = str(slots)
        reset_settings()
    choice = resolve()
    database = settings.db_url.split("@")[-1]
    print(
        f"clausewatch worker {worker_id()}: Prefect {url}, database {database}, "
        f"LLM {choice.backend} {choice.model} ({choice.reason}), {slots} at a time, "
        f"lease {settings.draft_lease_s:g} s",
        file=sys.stderr,
        flush=True,
    )
    # task runs a worker schedules itself have no flow run: their lines stay in this log
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from clausewatch.flows.workers import serve, warm_up

    started = time.monotonic()
    warm_up()
    print(f"ready in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    with shared_results(settings):
        serve(limit=slots)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
