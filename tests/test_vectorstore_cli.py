"""``clausewatch index``, ``similar``, ``regulations search|list``: stable JSON contracts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from vectorstore_helpers import seed_small_archive

from clausewatch.cli import app
from clausewatch.vectorstore.store import forget_clients

runner = CliRunner()


@pytest.fixture
def cli_workspace(db_workspace: Path) -> Iterator[Path]:
    forget_clients()
    yield db_workspace
    forget_clients()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_index_then_similar_json(cli_workspace: Path) -> None:
    seed_small_archive()
    first = json.loads(_run("index", "--json"))
    assert first["embedded"] == first["total"] > 0
    second = json.loads(_run("index", "--json"))
    assert second["embedded"] == 0 and second["unchanged"] == first["total"]
    assert "embedded 0" in _run("index")

    out = json.loads(
        _run("similar", "Claims go to individual arbitration.", "--exclude-platform", "alpha",
             "--k", "2", "--json")
    )  # fmt: skip
    results = out["results"]
    assert 1 <= len(results) <= 2
    assert set(results[0]) == {"platform", "doc_type", "clause_id", "text", "score"}
    assert results[0]["platform"] == "beta"
    assert all(r["platform"] != "alpha" for r in results)

    filtered = json.loads(_run("similar", "children under 13", "--doc-type", "privacy_policy",
                               "--json"))  # fmt: skip
    assert {r["doc_type"] for r in filtered["results"]} == {"privacy_policy"}
    assert "beta" in _run("similar", "arbitration", "--exclude-platform", "alpha")


def test_similar_on_empty_index_and_bad_input(cli_workspace: Path) -> None:
    assert json.loads(_run("similar", "anything", "--json")) == {"results": []}
    bad = runner.invoke(app, ["similar", "   "])
    assert bad.exit_code != 0


def test_regulations_search_json(cli_workspace: Path) -> None:
    out = json.loads(
        _run("regulations", "search", "We honour Global Privacy Control browser signals as an "
             "opt-out of sale or sharing.", "--k", "3", "--json")
    )  # fmt: skip
    results = out["results"]
    assert len(results) == 3
    assert set(results[0]) == {"id", "title", "score"}
    assert "ccpa-regs:7025" in [r["id"] for r in results]
    assert results[0]["score"] >= results[-1]["score"]
    dense = json.loads(_run("regulations", "search", "cookies", "--mode", "dense", "--json"))
    assert dense["results"]


def test_regulations_list(cli_workspace: Path) -> None:
    listing = json.loads(_run("regulations", "list", "--regulation", "coppa", "--json"))
    assert {r["id"] for r in listing["results"]} >= {"coppa:312.5", "coppa:312.10"}
    assert "gdpr:28" in _run("regulations", "list")
    assert runner.invoke(app, ["regulations", "list", "--regulation", "nope"]).exit_code != 0
    assert runner.invoke(app, ["regulations", "search", "x", "--mode", "magic"]).exit_code != 0
    # one evaluator of regulation retrieval: `clausewatch eval run regulation-retrieval`
    assert runner.invoke(app, ["regulations", "eval"]).exit_code != 0
