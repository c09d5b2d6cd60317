"""Source declarations (the YAML file naming every tracked document) and tracking outcomes.

Declarations file::

    history: history                   # optional: earlier versions (<platform>/<doc_type>/
                                       # <date>.md, relative to the file) imported first
    sources:
      - platform: nimbus-ai            # slug: lower-case letters, digits, dashes
        doc_type: privacy_policy       # one of DOC_TYPES
        url: https://nimbus.example/privacy   # https://, http:// or file:// (relative to the file)
        select: ["article.legal"]      # optional CSS selectors of the part to keep ("keep" too)
        remove: ["#cookie-banner"]     # optional CSS selectors of parts to drop
        render: true                   # optional: the text only appears after JavaScript runs

      - platform: nimbus-ai            # a document published in parts: fetched one by one,
        doc_type: acceptable_use_policy   # joined in this order; a failed part fails it all
        parts:                         # (``url`` may be given too: the document's address
          - url: https://nimbus.example/usage      # shown to readers; default: first part's)
            select: [main]
          - url: https://nimbus.example/usage/images
            render: true
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

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
    "commercial_terms",
    "service_level_agreement",
    "business_privacy_policy",
    "in_app_purchases_policy",
    "brand_guidelines",
    "vulnerability_disclosure_policy",
    "law_enforcement_guidelines",
    "imprint",
]
DOC_TYPES: tuple[str, ...] = get_args(DocType)

PLATFORM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"
URL_SCHEMES = ("https", "http", "file")


class SourcePart(BaseModel):
    """One page of a document published in parts (or the one page of a plain document)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str = Field(min_length=1, max_length=4000)
    select: list[str] = Field(default_factory=list, validation_alias=AliasChoices("select", "keep"))
    remove: list[str] = Field(default_factory=list)
    render: bool = False  # the text only appears after JavaScript runs


class SourceDecl(BaseModel):
    """One tracked document. After loading, a relative ``file:`` URL is absolute.

    A plain document is one ``url`` (with ``select``/``remove``/``render``); a document
    published in parts lists them in ``parts`` (each with its own selectors and ``render``)
    and ``url`` defaults to the first part's.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    platform: str = Field(pattern=PLATFORM_PATTERN)
    doc_type: DocType
    url: str = Field(min_length=1, max_length=4000)
    select: list[str] = Field(default_factory=list, validation_alias=AliasChoices("select", "keep"))
    remove: list[str] = Field(default_factory=list)
    render: bool = False  # the text only appears after JavaScript runs
    parts: list[SourcePart] = Field(default_factory=list, max_length=50)

    @model_validator(mode="before")
    @classmethod
    def _url_of_first_part(cls, data: object) -> object:
        if isinstance(data, dict) and "url" not in data:
            parts = data.get("parts")
            if isinstance(parts, list) and parts and isinstance(parts[0], dict):
                first = parts[0].get("url")
                if isinstance(first, str):
                    return {**data, "url": first}
        return data

    @model_validator(mode="after")
    def _parts_carry_their_own_settings(self) -> SourceDecl:
        if self.parts and (self.select or self.remove or self.render):
            raise ValueError(
                "with 'parts', give select, remove and render on each part, not on the document"
            )
        return self

    @property
    def key(self) -> str:
        return f"{self.platform}/{self.doc_type}"

    @property
    def fetch_parts(self) -> list[SourcePart]:
        """What to fetch, in order: the declared parts, or the document's one page."""
        if self.parts:
            return list(self.parts)
        return [
            SourcePart(url=self.url, select=self.select, remove=self.remove, render=self.render)
        ]

    @property
    def needs_render(self) -> bool:
        """Whether any page of this document needs JavaScript to show its text."""
        return any(part.render for part in self.fetch_parts)


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


# suspect: a drastic change (most clauses gone at once) seen for the first time; it becomes a
# version only when the next fetch brings the same text (archive.drastic)
TrackStatus = Literal["new", "unchanged", "not_modified", "suspect", "failed"]


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
