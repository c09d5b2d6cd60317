"""Eval gold cases and eval reports. Gold files are validated on load (``evals.gold``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from clausewatch.schemas.jurisdictions import JURISDICTIONS
from clausewatch.schemas.taxonomy import Category
from clausewatch.schemas.vocabulary import ExposureLevel

ProvisionId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*:[0-9][0-9a-z.()-]*$")]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnalysisExpected(_Strict):
    categories: Annotated[list[Category], Field(min_length=1)]
    regulations: list[ProvisionId] = Field(default_factory=list)
    exposure: ExposureLevel
    jurisdictions: list[str] = Field(default_factory=list)

    @field_validator("jurisdictions")
    @classmethod
    def _known_jurisdictions(cls, value: list[str]) -> list[str]:
        unknown = [j for j in value if j not in JURISDICTIONS]
        if unknown:
            raise ValueError(f"unknown jurisdictions {unknown}; use {list(JURISDICTIONS)}")
        return value


class AnalysisCase(_Strict):
    """One clause quoted from a real policy and what a good analysis must say about it."""

    id: NonEmpty
    platform: NonEmpty
    document_type: NonEmpty
    clause: NonEmpty
    source: str | None = None  # where the clause was quoted from (path in the data set)
    expected: AnalysisExpected


class RetrievalCase(_Strict):
    """A query (clause text) and the regulation provision ids it should retrieve."""

    id: NonEmpty
    query: NonEmpty
    expected: Annotated[list[ProvisionId], Field(min_length=1)]
    source: str | None = None  # where the query text came from
    note: str | None = None


class ChangeDetectionCase(_Strict):
    """A real document version to perturb (known edits) and check change detection on."""

    id: NonEmpty
    path: NonEmpty  # a Markdown/text file, relative to the gold file or absolute
    seed: int = 0
    edits: int = Field(default=6, ge=1, le=50)
    cosmetic: bool = True


class CaseResult(BaseModel):
    """One case of a run: its own metrics, what was expected and produced, or its error."""

    id: str
    ok: bool = True
    metrics: dict[str, float] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class EvalReport(BaseModel):
    """The JSON written by ``clausewatch eval run --json/--out``."""

    suite: str
    metrics: dict[str, float]
    cases: list[CaseResult] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
