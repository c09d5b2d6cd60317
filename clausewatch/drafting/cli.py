"""``clausewatch analyze`` (draft one clause's analysis) and ``clausewatch analysis-schema``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from clausewatch.core.errors import InputError

EXIT_NO_ANALYSIS = 1  # no valid, grounded analysis
EXIT_FLAGGED = 3  # a best effort printed, marked flagged, with what the checks found

if TYPE_CHECKING:
    from clausewatch.drafting.context import ChangeInput, ClauseInput
    from clausewatch.schemas.clauses import ClauseSeg


def _segments(location: str) -> list[ClauseSeg]:
    from clausewatch.archive.loader import load_markdown
    from clausewatch.clauses.segment import segment

    clauses = segment(load_markdown(location), with_tokens=False)
    if not clauses:
        raise InputError(f"{location}: no clauses found (the document has no text)")
    return clauses


def resolve_clause(
    file: str, clause_id: str, *, platform: str, doc_type: str, previous: str | None
) -> tuple[ClauseInput, ChangeInput | None]:
    """The clause ``clause_id`` of ``file`` (as ``clausewatch segment`` prints it) and, with
    ``previous``, its change computed by aligning the two versions."""
    from clausewatch.drafting.context import ChangeInput, ClauseInput
    from clausewatch.schemas.vocabulary import ChangeKind

    new = _segments(file)
    by_id = {c.id: c for c in new}
    if previous is None:
        seg = by_id.get(clause_id)
        if seg is None:
            raise InputError(f"no clause {clause_id!r} in {file} (see: clausewatch segment FILE)")
        return ClauseInput(seg.id, seg.text, platform, doc_type, list(seg.path)), None

    from clausewatch.clauses.align import align

    old = _segments(previous)
    alignment = align(old, new)
    aligned_ids = [c.id for c in alignment.clauses]
    subject = by_id.get(clause_id)
    if subject is not None:
        uid = aligned_ids[new.index(subject)]
    elif clause_id in aligned_ids:  # an id as printed by `clausewatch diff`
        uid = clause_id
        subject = new[aligned_ids.index(clause_id)]
    else:
        subject = None
        uid = clause_id
    for ch in alignment.changes:
        if subject is not None and ch.new is not None and ch.new.id == uid:
            return (
                ClauseInput(uid, subject.text, platform, doc_type, list(subject.path)),
                ChangeInput(
                    kind=ch.kind,
                    old_text=ch.old.text if ch.old else None,
                    new_text=ch.new.text,
                    old_path=list(ch.old.path) if ch.old else [],
                    new_path=list(ch.new.path),
                ),
            )
        removed = ch.kind == ChangeKind.REMOVED
        if subject is None and removed and ch.old is not None and ch.old.id == uid:
            return (
                ClauseInput(uid, ch.old.text, platform, doc_type, list(ch.old.path)),
                ChangeInput(
                    kind=ChangeKind.REMOVED, old_text=ch.old.text, old_path=list(ch.old.path)
                ),
            )
    if subject is None:
        raise InputError(
            f"no clause {clause_id!r} in {file} or among the clauses removed since {previous}"
        )
    typer.echo(f"note: clause {clause_id} is unchanged since {previous}", err=True)
    return ClauseInput(uid, subject.text, platform, doc_type, list(subject.path)), None


def analyze_command(
    file: Annotated[str, typer.Argument(help="The document (file path or URL).")],
    platform: Annotated[str, typer.Option("--platform", help="Platform of the document.")],
    doc_type: Annotated[str, typer.Option("--doc-type", help="privacy_policy, terms_of_service…")],
    clause: Annotated[str, typer.Option("--clause", help="Clause id (clausewatch segment).")],
    previous: Annotated[
        str | None, typer.Option("--previous", help="Earlier version: analyse the change.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="LLM backend (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON.")] = False,
) -> None:
    """Draft a validated, grounded ProvisionAnalysis of one clause.

    Nothing is stored but the LLM call log. Exit codes: 0 an analysis that passed every check;
    3 flagged: the checks found problems (listed on stderr) but a valid, grounded best effort
    exists and is printed, marked FLAGGED; 1 no valid, grounded analysis at all.
    """
    from clausewatch.drafting.engine import draft_analysis
    from clausewatch.drafting.service import build_context
    from clausewatch.llm.factory import get_llm
    from clausewatch.storage.db import session_scope

    clause_input, change = resolve_clause(
        file, clause, platform=platform, doc_type=doc_type, previous=previous
    )
    llm = get_llm(backend)
    try:
        with session_scope() as session:
            ctx = build_context(session, clause_input, change)
        outcome = draft_analysis(ctx, llm)
    finally:
        llm.close()
    analysis = outcome.analysis or outcome.best_effort
    flagged = outcome.analysis is None
    if flagged:
        what = "best effort printed" if analysis is not None else "no valid analysis"
        typer.echo(
            f"analysis flagged after {len(outcome.attempts)} attempt(s) ({what}); "
            "what the checks found:",
            err=True,
        )
        for err in outcome.errors:
            typer.echo(f"  - {err}", err=True)
    if analysis is None:
        raise typer.Exit(EXIT_NO_ANALYSIS)
    if as_json:
        payload = analysis.model_dump(mode="json")
        if flagged:
            payload = {"flagged": True, "check_errors": list(outcome.errors), **payload}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        from clausewatch.drafting.render import print_analysis

        if flagged:
            typer.echo("FLAGGED - best effort, not passed by the checks above:")
        print_analysis(analysis)
    if flagged:
        raise typer.Exit(EXIT_FLAGGED)


def schema_command() -> None:
    """Print the JSON Schema of ProvisionAnalysis."""
    from clausewatch.schemas.analysis import analysis_json_schema

    typer.echo(json.dumps(analysis_json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)
    app.command("analysis-schema")(schema_command)
