"""Readable, coloured terminal reports of clauses and changes (rich).

Policy text is untrusted: it is always wrapped in ``rich.text.Text``, never parsed as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from clausewatch.schemas.clauses import Alignment, ClauseChange, ClauseSeg
from clausewatch.schemas.vocabulary import ChangeKind

_KIND_STYLE = {
    ChangeKind.ADDED: "bold green",
    ChangeKind.REMOVED: "bold red",
    ChangeKind.MODIFIED: "bold yellow",
    ChangeKind.MOVED: "bold cyan",
}


def _trail(path: list[str]) -> str:
    return " > ".join(path) if path else "(top)"


def print_clauses(clauses: list[ClauseSeg], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(show_lines=False, expand=True)
    table.add_column("id", no_wrap=True, style="dim")
    table.add_column("path", ratio=1)
    table.add_column("tokens", justify="right")
    table.add_column("text", ratio=3)
    for clause in clauses:
        excerpt = clause.text if len(clause.text) <= 200 else clause.text[:197] + "..."
        table.add_row(clause.id, Text(_trail(clause.path)), str(clause.tokens), Text(excerpt))
    console.print(table)
    console.print(Text(f"{len(clauses)} clauses, {sum(c.tokens for c in clauses)} tokens"))


def _change_body(change: ClauseChange, *, markers: bool = False) -> Text:
    """The clause text; a modification as a word diff, marked like ``git diff --word-diff``
    ([-deleted-]{+inserted+}) when the output has no colours."""
    if change.kind == ChangeKind.MODIFIED and change.word_diff is not None:
        body = Text()
        for op in change.word_diff:
            if body:
                body.append(" ")
            if op.op == "equal":
                body.append(op.text)
            elif op.op == "delete":
                body.append(f"[-{op.text}-]" if markers else op.text, style="red strike")
            else:
                body.append(
                    f"{{+{op.text}+}}" if markers else op.text, style="bold green underline"
                )
        return body
    if change.kind == ChangeKind.ADDED and change.new:
        return Text(change.new.text, style="green")
    if change.kind == ChangeKind.REMOVED and change.old:
        return Text(change.old.text, style="red")
    ref = change.new or change.old
    return Text(ref.text if ref else "")


def print_alignment(
    alignment: Alignment,
    *,
    old_label: str = "old",
    new_label: str = "new",
    console: Console | None = None,
) -> None:
    console = console or Console()
    counts = alignment.counts()
    header = Text(f"{old_label} -> {new_label}: ")
    for kind in ChangeKind:
        header.append(f"{counts[kind]} {kind}", style=_KIND_STYLE[kind])
        header.append(", ")
    header.append(f"{alignment.unchanged} unchanged")
    console.print(header)
    if not alignment.changes:
        console.print(Text("No clause changed.", style="bold"))
        return
    for change in alignment.changes:
        console.print()
        title = Text(change.kind.upper(), style=_KIND_STYLE[change.kind])
        ref = change.new or change.old
        if ref:
            title.append(f"  {ref.id}  ", style="dim")
            title.append(_trail(ref.path))
        if change.similarity is not None:
            title.append(f"  (similarity {change.similarity:.2f})", style="dim")
        console.print(title)
        if change.moved and change.old and change.new:
            console.print(
                Text(
                    f"  moved from: {_trail(change.old.path)} (clause {change.old_position})"
                    f" to clause {change.new_position}",
                    style="cyan",
                )
            )
        console.print(_change_body(change, markers=console.color_system is None))
