"""ProvisionAnalysis: the structured, regulation-aware analysis of one clause (PRODUCT.md).

JSON field names are a contract (tools rely on them). Strings and lists are bounded because
small models otherwise run to ``max_tokens``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clausewatch.schemas.taxonomy import Category
from clausewatch.schemas.vocabulary import ChangeKind, ExposureLevel

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1200)]
Quote = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Comparison(_Strict):
    """How another platform handles this; names a retrieved provision and quotes it."""

    platform: Short
    clause_id: Short
    excerpt: Quote
    note: Text


class RegulatoryReference(_Strict):
    """A regulation provision (``gdpr:28``) engaged by the clause, and why."""

    provision_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+:[0-9A-Za-z.()-]+$")]
    title: Short
    relevance: Text


class Exposure(_Strict):
    level: ExposureLevel
    rationale: Text


class JurisdictionFlag(_Strict):
    jurisdiction: Short
    note: Text
    # who raised the flag: the model, or code from the cited provisions and the clause's wording
    source: Literal["model", "derived"] = "model"


class ChangeInfo(_Strict):
    kind: ChangeKind
    before: Quote | None = None
    after: Quote | None = None
    summary: Short


class Provenance(BaseModel):
    """Filled by code, never by the model."""

    model: str
    backend: str
    prompt_id: str
    prompt_version: str
    retrieved_provisions: list[str] = Field(default_factory=list)
    retrieved_regulations: list[str] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 1
    latency_ms: int = 0
    created_at: datetime | None = None
    # approved drafts shown to the model as examples, and the classifier's category hint
    examples: list[int] = Field(default_factory=list)
    category_hint: list[str] = Field(default_factory=list)
    # why retrieval returned less than usual (vector store not indexed, errors)
    retrieval_notes: list[str] = Field(default_factory=list)
    # which component decided each label ("classifier", "model", "mapper", "rubric:<rule>")
    label_sources: dict[str, str] = Field(default_factory=dict)
    # what the model itself answered for the labels code decided (kept to measure it apart)
    model_labels: dict[str, Any] = Field(default_factory=dict)


class ProvisionAnalysis(_Strict):
    title: Short
    categories: Annotated[list[Category], Field(min_length=1, max_length=4)]
    summary: Text
    key_point: Text
    interpretive_note: Text
    what_this_means: Text
    excerpt: Quote
    comparisons: Annotated[list[Comparison], Field(max_length=5)] = Field(default_factory=list)
    regulatory_landscape: Annotated[list[RegulatoryReference], Field(max_length=6)] = Field(
        default_factory=list
    )
    exposure: Exposure
    jurisdiction_flags: Annotated[list[JurisdictionFlag], Field(max_length=6)] = Field(
        default_factory=list
    )
    contract_vendor_implications: Text
    compliance_considerations: Annotated[list[Text], Field(min_length=1, max_length=6)]
    change: ChangeInfo | None = None
    provenance: Provenance | None = None


def analysis_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``ProvisionAnalysis`` as published for users and tools."""
    schema = ProvisionAnalysis.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
