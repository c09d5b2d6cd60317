"""``clausewatch regulations search|import|list`` (scores: ``clausewatch eval run
regulation-retrieval``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from clausewatch.core.errors import InputError

if TYPE_CHECKING:
    from clausewatch.regulations.search import Mode

regulations_app = typer.Typer(
    help="The regulation catalogue and its retrieval index.", no_args_is_help=True
)


@regulations_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="Clause text ('-' reads standard input).")],
    k: Annotated[int, typer.Option("--k", min=1, max=50)] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or keyword")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Regulation provisions most relevant to TEXT (indexes the catalogue on first use)."""
    import sys

    from clausewatch.regulations.search import regulation_candidates

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InputError("empty clause text")
    if mode not in ("hybrid", "dense", "keyword"):
        raise InputError(f"unknown mode {mode!r} (hybrid, dense or keyword)")
    results = regulation_candidates(text, k=k, mode=cast("Mode", mode))
    if as_json:
        rows = [{"id": r.id, "title": r.title, "score": r.score} for r in results]
        typer.echo(json.dumps({"results": rows}, ensure_ascii=False))
        return
    for r in results:
        typer.echo(f"{r.score:7.4f}  {r.id:18s} {r.title}")


@regulations_app.command("list")
def list_command(
    regulation: Annotated[
        str | None, typer.Option("--regulation", help="gdpr, uk-gdpr, ccpa, ...")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The provisions of the shipped catalogue."""
    from clausewatch.regulations.catalogue import load_catalogue

    rows = [p for p in load_catalogue().values() if regulation in (None, p.regulation)]
    if regulation and not rows:
        raise InputError(f"no provisions for regulation {regulation!r}")
    if as_json:
        typer.echo(json.dumps({"results": [p.model_dump() for p in rows]}, ensure_ascii=False))
        return
    for p in rows:
        typer.echo(f"{p.id:18s} {p.title}  [{', '.join(p.topics)}]")
    typer.echo(f"{len(rows)} provisions")


@regulations_app.command("import")
def import_command(
    directory: Annotated[
        Path, typer.Argument(help="Regulation texts laid out as shared/data/regulations.")
    ],
) -> None:
    """Index full texts (chunked per article/section) linked to the catalogue ids."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clausewatch.regulations.index import (
        import_fulltexts,
        index_catalogue,
        open_regulation_store,
    )

    if not directory.is_dir():
        raise InputError(f"not a directory: {directory}")
    store = open_regulation_store()
    index_catalogue(store)
    with Progress(
        TextColumn("embedding regulation text"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("embed", total=None)
        report = import_fulltexts(
            directory,
            store=store,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    typer.echo(
        f"embedded {report.embedded} chunks, unchanged {report.unchanged}, removed "
        f"{report.removed}; {report.unlinked} imported provisions have no catalogue entry; "
        f"{report.total} entries in the regulations index"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(regulations_app, name="regulations")
