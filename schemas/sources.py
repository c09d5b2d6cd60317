"""Source declarations (the YAML file naming every tracked document) and tracking outcomes.

Declarations file::

    sources:
      - platform: nimbus-ai            # slug: lower-case letters, digits, dashes
        doc_type: privacy_policy       # one of DOC_TYPES
        url: https://nimbus.example/privacy   # https://, http:// or file:// (relative to the file)
        select: ["article.legal"]      # optional CSS selectors of the part to keep ("keep" too)
        remove: ["#cookie-banner"]     # optional CSS selectors of parts to drop
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

DocType = Literal[
    "privacy_policy",
    "terms_of_service",
    "usage_policy",
    "acceptable_use_policy",
    "dpa",
    "cookie_policy",
    "subprocessors",
    "developer_terms",
    "api_terms",
    "service_terms",
    "enterprise_terms",
    "model_license",
    "community_guidelines",
    "copyright_policy",
    "ai_policy",
]
DOC_TYPES: tuple[str, ...] = get_args(DocType)

PLATFORM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"
URL_SCHEMES = ("https", "http", "file")


class SourceDecl(BaseModel):
    """One tracked document. After loading, a relative ``file:`` URL is absolute."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    platform: str = Field(pattern=PLATFORM_PATTERN)
    doc_type: DocType
    url: str = Field(min_length=1, max_length=4000)
    select: list[str] = Field(default_factory=list, validation_alias=AliasChoices("select", "keep"))
    remove: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.platform}/{self.doc_type}"


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceDecl]


class SourceProblem(BaseModel):
    """One problem in a declarations file, with its location."""

    file: str
    line: int | None = None
    entry: str | None = None  # "#3 nimbus-ai/privacy_policy"
    field: str | None = None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entry:
            parts.append(f"entry {self.entry}")
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


TrackStatus = Literal["new", "unchanged", "not_modified", "failed"]


class TrackOutcome(BaseModel):
    """What one fetch of one declared source did (JSON-serialisable for Prefect)."""

    platform: str
    doc_type: str
    url: str
    status: TrackStatus
    reason: str | None = None
    http_status: int | None = None
    version_id: int | None = None
    version_date: datetime | None = None
    snapshot_sha256: str | None = None
    added: int = 0
    removed: int = 0
    modified: int = 0
    moved: int = 0
    retryable: bool = False


class VersionSummary(BaseModel):
    """One entry of a document's timeline."""

    id: int
    date: datetime
    source: str  # fetch | import
    text_sha256: str
    snapshot_sha256: str | None = None
    clauses: int = 0
    added: int = 0
    removed: int = 0
    modified: int = 0
    moved: int = 0


class DocumentHistory(BaseModel):
    """A document's timeline, oldest version first (``clausewatch history --json``)."""

    platform: str
    doc_type: str
    url: str | None = None
    versions: list[VersionSummary] = Field(default_factory=list)
