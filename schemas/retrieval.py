"""Retrieval results shared by the vector store, drafting, review and publication."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from clausewatch.schemas.jurisdictions import canonical


class Comparable(BaseModel):
    """A provision of another platform similar to the clause under analysis."""

    platform: str
    doc_type: str
    clause_id: str  # the clause's stable uid
    text: str
    score: float  # cosine similarity, higher is closer
    version_date: int | None = None  # unix seconds
    path: list[str] = Field(default_factory=list)


class RegulationProvision(BaseModel):
    """An entry of the regulation catalogue the project ships
    (``clausewatch/regulations/catalogue``)."""

    id: str  # "<regulation>:<article or section>", e.g. "gdpr:28", "ccpa:1798.105"
    regulation: str  # "gdpr", "uk-gdpr", "ccpa", "ccpa-regs", "eu-ai-act", "eprivacy", "coppa"
    title: str
    obligations: str  # a few sentences written by us
    topics: list[str] = Field(default_factory=list)  # taxonomy slugs where they apply
    jurisdictions: list[str] = Field(default_factory=list)  # schemas.jurisdictions names
    # taxonomy slugs whose clauses engage this provision directly (the regulation mapper's
    # category signal; narrower than ``topics``, which only say where it is relevant)
    engaged_by: list[str] = Field(default_factory=list)

    @field_validator("jurisdictions")
    @classmethod
    def _canonical(cls, value: list[str]) -> list[str]:
        """Only names of the shared vocabulary ("United States" is an error, "US" is not)."""
        for name in value:
            if canonical(name) != name:
                raise ValueError(f"use the canonical name {canonical(name)!r}, not {name!r}")
        return value


class RegulationCandidate(BaseModel):
    id: str
    title: str
    score: float
    obligations: str = ""
