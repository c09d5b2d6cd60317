"""Model answer + what code knows -> ``ProvisionAnalysis`` (verbatim quotes, titles, change,
provenance filled by code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from drafting.answer import ModelAnswer
from drafting.context import QUOTE_LIMIT, DraftContext
from drafting.prompting import PreparedPrompt
from drafting.sentences import bounded, span_text
from schemas.analysis import (
    ChangeInfo,
    Comparison,
    Exposure,
    JurisdictionFlag,
    Provenance,
    ProvisionAnalysis,
    RegulatoryReference,
)
from schemas.retrieval import RegulationProvision


@dataclass(frozen=True)
class Usage:
    model: str
    backend: str
    prompt_id: str
    prompt_version: str
    tokens_in: int
    tokens_out: int
    attempts: int
    latency_ms: int


def regulation_title(provision: RegulationProvision) -> str:
    """``GDPR Art. 28 — Processor``: the catalogue's citation and title."""
    try:
        from regulations.catalogue import citation

        label = f"{citation(provision)} — {provision.title}"
    except Exception:  # the title alone is still correct
        label = provision.title
    return bounded(label, 200)


MAX_FLAGS = 6


def jurisdiction_flags(
    answer: ModelAnswer, regulatory: list[RegulatoryReference], ctx: DraftContext
) -> list[JurisdictionFlag]:
    """The model's flags, then one per jurisdiction of the cited provisions that the model
    did not flag (code knows where GDPR or the CCPA applies; small models leave the list
    empty). Each derived flag names the provisions it comes from."""
    flags = [
        JurisdictionFlag(jurisdiction=j.jurisdiction, note=j.note)
        for j in answer.jurisdiction_flags
    ]
    flagged = " ".join(f.jurisdiction.lower() for f in flags)
    derived: dict[str, list[str]] = {}
    for ref in regulatory:
        for place in ctx.catalogue[ref.provision_id].jurisdictions:
            if place.lower() not in flagged:
                derived.setdefault(place, []).append(ref.title)
    for place, titles in derived.items():
        if len(flags) >= MAX_FLAGS:
            break
        note = bounded("Engages " + "; ".join(titles) + " (from the cited provisions).", 600)
        flags.append(JurisdictionFlag(jurisdiction=place, note=note))
    return flags


def assemble(
    answer: ModelAnswer, ctx: DraftContext, prepared: PreparedPrompt, usage: Usage
) -> ProvisionAnalysis:
    """Build the analysis; raises ``pydantic.ValidationError`` if it does not validate."""
    excerpt = bounded(
        span_text(ctx.clause.text, prepared.clause_sentences, answer.excerpt_sentences),
        QUOTE_LIMIT,
    )
    by_id = {c.clause_id: c for c in ctx.comparables}
    comparisons = []
    for c in answer.comparisons:
        source = by_id[c.clause_id]
        sentence = prepared.comparable_sentences[c.clause_id][c.sentence - 1]
        comparisons.append(
            Comparison(
                platform=source.platform,
                clause_id=source.clause_id,
                excerpt=bounded(sentence.text, QUOTE_LIMIT),
                note=c.note,
            )
        )
    regulatory = [
        RegulatoryReference(
            provision_id=r.provision_id,
            title=regulation_title(ctx.catalogue[r.provision_id]),
            relevance=r.relevance,
        )
        for r in answer.regulatory_landscape
    ]
    change = None
    if ctx.change is not None:
        before, after = ctx.change.excerpts()
        change = ChangeInfo(
            kind=ctx.change.kind,
            before=before,
            after=after,
            summary=answer.change_summary or "",
        )
    provenance = Provenance(
        model=usage.model,
        backend=usage.backend,
        prompt_id=usage.prompt_id,
        prompt_version=usage.prompt_version,
        retrieved_provisions=[c.clause_id for c in ctx.comparables],
        retrieved_regulations=[r.id for r in ctx.regulations],
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        attempts=usage.attempts,
        latency_ms=usage.latency_ms,
        created_at=datetime.now(UTC).replace(tzinfo=None),
        examples=[e.draft_id for e in ctx.examples],
        category_hint=list(ctx.category_hint),
        retrieval_notes=list(ctx.retrieval_notes),
    )
    return ProvisionAnalysis.model_validate(
        {
            "title": answer.title,
            "categories": answer.categories,
            "summary": answer.summary,
            "key_point": answer.key_point,
            "interpretive_note": answer.interpretive_note,
            "what_this_means": answer.what_this_means,
            "excerpt": excerpt,
            "comparisons": comparisons,
            "regulatory_landscape": regulatory,
            "exposure": Exposure(level=answer.exposure.level, rationale=answer.exposure.rationale),
            "jurisdiction_flags": jurisdiction_flags(answer, regulatory, ctx),
            "contract_vendor_implications": answer.contract_vendor_implications,
            "compliance_considerations": answer.compliance_considerations,
            "change": change,
            "provenance": provenance,
        }
    )
