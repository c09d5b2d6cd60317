"""``clausewatch eval list|run|compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _parse_sets(values: list[str]) -> dict[str, str]:
    from clausewatch.core.errors import InputError

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Score every stage on gold cases; gate regressions.", no_args_is_help=True
    )
    app.add_typer(group, name="eval")

    @group.command("list")
    def list_cmd() -> None:
        """The suites, what they score and the data format each takes."""
        from rich.console import Console
        from rich.table import Table

        from clausewatch.evals.registry import get_suite, suite_names

        table = Table(title="eval suites")
        for col in ("suite", "scores", "data (--data)"):
            table.add_column(col)
        for name in suite_names():
            suite = get_suite(name)
            table.add_row(
                name,
                suite.description,
                f"{suite.data_format}\n[dim]default: {suite.default_data()}[/dim]",
            )
        Console().print(table)

    @group.command("run")
    def run_cmd(
        suite: Annotated[str, typer.Argument(help="suite name (see `clausewatch eval list`)")],
        data: Annotated[
            Path | None, typer.Option(help="gold data in the suite's format (default: shipped)")
        ] = None,
        backend: Annotated[
            str | None, typer.Option(help="LLM backend: auto, openai, openai-compatible, local")
        ] = None,
        limit: Annotated[
            int | None, typer.Option(min=1, help="score only the first N cases")
        ] = None,
        split: Annotated[
            str,
            typer.Option(
                help="part of the shipped gold set: dev (tune on it) or test (frozen, report only)"
            ),
        ] = "dev",
        as_json: Annotated[bool, typer.Option("--json", help="print the JSON report")] = False,
        out: Annotated[
            Path | None, typer.Option(help="write SUITE.json and SUITE.md into this folder")
        ] = None,
        check: Annotated[
            bool, typer.Option(help="exit 1 when a metric is below its threshold")
        ] = False,
        thresholds: Annotated[
            Path | None, typer.Option(help="thresholds file (default: evals/thresholds.yaml)")
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="suite option KEY=VALUE (e.g. model=cv, k=5)"),
        ] = None,
    ) -> None:
        """Run one suite and report its metrics."""
        from rich.console import Console
        from rich.progress import Progress

        from clausewatch.evals.registry import RunOptions
        from clausewatch.evals.report import print_report, write_outputs
        from clausewatch.evals.runner import run_suite
        from clausewatch.evals.thresholds import THRESHOLDS_FILE, load_thresholds
        from clausewatch.evals.thresholds import check as check_gates

        console = Console(stderr=as_json)
        gates = load_thresholds(thresholds or THRESHOLDS_FILE)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"eval {suite}", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = run_suite(
                suite,
                RunOptions(
                    data=data,
                    backend=backend,
                    limit=limit,
                    split=split,
                    progress=tick,
                    extra=_parse_sets(set_ or []),
                ),
            )
        failures = check_gates(report, gates)
        if as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            print_report(report, console, failures)
        if out is not None:
            path = write_outputs(report, out, failures)
            console.print(f"report written: {path} (+ .md)")
        if check:
            if failures:
                for failure in failures:
                    console.print(f"[red]below threshold:[/red] {failure}")
                raise typer.Exit(1)
            console.print(f"[green]all {len(gates.get(suite, []))} thresholds met[/green]")

    @group.command("compare")
    def compare_cmd(
        a: Annotated[Path, typer.Argument(help="baseline report (JSON)")],
        b: Annotated[Path, typer.Argument(help="new report (JSON)")],
    ) -> None:
        """What got better or worse from run A to run B."""
        from rich.console import Console

        from clausewatch.core.errors import InputError
        from clausewatch.evals.report import compare, compare_table, load_report

        ra, rb = load_report(a), load_report(b)
        if ra.suite != rb.suite:
            raise InputError(f"different suites: {ra.suite} vs {rb.suite}")
        deltas, flips = compare(ra, rb)
        console = Console()
        console.print(compare_table(ra, rb, deltas))
        better = sum(d.verdict == "better" for d in deltas)
        worse = sum(d.verdict == "worse" for d in deltas)
        console.print(f"{better} metric(s) better, {worse} worse")
        for key, ids in flips.items():
            if ids:
                shown = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
                console.print(f"{key.replace('_', ' ')} ({len(ids)}): {shown}")
