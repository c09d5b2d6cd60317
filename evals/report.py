"""Reports: a rich table in the terminal, JSON, Markdown, and the comparison of two runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from clausewatch.core.errors import InputError
from clausewatch.schemas.evals import CaseResult, EvalReport

# Metrics where a smaller value is better (everything else: bigger is better).
LOWER_IS_BETTER = ("latency", "cost", "tokens", "attempts", "false_change", "error")


def lower_is_better(metric: str) -> bool:
    return any(key in metric for key in LOWER_IS_BETTER)


def fmt(value: float) -> str:
    if value == int(value) and abs(value) > 1:
        return str(int(value))
    return f"{value:.4f}"


def metrics_table(report: EvalReport, failures: list[str] | None = None) -> Table:
    table = Table(title=f"eval {report.suite}", show_lines=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    failed = {f.split(" ", 1)[0] for f in failures or []}
    for name, value in report.metrics.items():
        mark = " [red]✗[/red]" if name in failed else ""
        table.add_row(name, fmt(value) + mark)
    return table


def cases_table(report: EvalReport, limit: int = 20) -> Table | None:
    bad = [c for c in report.cases if not c.ok]
    if not bad:
        return None
    table = Table(title=f"{len(bad)} case(s) with problems (first {min(limit, len(bad))})")
    table.add_column("case")
    table.add_column("problem")
    for case in bad[:limit]:
        table.add_row(case.id, problem(case)[:200])
    return table


def problem(case: CaseResult) -> str:
    """A one-line account of what went wrong in a case."""
    if case.error:
        return case.error
    keys = ("gold", "predicted", "expected", "top", "got", "missed", "spurious", "issues")
    shown = {k: case.detail[k] for k in keys if case.detail.get(k)}
    return json.dumps(shown or case.metrics, ensure_ascii=False)


def print_report(report: EvalReport, console: Console, failures: list[str] | None = None) -> None:
    console.print(metrics_table(report, failures))
    extra = cases_table(report)
    if extra is not None:
        console.print(extra)
    for key in ("data", "backend", "cases", "duration_s", "note"):
        if key in report.meta:
            console.print(f"[dim]{key}: {report.meta[key]}[/dim]")


def to_markdown(report: EvalReport, failures: list[str] | None = None) -> str:
    lines = [f"# eval `{report.suite}`", ""]
    for key, value in report.meta.items():
        if isinstance(value, str | int | float):
            lines.append(f"- {key}: {value}")
    lines += ["", "| metric | value |", "|---|---:|"]
    lines += [f"| {name} | {fmt(value)} |" for name, value in report.metrics.items()]
    if failures:
        lines += ["", "## Below threshold", ""] + [f"- {f}" for f in failures]
    bad = [c for c in report.cases if not c.ok]
    if bad:
        lines += ["", "## Cases with problems", "", "| case | problem |", "|---|---|"]
        for case in bad:
            text = problem(case).replace("|", "\\|")
            lines.append(f"| {case.id} | {text[:300]} |")
    return "\n".join(lines) + "\n"


def write_outputs(report: EvalReport, out_dir: Path, failures: list[str] | None = None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{report.suite}.json"
    json_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (out_dir / f"{report.suite}.md").write_text(to_markdown(report, failures), encoding="utf-8")
    return json_path


def load_report(path: Path) -> EvalReport:
    try:
        return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read report: {exc}") from exc
    except ValidationError as exc:
        raise InputError(f"{path}: not an eval report: {exc.errors()[0]['msg']}") from exc


@dataclass
class Delta:
    metric: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def verdict(self) -> str:
        change = self.change
        if change is None:
            return "added" if self.before is None else "removed"
        if abs(change) < 1e-9:
            return "same"
        better = change < 0 if lower_is_better(self.metric) else change > 0
        return "better" if better else "worse"


def compare(a: EvalReport, b: EvalReport) -> tuple[list[Delta], dict[str, list[str]]]:
    """Metric deltas from ``a`` to ``b``, and the cases that flipped (ok -> failed and back)."""
    names = list(a.metrics) + [m for m in b.metrics if m not in a.metrics]
    deltas = [Delta(n, a.metrics.get(n), b.metrics.get(n)) for n in names]
    ok_a = {c.id: c.ok for c in a.cases}
    ok_b = {c.id: c.ok for c in b.cases}
    common = [i for i in ok_a if i in ok_b]
    flips = {
        "now_failing": [i for i in common if ok_a[i] and not ok_b[i]],
        "now_passing": [i for i in common if not ok_a[i] and ok_b[i]],
    }
    return deltas, flips


def compare_table(a: EvalReport, b: EvalReport, deltas: list[Delta]) -> Table:
    table = Table(title=f"{a.suite}: A -> B")
    table.add_column("metric")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("change", justify="right")
    table.add_column("")
    colours = {"better": "green", "worse": "red", "same": "dim"}
    for d in deltas:
        change = d.change
        colour = colours.get(d.verdict, "yellow")
        table.add_row(
            d.metric,
            fmt(d.before) if d.before is not None else "-",
            fmt(d.after) if d.after is not None else "-",
            f"{change:+.4f}" if change is not None else "-",
            f"[{colour}]{d.verdict}[/{colour}]",
        )
    return table
