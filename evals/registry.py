"""Suites by name. A suite turns gold data (its default, or ``--data PATH``) into a report."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from clausewatch.core.errors import InputError
from clausewatch.schemas.evals import EvalReport


@dataclass
class RunOptions:
    data: Path | None = None
    backend: str | None = None
    limit: int | None = None
    split: str = "dev"
    progress: Callable[[int, int], None] | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Suite(Protocol):
    name: str
    description: str
    data_format: str

    def default_data(self, split: str = "dev") -> Path: ...

    def run(self, options: RunOptions) -> EvalReport: ...


# name -> module defining ``SUITE`` (imported lazily so `eval list` stays fast)
SUITE_MODULES: dict[str, str] = {
    "change-detection": "clausewatch.evals.suites.change_detection",
    "clause-classification": "clausewatch.evals.suites.classification",
    "regulation-retrieval": "clausewatch.evals.suites.retrieval",
    "analysis": "clausewatch.evals.suites.analysis",
    "labels": "clausewatch.evals.suites.labels",
}


def suite_names() -> list[str]:
    return list(SUITE_MODULES)


def get_suite(name: str) -> Suite:
    module = SUITE_MODULES.get(name)
    if module is None:
        raise InputError(f"unknown suite {name!r}; choose from {', '.join(SUITE_MODULES)}")
    suite: Suite = importlib.import_module(module).SUITE
    return suite
