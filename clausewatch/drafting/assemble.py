"""Model answer + what code knows -> ``ProvisionAnalysis`` (verbatim quotes, titles, change,
provenance filled by code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from clausewatch.drafting.answer import ModelAnswer
from clausewatch.drafting.context import QUOTE_LIMIT, DraftContext
from clausewatch.drafting.labels import DecidedLabels, decide_labels
from clausewatch.drafting.prompting import PreparedPrompt
from clausewatch.drafting.sentences import bounded, span_text
from clausewatch.schemas.analysis import (
    ChangeInfo,
    Comparison,
    Exposure,
    JurisdictionFlag,
    Provenance,
    ProvisionAnalysis,
    RegulatoryReference,
)
from clausewatch.schemas.jurisdictions import normalise_all
from clausewatch.schemas.retrieval import RegulationProvision


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
    from clausewatch.regulations.catalogue import citation

    return bounded(f"{citation(provision)} — {provision.title}", 200)


MAX_FLAGS = 6


def jurisdiction_flags(
    answer: ModelAnswer,
    derived: list[str],
    regulatory: list[RegulatoryReference],
    ctx: DraftContext,
) -> list[JurisdictionFlag]:
    """The model's flags (``source="model"``), then one per jurisdiction code derived from the
    cited provisions and the clause's wording that the model's flags do not already name
    (compared as canonical names, never by substring: "Australia" does not contain "US")."""
    flags = [
        JurisdictionFlag(jurisdiction=j.jurisdiction, note=j.note, source="model")
        for j in answer.jurisdiction_flags
    ]
    covered = normalise_all([f.jurisdiction for f in flags])
    for place in derived:
        if len(flags) >= MAX_FLAGS:
            break
        if place in covered:
            continue
        titles = [
            r.title for r in regulatory if place in ctx.catalogue[r.provision_id].jurisdictions
        ]
        why = (
            "Engages " + "; ".join(titles) + " (from the cited provisions)."
            if titles
            else "The clause names this jurisdiction."
        )
        flags.append(JurisdictionFlag(jurisdiction=place, note=bounded(why, 600), source="derived"))
    return flags


def _first_sentence(text: str, limit: int = 300) -> str:
    end = text.find(". ")
    return bounded(text if end < 0 else text[: end + 1], limit)


def regulatory_references(
    answer: ModelAnswer, decided: DecidedLabels, ctx: DraftContext
) -> list[RegulatoryReference]:
    """The mapper's proposals; relevance in the model's words where it cited the provision,
    else the catalogue's obligation and why the mapper proposes it."""
    relevance = {r.provision_id: r.relevance for r in answer.regulatory_landscape}
    refs = []
    for pid in decided.regulations:
        provision = ctx.catalogue[pid]
        reason = ctx.regulation_map.reason(pid) if ctx.regulation_map else "search"
        text = relevance.get(pid) or bounded(
            f"{_first_sentence(provision.obligations)} "
            f"(proposed by the regulation mapper: {reason})",
            1200,
        )
        refs.append(
            RegulatoryReference(provision_id=pid, title=regulation_title(provision), relevance=text)
        )
    return refs


def exposure_of(answer: ModelAnswer, decided: DecidedLabels, excerpt: str) -> Exposure:
    """The rubric's level; the model's rationale when it reached the same level, else the
    rubric's reason with the clause's own words."""
    decision = decided.exposure
    if answer.exposure.level == decision.level:
        return Exposure(level=decision.level, rationale=answer.exposure.rationale)
    quote = bounded(excerpt, 300)
    reason = decision.rationale[0].upper() + decision.rationale[1:]
    why = f"{reason} (exposure rubric: {decision.rule}): \u201c{quote}\u201d"
    return Exposure(level=decision.level, rationale=bounded(why, 1200))


@dataclass(frozen=True)
class PlaybookUse:
    picked: list[str]  # ids used, in playbook order
    by_model: bool  # the model picked them (else code took the first points of the category)
    vendor: str
    compliance: list[str]
    caveats: str


MAX_COMPLIANCE_ITEMS = 6  # ProvisionAnalysis bound


def apply_playbook(answer: ModelAnswer, prepared: PreparedPrompt) -> PlaybookUse:
    """The playbook points the model picked (ids it was offered; others are dropped), or, when
    it picked none, the first review point and action of the clause's first category. Their
    text extends the vendor implications, compliance considerations and interpretive note."""
    offered = {p.id: (kind, p) for kind, p in prepared.playbook}
    picked = [i for i in dict.fromkeys(answer.playbook_points) if i in offered]
    by_model = bool(picked)
    if not picked:
        firsts: dict[str, str] = {}
        for kind, p in prepared.playbook:
            if kind in ("review", "actions") and kind not in firsts:
                firsts[kind] = p.id
        picked = list(firsts.values())
    order = [p.id for _, p in prepared.playbook]
    picked.sort(key=order.index)
    review = [offered[i][1].text for i in picked if offered[i][0] == "review"]
    actions = [offered[i][1].text for i in picked if offered[i][0] == "actions"]
    caveats = [offered[i][1].text for i in picked if offered[i][0] == "caveats"]
    vendor = answer.contract_vendor_implications
    if review:
        vendor = bounded(f"{vendor} Key review areas: {'; '.join(review)}.", 1200)
    compliance = list(answer.compliance_considerations)
    for action in actions:
        if len(compliance) < MAX_COMPLIANCE_ITEMS and action not in compliance:
            compliance.append(bounded(action if action.endswith(".") else action + ".", 1200))
    note = answer.interpretive_note
    if caveats:
        note = bounded(f"{note} {' '.join(caveats)}", 1200)
    return PlaybookUse(picked, by_model, vendor, compliance, note)


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
    decided = decide_labels(
        hint=ctx.category_hint,
        model_categories=answer.categories,
        proposed=ctx.regulation_map.proposed if ctx.regulation_map else None,
        model_regulations=[r.provision_id for r in answer.regulatory_landscape],
        catalogue=ctx.catalogue,
        text=ctx.clause.text,
        change_kind=ctx.change.kind if ctx.change else None,
    )
    regulatory = regulatory_references(answer, decided, ctx)
    playbook = apply_playbook(answer, prepared)
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
        label_sources={
            "categories": decided.category_source,
            "regulations": decided.regulation_source,
            "exposure": f"rubric:{decided.exposure.rule}",
            "jurisdictions": "model+derived",
            "playbook": ("model:" if playbook.by_model else "default:") + ",".join(playbook.picked),
        },
        model_labels={
            "categories": list(answer.categories),
            "regulations": [r.provision_id for r in answer.regulatory_landscape],
            "exposure": answer.exposure.level,
            "jurisdictions": [j.jurisdiction for j in answer.jurisdiction_flags],
        },
    )
    return ProvisionAnalysis.model_validate(
        {
            "title": answer.title,
            "categories": decided.categories or answer.categories,
            "summary": answer.summary,
            "key_point": answer.key_point,
            "interpretive_note": playbook.caveats,
            "what_this_means": answer.what_this_means,
            "excerpt": excerpt,
            "comparisons": comparisons,
            "regulatory_landscape": regulatory,
            "exposure": exposure_of(answer, decided, excerpt),
            "jurisdiction_flags": jurisdiction_flags(
                answer, decided.jurisdictions, regulatory, ctx
            ),
            "contract_vendor_implications": playbook.vendor,
            "compliance_considerations": playbook.compliance,
            "change": change,
            "provenance": provenance,
        }
    )
