"""``clausewatch demo``: the sample's changes with demo analyses, ready to review at once."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def demo_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Try the review workflow without waiting for a model: load the shipped sample and queue
    its eight changes with analyses written by the clausewatch team, marked DEMO everywhere."""
    from clausewatch.core.settings import get_settings
    from clausewatch.drafting.demo import DEMO_LABEL, load_sample, queue_demo_drafts
    from clausewatch.storage.db import session_scope

    settings = get_settings()
    settings.ensure_home()
    imported, tracked = load_sample()
    with session_scope() as session:
        result = queue_demo_drafts(session)
    if as_json:
        payload = {
            "queued": result.queued,
            "existing": result.existing,
            "unmatched": result.unmatched,
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(
        f"sample loaded into {settings.home} ({imported} versions imported, {tracked} fetched); "
        f"{len(result.queued)} demo drafts queued"
        + (f", {result.existing} already there" if result.existing else "")
    )
    for miss in result.unmatched:
        typer.echo(f"no change for demo analysis {miss}", err=True)
    typer.echo(
        f"Demo drafts are written by us, not by a model: their titles start with [{DEMO_LABEL}] "
        "in the review queue, on published pages, in feeds and alerts, and the dataset marks "
        'them "demo": true. `clausewatch run` drafts the same changes with the model.\n'
        "Next: clausewatch review list · clausewatch users add alice --role editor && "
        "clausewatch serve"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
