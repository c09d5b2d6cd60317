"""``clausewatch index`` and ``clausewatch similar``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from clausewatch.core.errors import InputError


def index_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Embed every clause of every current version that is new or changed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clausewatch.storage.db import session_scope
    from clausewatch.vectorstore.indexing import index_provisions

    console = Console(stderr=True)
    with (
        Progress(
            TextColumn("embedding clauses"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as bar,
        session_scope() as session,
    ):
        task = bar.add_task("embed", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = index_provisions(session, progress=progress)
    if as_json:
        typer.echo(json.dumps(report.__dict__))
        return
    typer.echo(
        f"embedded {report.embedded}, unchanged {report.unchanged}, removed {report.removed}, "
        f"metadata updated {report.metadata_updated}; {report.total} provisions indexed"
    )


def similar_command(
    text: Annotated[str, typer.Argument(help="Clause text ('-' reads standard input).")],
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    exclude_platform: Annotated[str | None, typer.Option("--exclude-platform")] = None,
    doc_type: Annotated[str | None, typer.Option("--doc-type")] = None,
    per_platform: Annotated[int, typer.Option("--per-platform", min=1, max=10)] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Provisions of other platforms most similar to TEXT (at most --per-platform each)."""
    import sys

    from clausewatch.vectorstore.retrieval import similar_provisions

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InputError("empty clause text")
    results = similar_provisions(
        text, exclude_platform=exclude_platform, doc_type=doc_type, k=k, per_platform=per_platform
    )
    if as_json:
        rows = [
            {
                "platform": r.platform,
                "doc_type": r.doc_type,
                "clause_id": r.clause_id,
                "text": r.text,
                "score": r.score,
            }
            for r in results
        ]
        typer.echo(json.dumps({"results": rows}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if not results:
        typer.echo("no comparable provisions (is anything indexed? run `clausewatch index`)")
        return
    table = Table("score", "platform", "doc type", "clause", show_lines=True)
    for r in results:
        snippet = r.text if len(r.text) <= 300 else r.text[:297] + "..."
        table.add_row(f"{r.score:.3f}", escape(r.platform), escape(r.doc_type), escape(snippet))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("index")(index_command)
    app.command("similar")(similar_command)
