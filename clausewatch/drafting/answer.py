"""What the model writes (``ModelAnswer``) and the per-call JSON Schema it must fit.

The model never retypes text code already knows: excerpts are chosen by sentence number,
comparisons by the id of a retrieved provision, regulation provisions from the retrieved
candidates, categories from the taxonomy. The per-call schema makes these enums, so a
backend with constrained decoding cannot produce anything else; the static model below
parses whatever comes back (any backend) and bounds every string and list.
"""

from __future__ import annotations

from collections.abc import Callable
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
#
# Derived from ``ModelAnswer``: its bounds (lengths, item counts) as pydantic writes them,
# then the call's choices. Only keywords every constrained decoder we use understands
# (llama.cpp's grammar conversion, OpenAI strict mode after ``llm.schemas.openai_strict_schema``)
# are kept, references are inlined, and keys come in one fixed order (the schema is part of
# the LLM call's cache key and prompt).

KEYWORDS = (
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "anyOf",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
)


def _plain(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with references inlined, a nullable field as its non-null form and
    annotations (title, default, description) dropped."""
    if isinstance(node, list):
        return [_plain(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _plain(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    variants = node.get("anyOf")
    if isinstance(variants, list) and {"type": "null"} in variants:
        [value] = [v for v in variants if v != {"type": "null"}]
        return _plain(value, defs)
    unknown = set(node) - set(KEYWORDS) - {"title", "default", "description", "$defs"}
    if unknown:
        raise ValueError(f"the answer model uses keywords no decoder may get: {sorted(unknown)}")
    return _keywords(node, lambda child: _plain(child, defs))


def _ordered(node: Any) -> Any:
    """Keys in ``KEYWORDS`` order at every level (the schema's one fixed form)."""
    if isinstance(node, list):
        return [_ordered(item) for item in node]
    return _keywords(node, _ordered) if isinstance(node, dict) else node


def _keywords(node: dict[str, Any], inner: Callable[[Any], Any]) -> dict[str, Any]:
    """``node``'s keywords in ``KEYWORDS`` order, ``inner`` applied to each value (to each
    property's schema for ``properties``)."""
    out: dict[str, Any] = {}
    for key in KEYWORDS:
        if key == "properties" and key in node:
            out[key] = {name: inner(spec) for name, spec in node[key].items()}
        elif key in node:
            out[key] = inner(node[key])
    return out


def _choice(node: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """A value chosen from this call's ``values`` (no choice offered: any value of the type,
    in a list that may hold none). The enum replaces the static bound."""
    return {"type": node["type"], "enum": values} if values else {"type": node["type"]}


def _obj(template: dict[str, Any], **choices: dict[str, Any]) -> dict[str, Any]:
    return {**template, "properties": {**template["properties"], **choices}}


def build_answer_schema(
    *,
    sentence_count: int,
    comparables: list[tuple[str, int]],
    regulation_ids: list[str],
    with_change: bool,
    categories: tuple[str, ...] = CATEGORIES,
    playbook_ids: tuple[str, ...] = (),
    model: type[ModelAnswer] = ModelAnswer,
) -> dict[str, Any]:
    """The JSON Schema for one call: ``model`` with the call's choices as enums.

    ``comparables`` lists (clause id, number of its sentences shown); ``regulation_ids`` the
    retrieved candidates that exist in the catalogue. Empty lists give arrays of at most
    zero items, so the model cannot cite anything that was not retrieved. A nullable field
    (``change_summary``) is asked for, and then required, only when the call needs it
    (``with_change``); a field with another default (``playbook_points``) is optional.
    """
    if sentence_count < 1:
        raise ValueError("a clause needs at least one sentence")
    static = model.model_json_schema()
    schema: dict[str, Any] = _plain(static, static.get("$defs", {}))
    props: dict[str, Any] = schema["properties"]
    asked = {"change_summary"} if with_change else set()
    nullable = {
        name
        for name, spec in static["properties"].items()
        if {"type": "null"} in spec.get("anyOf", [])
    }
    for name in nullable - asked:
        del props[name]
    schema["required"] = [n for n in props if n in static.get("required", []) or n in asked]

    props["categories"]["items"] = _choice(props["categories"]["items"], list(categories))
    excerpt = props["excerpt_sentences"]
    excerpt["items"] = _choice(excerpt["items"], list(range(1, sentence_count + 1)))
    excerpt["maxItems"] = min(MAX_EXCERPT_SENTENCES, sentence_count)

    cmp = props["comparisons"]
    template = cmp["items"]
    variants = [
        _obj(
            template,
            clause_id=_choice(template["properties"]["clause_id"], [cid]),
            sentence=_choice(template["properties"]["sentence"], list(range(1, max(n, 1) + 1))),
        )
        for cid, n in comparables
    ] or [
        _obj(
            template,
            clause_id=_choice(template["properties"]["clause_id"], []),
            sentence=_choice(template["properties"]["sentence"], []),
        )
    ]
    cmp["items"] = variants[0] if len(variants) == 1 else {"anyOf": variants}
    cmp["minItems"] = 1 if comparables else 0
    cmp["maxItems"] = min(MAX_COMPARISONS, len(comparables))

    regs = props["regulatory_landscape"]
    regs["items"] = _obj(
        regs["items"],
        provision_id=_choice(regs["items"]["properties"]["provision_id"], list(regulation_ids)),
    )
    regs["minItems"] = 1 if regulation_ids else 0
    regs["maxItems"] = min(MAX_REGULATIONS, len(regulation_ids))

    points = props["playbook_points"]  # optional: code falls back to the category's points
    points["items"] = _choice(points["items"], list(playbook_ids))
    points["maxItems"] = min(MAX_PLAYBOOK_POINTS, len(playbook_ids))
    ordered: dict[str, Any] = _ordered(schema)
    return ordered
