"""Reports, comparison of two runs, thresholds and the ``eval`` CLI plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import ConfigError
from clausewatch.evals.report import compare, load_report, to_markdown, write_outputs
from clausewatch.evals.thresholds import check, load_thresholds
from clausewatch.schemas.evals import CaseResult, EvalReport


def _report(**metrics: float) -> EvalReport:
    return EvalReport(
        suite="analysis",
        metrics=metrics,
        cases=[
            CaseResult(id="a", ok=True),
            CaseResult(id="b", ok=False, error="flagged"),
        ],
    )


def test_compare_knows_which_direction_is_better() -> None:
    a = _report(category_f1=0.5, latency_s_per_case=10.0, grounding_rate=0.9)
    b = EvalReport(
        suite="analysis",
        metrics={"category_f1": 0.6, "latency_s_per_case": 12.0, "grounding_rate": 0.9, "new": 1},
        cases=[CaseResult(id="a", ok=False), CaseResult(id="b", ok=True)],
    )
    deltas, flips = compare(a, b)
    verdicts = {d.metric: d.verdict for d in deltas}
    assert verdicts == {
        "category_f1": "better",
        "latency_s_per_case": "worse",
        "grounding_rate": "same",
        "new": "added",
    }
    assert flips == {"now_failing": ["a"], "now_passing": ["b"]}


def test_thresholds_min_and_max(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("analysis:\n  category_f1: {min: 0.7}\n  latency_s_per_case: {max: 5}\n")
    gates = load_thresholds(path)
    failures = check(_report(category_f1=0.5, latency_s_per_case=10.0), gates)
    assert failures == ["category_f1 = 0.5000 < 0.7", "latency_s_per_case = 10.0000 > 5.0"]
    assert check(_report(category_f1=0.8, latency_s_per_case=1.0), gates) == []
    assert check(_report(latency_s_per_case=1.0), gates) == ["category_f1: missing from the report"]


def test_bad_thresholds_file(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("analysis:\n  category_f1: {above: 0.7}\n")
    with pytest.raises(ConfigError, match="category_f1"):
        load_thresholds(path)


def test_shipped_thresholds_cover_every_suite() -> None:
    from clausewatch.evals.registry import suite_names

    gates = load_thresholds()
    assert set(gates) == set(suite_names())


def test_json_and_markdown_outputs_round_trip(tmp_path: Path) -> None:
    report = _report(category_f1=0.5)
    path = write_outputs(report, tmp_path, ["category_f1 = 0.5 < 0.7"])
    assert load_report(path) == report
    md = (tmp_path / "analysis.md").read_text()
    assert "| category_f1 | 0.5000 |" in md
    assert "Below threshold" in md and "| b | flagged |" in md
    assert to_markdown(report).startswith("# eval `analysis`")


def test_cli_compare_and_bad_report(tmp_path: Path) -> None:
    a = write_outputs(_report(category_f1=0.5), tmp_path / "a")
    b = write_outputs(_report(category_f1=0.7), tmp_path / "b")
    result = CliRunner().invoke(app, ["eval", "compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "better" in result.output and "1 metric(s) better, 0 worse" in result.output
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    result = CliRunner().invoke(app, ["eval", "compare", str(a), str(junk)])
    assert result.exit_code != 0


def test_cli_list_shows_every_suite() -> None:
    result = CliRunner().invoke(app, ["eval", "list"])
    assert result.exit_code == 0, result.output
    for name in ("change-detection", "clause-classification", "regulation-retrieval", "analysis"):
        assert name in result.output
