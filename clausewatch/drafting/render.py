"""A readable terminal rendering of a ProvisionAnalysis (policy text is never parsed as
markup: everything goes through ``rich.text.Text``)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.vocabulary import ExposureLevel

_LEVEL_STYLE = {
    ExposureLevel.LOW: "green",
    ExposureLevel.MEDIUM: "yellow",
    ExposureLevel.HIGH: "red",
}


def _section(title: str, body: str) -> Group:
    return Group(Text(title, style="bold cyan"), Text(body), Text(""))


def print_analysis(analysis: ProvisionAnalysis, console: Console | None = None) -> None:
    console = console or Console()
    level = analysis.exposure.level
    head = Text(analysis.title, style="bold")
    head.append("   ")
    head.append(f"exposure {level}", style=f"bold {_LEVEL_STYLE[level]}")
    head.append("   " + ", ".join(analysis.categories), style="magenta")
    parts: list[Group | Text | Table] = [
        head,
        Text(""),
        _section("Summary", analysis.summary),
        _section("Key point", analysis.key_point),
        _section("Interpretive note", analysis.interpretive_note),
        _section("What this means", analysis.what_this_means),
        _section("Excerpt", f"“{analysis.excerpt}”"),
    ]
    if analysis.change is not None:
        c = analysis.change
        body = Text(f"{c.kind}: {c.summary}\n")
        if c.before:
            body.append(f"- {c.before}\n", style="red")
        if c.after:
            body.append(f"+ {c.after}\n", style="green")
        parts += [Text("Change", style="bold cyan"), body]
    if analysis.comparisons:
        table = Table("platform", "excerpt", "note", title="How other platforms handle this")
        for cmp in analysis.comparisons:
            table.add_row(Text(cmp.platform), Text(cmp.excerpt), Text(cmp.note))
        parts += [table, Text("")]
    if analysis.regulatory_landscape:
        table = Table("provision", "title", "relevance", title="Regulatory landscape")
        for ref in analysis.regulatory_landscape:
            table.add_row(Text(ref.provision_id), Text(ref.title), Text(ref.relevance))
        parts += [table, Text("")]
    parts.append(_section(f"Exposure: {level}", analysis.exposure.rationale))
    if analysis.jurisdiction_flags:
        flags = "\n".join(f"• {j.jurisdiction}: {j.note}" for j in analysis.jurisdiction_flags)
        parts.append(_section("Jurisdiction flags", flags))
    parts.append(
        _section("Contract and vendor implications", analysis.contract_vendor_implications)
    )
    parts.append(
        _section(
            "Compliance considerations",
            "\n".join(f"• {c}" for c in analysis.compliance_considerations),
        )
    )
    if analysis.provenance is not None:
        p = analysis.provenance
        parts.append(
            Text(
                f"{p.backend}/{p.model} · prompt {p.prompt_id} v{p.prompt_version} · "
                f"{p.attempts} attempt(s) · {p.tokens_in}+{p.tokens_out} tokens · "
                f"{p.latency_ms / 1000:.1f} s",
                style="dim",
            )
        )
        for note in p.retrieval_notes:
            parts.append(Text(f"note: {note}", style="dim"))
    console.print(Panel(Group(*parts), title="Provision analysis", expand=True))
