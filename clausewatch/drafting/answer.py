"""What the model writes (``ModelAnswer``) and the per-call JSON Schema it must fit.

The model never retypes text code already knows: excerpts are chosen by sentence number,
comparisons by the id of a retrieved provision, regulation provisions from the retrieved
candidates, categories from the taxonomy. The per-call schema makes these enums, so a
backend with constrained decoding cannot produce anything else; the static model below
parses whatever comes back (any backend) and bounds every string and list.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clausewatch.schemas.taxonomy import CATEGORIES
from clausewatch.schemas.vocabulary import ExposureLevel

# character bounds for the model (tighter than ProvisionAnalysis so assembled output fits)
LIMITS: dict[str, int] = {
    "title": 100,
    "summary": 320,
    "key_point": 240,
    "interpretive_note": 240,
    "what_this_means": 280,
    "change_summary": 160,
    "comparison_note": 200,
    "relevance": 200,
    "rationale": 220,
    "jurisdiction": 40,
    "jurisdiction_note": 180,
    "contract_vendor_implications": 280,
    "compliance_item": 160,
}
MAX_CATEGORIES = 3
MAX_EXCERPT_SENTENCES = 3
MAX_COMPARISONS = 3
MAX_REGULATIONS = 4
MAX_JURISDICTIONS = 3
MAX_COMPLIANCE = 4
MAX_PLAYBOOK_POINTS = 4


def _bound(limit: str) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=LIMITS[limit])


Title = Annotated[str, _bound("title")]
Summary = Annotated[str, _bound("summary")]
KeyPoint = Annotated[str, _bound("key_point")]
InterpretiveNote = Annotated[str, _bound("interpretive_note")]
WhatThisMeans = Annotated[str, _bound("what_this_means")]
ChangeSummaryLine = Annotated[str, _bound("change_summary")]
ComparisonNote = Annotated[str, _bound("comparison_note")]
Relevance = Annotated[str, _bound("relevance")]
Rationale = Annotated[str, _bound("rationale")]
Jurisdiction = Annotated[str, _bound("jurisdiction")]
JurisdictionNote = Annotated[str, _bound("jurisdiction_note")]
VendorImplications = Annotated[str, _bound("contract_vendor_implications")]
ComplianceItem = Annotated[str, _bound("compliance_item")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerComparison(_Strict):
    clause_id: Annotated[str, StringConstraints(max_length=200)]
    sentence: int
    note: ComparisonNote


class AnswerRegulation(_Strict):
    provision_id: Annotated[str, StringConstraints(max_length=100)]
    relevance: Relevance


class AnswerExposure(_Strict):
    level: ExposureLevel
    rationale: Rationale


class AnswerJurisdiction(_Strict):
    jurisdiction: Jurisdiction
    note: JurisdictionNote


class ModelAnswer(_Strict):
    title: Title
    categories: Annotated[list[str], Field(min_length=1, max_length=MAX_CATEGORIES)]
    summary: Summary
    key_point: KeyPoint
    interpretive_note: InterpretiveNote
    what_this_means: WhatThisMeans
    excerpt_sentences: Annotated[list[int], Field(min_length=1, max_length=MAX_EXCERPT_SENTENCES)]
    change_summary: ChangeSummaryLine | None = None
    comparisons: Annotated[list[AnswerComparison], Field(max_length=MAX_COMPARISONS)]
    regulatory_landscape: Annotated[list[AnswerRegulation], Field(max_length=MAX_REGULATIONS)]
    exposure: AnswerExposure
    jurisdiction_flags: Annotated[list[AnswerJurisdiction], Field(max_length=MAX_JURISDICTIONS)]
    contract_vendor_implications: VendorImplications
    compliance_considerations: Annotated[
        list[ComplianceItem],
        Field(min_length=1, max_length=MAX_COMPLIANCE),
    ]
    # ids of the PLAYBOOK points that apply to this clause (code adds their text)
    playbook_points: Annotated[
        list[Annotated[str, StringConstraints(max_length=20)]],
        Field(max_length=MAX_PLAYBOOK_POINTS),
    ] = Field(default_factory=list)

    def without_repeats(self) -> ModelAnswer:
        """The same answer with repeated choices dropped (the first kept): a category, an
        excerpt sentence, a compared provision or a cited provision id named twice adds
        nothing, so code removes the repeat instead of spending a re-ask on it."""
        compared: set[str] = set()
        comparisons = []
        for c in self.comparisons:
            if c.clause_id not in compared:
                compared.add(c.clause_id)
                comparisons.append(c)
        cited: set[str] = set()
        citations = []
        for r in self.regulatory_landscape:
            if r.provision_id not in cited:
                cited.add(r.provision_id)
                citations.append(r)
        return self.model_copy(
            update={
                "categories": list(dict.fromkeys(self.categories)),
                "excerpt_sentences": list(dict.fromkeys(self.excerpt_sentences)),
                "comparisons": comparisons,
                "regulatory_landscape": citations,
            }
        )


# ---- the per-call JSON Schema ---------------------------------------------------------


def _str(limit: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": LIMITS[limit]}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def build_answer_schema(
    *,
    sentence_count: int,
    comparables: list[tuple[str, int]],
    regulation_ids: list[str],
    with_change: bool,
    categories: tuple[str, ...] = CATEGORIES,
    playbook_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The JSON Schema for one call.

    ``comparables`` lists (clause id, number of its sentences shown); ``regulation_ids`` the
    retrieved candidates that exist in the catalogue. Empty lists give arrays of at most
    zero items, so the model cannot cite anything that was not retrieved.
    """
    if sentence_count < 1:
        raise ValueError("a clause needs at least one sentence")
    n_excerpt = min(MAX_EXCERPT_SENTENCES, sentence_count)
    props: dict[str, Any] = {
        "title": _str("title"),
        "categories": {
            "type": "array",
            "items": {"type": "string", "enum": list(categories)},
            "minItems": 1,
            "maxItems": MAX_CATEGORIES,
        },
        "summary": _str("summary"),
        "key_point": _str("key_point"),
        "interpretive_note": _str("interpretive_note"),
        "what_this_means": _str("what_this_means"),
        "excerpt_sentences": {
            "type": "array",
            "items": {"type": "integer", "enum": list(range(1, sentence_count + 1))},
            "minItems": 1,
            "maxItems": n_excerpt,
        },
    }
    if with_change:
        props["change_summary"] = _str("change_summary")
    if comparables:
        variants = [
            _obj(
                {
                    "clause_id": {"type": "string", "enum": [cid]},
                    "sentence": {"type": "integer", "enum": list(range(1, max(n, 1) + 1))},
                    "note": _str("comparison_note"),
                }
            )
            for cid, n in comparables
        ]
        item: dict[str, Any] = variants[0] if len(variants) == 1 else {"anyOf": variants}
        max_cmp = min(MAX_COMPARISONS, len(comparables))
    else:
        item = _obj(
            {
                "clause_id": {"type": "string"},
                "sentence": {"type": "integer"},
                "note": _str("comparison_note"),
            }
        )
        max_cmp = 0
    props["comparisons"] = {
        "type": "array",
        "items": item,
        "minItems": 1 if comparables else 0,
        "maxItems": max_cmp,
    }
    reg_item = _obj(
        {
            "provision_id": (
                {"type": "string", "enum": list(regulation_ids)}
                if regulation_ids
                else {"type": "string"}
            ),
            "relevance": _str("relevance"),
        }
    )
    props["regulatory_landscape"] = {
        "type": "array",
        "items": reg_item,
        "minItems": 1 if regulation_ids else 0,
        "maxItems": min(MAX_REGULATIONS, len(regulation_ids)),
    }
    props["exposure"] = _obj(
        {
            "level": {"type": "string", "enum": [level.value for level in ExposureLevel]},
            "rationale": _str("rationale"),
        }
    )
    props["jurisdiction_flags"] = {
        "type": "array",
        "items": _obj({"jurisdiction": _str("jurisdiction"), "note": _str("jurisdiction_note")}),
        "maxItems": MAX_JURISDICTIONS,
    }
    props["contract_vendor_implications"] = _str("contract_vendor_implications")
    props["compliance_considerations"] = {
        "type": "array",
        "items": _str("compliance_item"),
        "minItems": 1,
        "maxItems": MAX_COMPLIANCE,
    }
    props["playbook_points"] = {
        "type": "array",
        "items": {"type": "string", "enum": list(playbook_ids)}
        if playbook_ids
        else {"type": "string"},
        "maxItems": min(MAX_PLAYBOOK_POINTS, len(playbook_ids)),
    }
    schema = _obj(props)
    schema["required"].remove("playbook_points")  # optional: code falls back to defaults
    return schema
