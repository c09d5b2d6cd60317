"""The stages import one way (README, "Layout"): import-linter's contracts in pyproject.toml,
and the moves that made them hold, checked on the import graph of the source."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import grimp
import pytest

from tests.conftest import REPO

LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def test_import_contracts_hold() -> None:
    """``lint-imports`` on this checkout: every contract of ``[tool.importlinter]`` is kept."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)
    assert found is not None and int(found.group(1)) >= 2, result.stdout  # layers, acyclic


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("clausewatch", cache_dir=None)


def _chain(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    """A chain of imports from package ``importer`` to package ``imported``, or []."""
    chain = graph.find_shortest_chain(
        importer=f"clausewatch.{importer}", imported=f"clausewatch.{imported}", as_packages=True
    )
    return list(chain or [])


def test_vectorstore_knows_nothing_of_regulations(graph: grimp.ImportGraph) -> None:
    """Regulation search lives in clausewatch.regulations; the vector store stays generic."""
    assert _chain(graph, "vectorstore", "regulations") == []
    assert "clausewatch.regulations.search" in graph.modules


def test_classifier_does_not_import_evals(graph: grimp.ImportGraph) -> None:
    """The classifier scores its cross-validation with its own metric (classifier.scoring)."""
    assert _chain(graph, "classifier", "evals") == []


def test_eval_and_test_tooling_is_not_in_the_stages(graph: grimp.ImportGraph) -> None:
    """The perturbation generator is eval tooling, the demo rows are test fixtures."""
    assert "clausewatch.evals.edits" in graph.modules
    assert "clausewatch.clauses.edits" not in graph.modules
    assert "clausewatch.publication.demo" not in graph.modules
    assert "clausewatch.publication.screenshot" not in graph.modules
    for stage in ("archive", "clauses", "classifier", "regulations", "drafting", "flows"):
        assert _chain(graph, stage, "evals") == [], stage
