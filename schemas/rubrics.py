"""Rubrics written as data (``prompts/rubrics/*.yaml``): exposure levels, derived jurisdictions."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clausewatch.schemas.jurisdictions import JURISDICTIONS
from clausewatch.schemas.taxonomy import CATEGORIES, Category
from clausewatch.schemas.vocabulary import ChangeKind, ExposureLevel


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad pattern {pattern!r}: {exc}") from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExposureRule(_Strict):
    id: str
    level: ExposureLevel
    rationale: str = Field(min_length=5)
    categories: list[Category] = Field(default_factory=list)
    change: list[ChangeKind] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)

    _patterns = field_validator("text", "unless")(_check_patterns)


class ExposureMitigation(_Strict):
    """A protective commitment (e.g. "we do not sell"): lowers the categories' base level one
    step when no rule raised the level."""

    id: str
    rationale: str = Field(min_length=5)
    categories: list[Category] = Field(default_factory=list)
    text: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)

    _patterns = field_validator("text", "unless")(_check_patterns)


class ExposureRubric(_Strict):
    id: str
    version: str
    default: ExposureLevel
    categories: dict[str, ExposureLevel]
    rules: list[ExposureRule]
    mitigations: list[ExposureMitigation] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _slugs(cls, value: dict[str, ExposureLevel]) -> dict[str, ExposureLevel]:
        unknown = [k for k in value if k not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value


class JurisdictionRubric(_Strict):
    id: str
    version: str
    named_in_text: dict[str, list[str]]

    @field_validator("named_in_text")
    @classmethod
    def _known(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = [k for k in value if k not in JURISDICTIONS]
        if unknown:
            raise ValueError(f"unknown jurisdictions {unknown}; use {list(JURISDICTIONS)}")
        for patterns in value.values():
            _check_patterns(patterns)
        return value
