"""The labels of a draft, each decided by the component that measurably does it best.

- categories: the clause classifier's labels stand; the model's are used only when the
  classifier has none (``combine_categories``);
- regulations: the mapper's proposals (``regulations.mapper``); the model explains relevance
  for those it picked from the shortlist;
- exposure: the written rubric (``prompts/rubrics/exposure.yaml``), applied by code;
- jurisdictions: the cited provisions' jurisdictions plus places the clause names
  (``prompts/rubrics/jurisdictions.yaml``), reported apart from the model's own flags.

Measured with the ``labels`` eval suite (no LLM) on the dev and test parts of the gold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from clausewatch.prompts.rubrics import exposure_rubric, jurisdiction_rubric
from clausewatch.schemas.jurisdictions import JURISDICTIONS
from clausewatch.schemas.retrieval import RegulationProvision
from clausewatch.schemas.rubrics import ExposureRubric, JurisdictionRubric
from clausewatch.schemas.vocabulary import ExposureLevel

MAX_CATEGORIES = 4


def combine_categories(hint: Sequence[str], model: Sequence[str]) -> list[str]:
    """The classifier's labels when it has any, else the model's (first 4, no repeats)."""
    chosen = list(hint) if hint else list(model)
    return list(dict.fromkeys(chosen))[:MAX_CATEGORIES]


@dataclass(frozen=True)
class ExposureDecision:
    level: ExposureLevel
    rule: str  # the rule id, or ``category:<slug>`` / ``default``
    rationale: str


def _matches(patterns: Iterable[str], text: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


def _lower(level: ExposureLevel) -> ExposureLevel:
    levels = list(ExposureLevel)
    return levels[max(0, levels.index(level) - 1)]


def decide_exposure(
    categories: Sequence[str],
    text: str,
    change_kind: str | None = None,
    rubric: ExposureRubric | None = None,
) -> ExposureDecision:
    """The highest of the categories' base levels and the matching rules; when no rule
    matches and the clause states a protective commitment (a mitigation), the base level
    lowered one step."""
    rubric = rubric or exposure_rubric()
    bases: list[ExposureDecision] = []
    for slug in categories:
        level = rubric.categories.get(slug)
        if level is not None:
            bases.append(ExposureDecision(level, f"category:{slug}", f"{slug} clauses"))
    raised: list[ExposureDecision] = []
    for rule in rubric.rules:
        if rule.categories and not set(rule.categories) & set(categories):
            continue
        if rule.change and change_kind not in rule.change:
            continue
        if rule.text and not _matches(rule.text, text):
            continue
        if rule.unless and _matches(rule.unless, text):
            continue
        raised.append(ExposureDecision(rule.level, rule.id, rule.rationale))
    options = bases + raised
    if not options:
        return ExposureDecision(rubric.default, "default", "no rubric rule applies")
    # highest level; among equals, a specific rule before a category's base level
    best = max(
        enumerate(options),
        key=lambda p: (p[1].level.rank, not p[1].rule.startswith("category:"), -p[0]),
    )[1]
    if raised or not bases:
        return best
    for mitigation in rubric.mitigations:
        if mitigation.categories and not set(mitigation.categories) & set(categories):
            continue
        if _matches(mitigation.text, text) and not _matches(mitigation.unless, text):
            return ExposureDecision(_lower(best.level), mitigation.id, mitigation.rationale)
    return best


def named_in_text(text: str, rubric: JurisdictionRubric | None = None) -> list[str]:
    """Jurisdictions the clause itself names, in vocabulary order."""
    rubric = rubric or jurisdiction_rubric()
    return [name for name in JURISDICTIONS if _matches(rubric.named_in_text.get(name, ()), text)]


def derive_jurisdictions(
    provision_ids: Sequence[str],
    catalogue: Mapping[str, RegulationProvision],
    text: str,
) -> list[str]:
    """The cited provisions' jurisdictions, then those the clause names (no repeats)."""
    found: list[str] = []
    for pid in provision_ids:
        if pid in catalogue:
            found.extend(catalogue[pid].jurisdictions)
    found.extend(named_in_text(text))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class DecidedLabels:
    categories: list[str]
    category_source: str  # "classifier" or "model"
    regulations: list[str]  # provision ids to cite, best first
    regulation_source: str  # "mapper" or "model" (when no mapper ran)
    exposure: ExposureDecision
    jurisdictions: list[str]  # derived by code (canonical names)


def decide_labels(
    *,
    hint: Sequence[str],
    model_categories: Sequence[str],
    proposed: Sequence[str] | None,
    catalogue: Mapping[str, RegulationProvision],
    text: str,
    change_kind: str | None,
    model_regulations: Sequence[str] = (),
) -> DecidedLabels:
    """``proposed`` is the mapper's list, or None when no mapper ran (the model's citations
    are kept then)."""
    categories = combine_categories(hint, model_categories)
    cited = list(model_regulations) if proposed is None else list(proposed)
    cited = [p for p in dict.fromkeys(cited) if p in catalogue]
    return DecidedLabels(
        categories=categories,
        category_source="classifier" if hint else "model",
        regulations=cited,
        regulation_source="model" if proposed is None else "mapper",
        exposure=decide_exposure(categories, text, change_kind),
        jurisdictions=derive_jurisdictions(cited, catalogue, text),
    )
