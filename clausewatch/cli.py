"""The ``clausewatch`` console script.

Each package contributes its commands through ``<package>.cli.register(app)``; those modules
keep heavy imports (prefect, chromadb, langchain) inside the command functions so that
commands which do not need them start fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import typer

# Prefect must never try the network: set before anything imports prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

app = typer.Typer(
    name="clausewatch",
    help="Watch AI platforms' policies clause by clause; draft analyses for human review.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Modules that contribute commands (each defines ``register(app: typer.Typer) -> None``).
COMMAND_MODULES: list[str] = [
    "clausewatch.classifier.cli",
    "clausewatch.evals.cli",
    "clausewatch.llm.cli",
    "clausewatch.flows.cli",
    "clausewatch.flows.worker_cli",
    "clausewatch.status",
    "clausewatch.archive.diff_cli",
    "clausewatch.archive.cli",
    "clausewatch.drafting.cli",
    "clausewatch.drafting.demo_cli",
    "clausewatch.publication.cli",
    "clausewatch.review.cli",
    "clausewatch.vectorstore.cli",
    "clausewatch.regulations.cli",
]


@app.callback()
def _startup() -> None:
    """Say on stderr where settings come from when a settings file is read (never silently)."""
    from clausewatch.core.settings import settings_source_lines

    for line in settings_source_lines():
        typer.echo(line, err=True)


@app.command("version")
def version() -> None:
    """Print the clausewatch version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("clausewatch"))


@app.command("init")
def init_workspace() -> None:
    """Create the workspace (CLAUSEWATCH_HOME) and bring the database schema up to date."""
    from clausewatch.core.settings import get_settings
    from clausewatch.storage.db import get_engine

    settings = get_settings()
    settings.ensure_home()
    get_engine()
    _warn_if_open(settings.home)
    typer.echo(f"workspace ready: {settings.home} (database {settings.db_url.split('@')[-1]})")
    _check_storage()


def _check_storage() -> None:
    """Write, read back and delete a probe in the storage; with a remote storage and a Prefect
    server named, save the results block and say how processes Prefect starts find it."""
    import time

    from clausewatch.core.settings import get_settings, is_local_url
    from clausewatch.storage.files import storage_root

    settings = get_settings()
    store = storage_root(settings)
    started = time.perf_counter()
    store.check()
    typer.echo(
        f"storage ready: {store.url} (probe written, read and deleted in "
        f"{time.perf_counter() - started:.2f} s)"
    )
    if is_local_url(settings.storage) or not os.environ.get("PREFECT_API_URL"):
        return  # no Prefect server named: nothing to save (and Prefect is not imported)
    from clausewatch.flows.results import process_credentials, save_results_block

    with process_credentials(settings):
        slug = save_results_block(settings)
    typer.echo(
        f"Prefect results: block {slug}; processes Prefect starts (prefect worker start, "
        f"prefect task serve) need PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK={slug} and "
        f"PREFECT_TASKS_SCHEDULING_DEFAULT_STORAGE_BLOCK={slug}"
    )


def _warn_if_open(home: Path) -> None:
    """A workspace made before clausewatch created it 700 may be readable by others."""
    from clausewatch.core.workspace import open_to_others

    for path in (home, home / "clausewatch.db"):
        mode = open_to_others(path)
        if mode is not None:
            typer.echo(
                f"warning: {path} is open to other users (mode {mode:o}; it holds secrets): "
                f"chmod {'700' if path.is_dir() else '600'} {path}",
                err=True,
            )


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    from clausewatch.core import exitcodes
    from clausewatch.core.errors import ClausewatchError
    from clausewatch.storage.runlock import RunBusyError

    try:
        app()
    except RunBusyError as exc:
        typer.echo(f"clausewatch: {exc}", err=True)
        sys.exit(exitcodes.BUSY)
    except ClausewatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exitcodes.USAGE)


if __name__ == "__main__":
    main()
