"""Which changes are drafted first: the rule is data (``prompts/draft_priority.yaml``).

A change scores the highest weight among its clause's categories plus the weight of its
kind; a run that cannot draft everything within its budget drafts the highest scores first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clausewatch.core.errors import ConfigError
from clausewatch.schemas.taxonomy import Category
from clausewatch.schemas.vocabulary import ChangeKind

RULE_FILE = Path(__file__).resolve().parent.parent / "prompts" / "draft_priority.yaml"

Weight = Annotated[float, Field(ge=0)]


class PriorityRule(BaseModel):
    """Weights per taxonomy category and per change kind."""

    model_config = ConfigDict(extra="forbid")

    version: int
    default: Weight = 1.0
    categories: dict[Category, Weight] = Field(default_factory=dict)
    kinds: dict[ChangeKind, Weight] = Field(default_factory=dict)

    def score(self, categories: Sequence[str], kind: str) -> float:
        by_category: dict[str, float] = {str(k): v for k, v in self.categories.items()}
        by_kind: dict[str, float] = {str(k): v for k, v in self.kinds.items()}
        weights = [by_category.get(c, self.default) for c in categories]
        return max(weights, default=self.default) + by_kind.get(kind, 0.0)


@lru_cache(maxsize=4)
def load_rule(path: Path = RULE_FILE) -> PriorityRule:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PriorityRule.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"draft priority rule {path}: {exc}") from exc


@dataclass(frozen=True)
class Candidate:
    """A change waiting for a draft, with what the rule needs to rank it."""

    change_id: int
    kind: str
    categories: tuple[str, ...]
    recency: float  # larger is newer (the new version's timestamp)


def rank(candidates: Sequence[Candidate], rule: PriorityRule | None = None) -> list[Candidate]:
    """Highest score first; ties newest version first, then lowest change id."""
    rule = rule or load_rule()
    return sorted(
        candidates, key=lambda c: (-rule.score(c.categories, c.kind), -c.recency, c.change_id)
    )
