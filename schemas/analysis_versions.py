"""Stored analyses and the version of ``ProvisionAnalysis`` they were written with.

Every stored analysis carries its version (``drafts.analysis_version``). Reading one brings it
to the current version first, one step at a time, with the upgrader written when that
version was introduced, so a new required field never turns an approved analysis into an
error: it gets the value its upgrader decides.

To add a required field (or rename, split, tighten one): bump ``ANALYSIS_VERSION`` and
register ``UPGRADES[previous version]``, a function from the old dict to the new one.
``tests/test_analysis_versions.py`` fails until every version has its upgrader and the stored
example of every earlier version (``tests/data/analyses/``) still reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clausewatch.schemas.analysis import ProvisionAnalysis

Upgrader = Callable[[dict[str, Any]], dict[str, Any]]

ANALYSIS_VERSION = 1  # version 1: ProvisionAnalysis as first published
UPGRADES: dict[int, Upgrader] = {}  # version n -> the function giving version n + 1
MODEL: type[ProvisionAnalysis] = ProvisionAnalysis  # what the current version validates with


class AnalysisVersionError(ValueError):
    """An analysis this clausewatch cannot bring to its version (written by a newer one, or
    a version without its upgrader)."""


def current_version() -> int:
    """The version new analyses are stored with (read when a row is written)."""
    return ANALYSIS_VERSION


def upgrade_analysis(data: Mapping[str, Any], version: int | None) -> dict[str, Any]:
    """``data`` (stored with ``version``; None: before versions, i.e. 1) as the current
    version's dict."""
    version = 1 if version is None else version
    if version > ANALYSIS_VERSION:
        raise AnalysisVersionError(
            f"analysis version {version} was written by a newer clausewatch "
            f"(this one reads up to {ANALYSIS_VERSION})"
        )
    out = dict(data)
    for step in range(version, ANALYSIS_VERSION):
        upgrade = UPGRADES.get(step)
        if upgrade is None:
            raise AnalysisVersionError(f"no upgrader from analysis version {step} to {step + 1}")
        out = upgrade(out)
    return out


def read_analysis(data: Mapping[str, Any], version: int | None) -> ProvisionAnalysis:
    """A stored analysis as the current ``ProvisionAnalysis`` (pydantic's ValidationError
    when it does not validate even after its upgrades)."""
    return MODEL.model_validate(upgrade_analysis(data, version))
