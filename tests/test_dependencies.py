"""pyproject.toml declares every distribution the package imports, each with an upper bound."""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

from tests.conftest import REPO

PACKAGE = REPO / "clausewatch"


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _source_files() -> list[Path]:
    """Every module of the package, through the symlinked top-level folders (flows, ...)."""
    return [
        Path(folder) / name
        for folder, _dirs, names in os.walk(PACKAGE, followlinks=True)
        for name in names
        if name.endswith(".py")
    ]


def third_party_imports() -> dict[str, set[str]]:
    """Top-level names imported anywhere in the package that are neither stdlib nor ours,
    each with the files importing it."""
    found: dict[str, set[str]] = {}
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("__future__", "clausewatch"):
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_every_imported_distribution_is_declared() -> None:
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    declared = {_normal(Requirement(d).name) for d in dependencies}
    providers = packages_distributions()
    imports = third_party_imports()
    assert {"httpx", "sqlalchemy", "prefect", "chromadb", "joblib"} <= set(imports)
    undeclared = {
        name: sorted(files)[:3]
        for name, files in imports.items()
        if not any(_normal(dist) in declared for dist in providers.get(name, []))
    }
    assert undeclared == {}, f"imported but not in [project] dependencies: {undeclared}"


def test_every_dependency_is_bounded() -> None:
    """A new major version of a dependency is a decision, not an accident of install day."""
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    unbounded = [
        d
        for d in dependencies
        if not any(s.operator in ("<", "==", "~=") for s in Requirement(d).specifier)
    ]
    assert unbounded == []
