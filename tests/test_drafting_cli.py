"""``clausewatch analyze``: JSON contract, --previous, flagged exit, bad clause id.

The documents are written here; retrieval runs for real on an empty workspace (the vector
store has not been indexed), so the command must work with no comparables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from drafting_support import VALID
from typer.testing import CliRunner

from clausewatch.clauses.segment import segment
from clausewatch.cli import app
from clausewatch.core.errors import InputError
from clausewatch.llm import fake
from clausewatch.llm.base import LLMRequest
from clausewatch.schemas.analysis import ProvisionAnalysis

OLD = """# Example Privacy Policy

## Retention

We keep your chat history for 30 days.

## Contact

Write to privacy@example.test.
"""
NEW = OLD.replace("30 days", "90 days, unless you delete it sooner")

runner = CliRunner()


def _answer(with_change: bool) -> Callable[[LLMRequest], dict[str, object]]:
    """A responder citing the first regulation candidate the per-call schema offers."""

    def respond(request: LLMRequest) -> dict[str, object]:
        props = request.json_schema["properties"]
        reg = props["regulatory_landscape"]["items"]["properties"]["provision_id"]
        data: dict[str, object] = {
            **VALID,
            "categories": ["data-retention"],
            "excerpt_sentences": [1],
            "comparisons": [],
            "regulatory_landscape": [
                {"provision_id": reg["enum"][0], "relevance": "Storage limitation."}
            ]
            if "enum" in reg
            else [],
        }
        if with_change:
            data["change_summary"] = "Chat history is now kept for 90 days instead of 30."
        return data

    return respond


@pytest.fixture
def docs(tmp_path: Path) -> tuple[Path, Path, str]:
    old, new = tmp_path / "old.md", tmp_path / "new.md"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    clause_id = next(c.id for c in segment(NEW) if "90 days" in c.text)
    return old, new, clause_id


@pytest.fixture
def no_retrieval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the (slow, first-use) vector store and classifier where a test is not about them."""
    from clausewatch.drafting import service
    from clausewatch.drafting.retrieve import Retrieved

    monkeypatch.setattr(service, "retrieve", lambda text, **_: Retrieved(notes=["stubbed"]))
    monkeypatch.setattr(service, "category_hint", lambda text, notes: [])


def _invoke(new: Path, clause_id: str, *extra: str) -> object:
    args = ["analyze", str(new), "--platform", "example", "--doc-type", "privacy_policy"]
    return runner.invoke(app, [*args, "--clause", clause_id, *extra])


def test_analyze_json_with_previous(workspace: Path, docs: tuple[Path, Path, str]) -> None:
    old, new, clause_id = docs
    with fake.scripted(responder=_answer(with_change=True)) as llm:
        result = _invoke(new, clause_id, "--previous", str(old), "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    analysis = ProvisionAnalysis.model_validate(data)
    assert analysis.excerpt == "We keep your chat history for 90 days, unless you delete it sooner."
    assert analysis.change is not None and analysis.change.kind == "modified"
    assert analysis.change.before == "We keep your chat history for 30 days."
    assert analysis.comparisons == []
    # the mapper decides what is cited (data-retention engages GDPR Art. 5)
    assert "gdpr:5" in [r.provision_id for r in analysis.regulatory_landscape]
    assert analysis.provenance is not None and analysis.provenance.retrieval_notes
    assert "<<<BEGIN DATA>>>" in llm.requests[0].messages[1]["content"]


def test_analyze_readable_without_previous(
    workspace: Path, docs: tuple[Path, Path, str], no_retrieval: None
) -> None:
    _, new, clause_id = docs
    with fake.scripted(responder=_answer(with_change=False)):
        result = _invoke(new, clause_id)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    assert "Provision analysis" in out and "Business API data follows" in out
    assert "Compliance considerations" in out


def test_flagged_analysis_exits_non_zero(
    workspace: Path, docs: tuple[Path, Path, str], no_retrieval: None
) -> None:
    _, new, clause_id = docs
    with fake.scripted(["nope", "still nope", "{}"]):
        result = _invoke(new, clause_id, "--json")
    assert result.exit_code == 1
    assert "analysis flagged after 3 attempt(s)" in result.stderr  # type: ignore[attr-defined]
    assert "title: Field required" in result.stderr  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]


def test_unknown_clause_is_an_input_error(workspace: Path, docs: tuple[Path, Path, str]) -> None:
    _, new, _ = docs
    with fake.scripted([]):
        result = _invoke(new, "no-such-clause", "--json")
    assert isinstance(result.exception, InputError)  # type: ignore[attr-defined]
    assert "clausewatch segment" in str(result.exception)  # type: ignore[attr-defined]


def test_analysis_schema_command() -> None:
    result = runner.invoke(app, ["analysis-schema"])
    assert result.exit_code == 0
    from clausewatch.schemas.analysis import analysis_json_schema

    assert json.loads(result.stdout) == analysis_json_schema()


def test_flagged_best_effort_is_printed_with_its_own_exit_code(
    workspace: Path, docs: tuple[Path, Path, str], no_retrieval: None
) -> None:
    """Valid and grounded but shallow (every prose field the same sentence): the best effort
    is printed, marked flagged, with what the checks found; exit 3, not 1."""
    _, new, clause_id = docs
    same = "Chat history is kept for ninety days unless the user deletes it sooner."

    def shallow(request: LLMRequest) -> dict[str, object]:
        data = _answer(with_change=False)(request)
        for key in ("summary", "key_point", "interpretive_note", "what_this_means"):
            data[key] = same
        data["contract_vendor_implications"] = same
        data["compliance_considerations"] = [same]
        return data

    with fake.scripted(responder=shallow):
        result = _invoke(new, clause_id, "--json")
    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    assert "best effort printed" in result.stderr  # type: ignore[attr-defined]
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert data.pop("flagged") is True and data.pop("check_errors")
    assert ProvisionAnalysis.model_validate(data).summary == same
    with fake.scripted(responder=shallow):
        readable = _invoke(new, clause_id)
    assert readable.exit_code == 3  # type: ignore[attr-defined]
    assert readable.stdout.startswith("FLAGGED")  # type: ignore[attr-defined]
