"""Playbooks (``prompts/playbooks/playbooks.yaml``): review points, actions and caveats per
clause category, with the catalogue provisions each rests on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clausewatch.schemas.taxonomy import CATEGORIES

PointKind = Literal["review", "actions", "caveats"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaybookPoint(_Strict):
    id: str = Field(pattern=r"^[a-z]{2}-[rac][0-9]+$")
    text: str = Field(min_length=10, max_length=300)
    provisions: list[str] = Field(default_factory=list)


class CategoryPlaybook(_Strict):
    review: list[PlaybookPoint] = Field(default_factory=list)
    actions: list[PlaybookPoint] = Field(default_factory=list)
    caveats: list[PlaybookPoint] = Field(default_factory=list)


class Playbooks(_Strict):
    id: str
    version: str
    categories: dict[str, CategoryPlaybook]

    @field_validator("categories")
    @classmethod
    def _slugs(cls, value: dict[str, CategoryPlaybook]) -> dict[str, CategoryPlaybook]:
        unknown = [k for k in value if k not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Playbooks:
        seen: set[str] = set()
        for book in self.categories.values():
            for point in [*book.review, *book.actions, *book.caveats]:
                if point.id in seen:
                    raise ValueError(f"duplicate playbook point id {point.id!r}")
                seen.add(point.id)
        return self

    def points(self, categories: list[str]) -> list[tuple[PointKind, PlaybookPoint]]:
        """The points of ``categories`` in category order, review points first."""
        out: list[tuple[PointKind, PlaybookPoint]] = []
        for kind in ("review", "actions", "caveats"):
            for slug in categories:
                book = self.categories.get(slug)
                if book is not None:
                    out.extend((kind, p) for p in getattr(book, kind))
        return out
