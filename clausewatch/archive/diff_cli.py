"""``clausewatch segment`` and ``clausewatch diff``: documents (files or URLs, loaded by the
archive's loader) split into clauses and compared by ``clausewatch.clauses``. They live here,
not in ``clauses``, because the clause stage sits below the archive."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from clausewatch.core.errors import InputError


def _load(location: str) -> str:
    from clausewatch.archive.loader import load_markdown

    return load_markdown(location)


def _segment_location(location: str, *, with_tokens: bool) -> list[Any]:
    from clausewatch.clauses.segment import segment

    clauses = segment(_load(location), with_tokens=with_tokens)
    if not clauses:
        raise InputError(f"{location}: no clauses found (the document has no text)")
    return clauses


def segment_command(
    file: Annotated[str, typer.Argument(help="File path or URL of the document.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Split a document into clauses (paragraphs, list items, table rows) with heading trails."""
    clauses = _segment_location(file, with_tokens=True)
    if as_json:
        payload = {
            "clauses": [
                {"id": c.id, "path": c.path, "text": c.text, "tokens": c.tokens} for c in clauses
            ]
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from clausewatch.clauses.report import print_clauses

    print_clauses(clauses)


def diff_command(
    old: Annotated[str, typer.Argument(help="Old version: file path or URL.")],
    new: Annotated[str, typer.Argument(help="New version: file path or URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two versions clause by clause: added, removed, modified (word diff), moved."""
    from clausewatch.clauses.align import align

    old_clauses = _segment_location(old, with_tokens=False)
    new_clauses = _segment_location(new, with_tokens=False)
    alignment = align(old_clauses, new_clauses)
    if as_json:
        changes = [
            change.model_dump(mode="json", exclude_none=True)
            | {
                "old": change.old.model_dump(mode="json") if change.old else None,
                "new": change.new.model_dump(mode="json") if change.new else None,
            }
            for change in alignment.changes
        ]
        typer.echo(json.dumps({"changes": changes}, ensure_ascii=False, indent=2))
        return
    from clausewatch.clauses.report import print_alignment

    print_alignment(alignment, old_label=old, new_label=new)


def register(app: typer.Typer) -> None:
    app.command("segment")(segment_command)
    app.command("diff")(diff_command)
