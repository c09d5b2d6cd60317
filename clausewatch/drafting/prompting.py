"""From a ``DraftContext`` to the prompt inputs, the per-call schema and the prompt view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clausewatch.drafting.answer import build_answer_schema
from clausewatch.drafting.context import DraftContext
from clausewatch.drafting.grounding import PromptView
from clausewatch.drafting.sentences import Sentence, preview, split_sentences
from clausewatch.prompts import ANALYSIS_PROMPT_ID
from clausewatch.prompts.rubrics import playbooks
from clausewatch.schemas.playbooks import PlaybookPoint, PointKind
from clausewatch.schemas.taxonomy import CATEGORIES, DESCRIPTIONS

PROMPT_ID = ANALYSIS_PROMPT_ID
REASK_PROMPT_ID = "provision_analysis_reask"

MAX_CLAUSE_SENTENCES = 40  # shown (and choosable) sentences of the clause
CLAUSE_SENTENCE_CHARS = 600
MAX_COMPARABLE_SENTENCES = 4
COMPARABLE_SENTENCE_CHARS = 240
CHANGE_CHARS = 600
OBLIGATION_CHARS = 180
EXAMPLE_CHARS = 240


@dataclass(frozen=True)
class PreparedPrompt:
    inputs: dict[str, Any]
    schema: dict[str, Any]
    view: PromptView
    clause_sentences: list[Sentence]
    comparable_sentences: dict[str, list[Sentence]]
    regulation_ids: list[str]
    playbook: list[tuple[PointKind, PlaybookPoint]] = field(default_factory=list)


MAX_PLAYBOOK_SHOWN = 9


def playbook_points(ctx: DraftContext) -> list[tuple[PointKind, PlaybookPoint]]:
    """The playbook points of the clause's hinted categories (platform name filled in)."""
    points = playbooks().points([s for s in ctx.category_hint if s in CATEGORIES])
    return [
        (kind, p.model_copy(update={"text": p.text.replace("{platform}", ctx.clause.platform)}))
        for kind, p in points[:MAX_PLAYBOOK_SHOWN]
    ]


def prepare(ctx: DraftContext) -> PreparedPrompt:
    clause_sents = split_sentences(ctx.clause.text)
    if not clause_sents:
        from clausewatch.core.errors import InputError

        raise InputError(f"clause {ctx.clause.uid} has no text to analyse")
    shown = clause_sents[:MAX_CLAUSE_SENTENCES]
    comp_sents = {
        c.clause_id: split_sentences(c.text)[:MAX_COMPARABLE_SENTENCES] for c in ctx.comparables
    }
    comp_sents = {cid: s for cid, s in comp_sents.items() if s}
    comparables = [c for c in ctx.comparables if c.clause_id in comp_sents]
    regulations = [r for r in ctx.regulations if r.id in ctx.catalogue]
    reg_ids = [r.id for r in regulations]
    change: dict[str, Any] | None = None
    if ctx.change is not None:
        before, after = ctx.change.excerpts()
        change = {
            "kind": ctx.change.kind,
            "before": preview(before, CHANGE_CHARS) if before else None,
            "after": preview(after, CHANGE_CHARS) if after else None,
        }
    inputs: dict[str, Any] = {
        "platform": ctx.clause.platform,
        "doc_type": ctx.clause.doc_type,
        "heading": " > ".join(ctx.clause.path) or "(none)",
        "sentences": [{"n": s.n, "text": preview(s.text, CLAUSE_SENTENCE_CHARS)} for s in shown],
        "omitted_sentences": len(clause_sents) - len(shown),
        "change": change,
        "comparables": [
            {
                "id": c.clause_id,
                "platform": c.platform,
                "doc_type": c.doc_type,
                "sentences": [
                    {"n": s.n, "text": preview(s.text, COMPARABLE_SENTENCE_CHARS)}
                    for s in comp_sents[c.clause_id]
                ],
            }
            for c in comparables
        ],
        "regulations": [
            {
                "id": r.id,
                "title": ctx.catalogue[r.id].title,
                "obligations": preview(
                    ctx.catalogue[r.id].obligations or r.obligations, OBLIGATION_CHARS
                ),
            }
            for r in regulations
        ],
        "categories": [{"slug": s, "description": DESCRIPTIONS[s]} for s in CATEGORIES],
        "category_hint": [s for s in ctx.category_hint if s in CATEGORIES],
        "examples": [
            {
                "platform": e.platform,
                "doc_type": e.doc_type,
                "clause": preview(e.clause, EXAMPLE_CHARS),
                "title": e.title,
                "summary": preview(e.summary, EXAMPLE_CHARS),
                "key_point": preview(e.key_point, EXAMPLE_CHARS),
                "exposure_level": e.exposure_level,
                "exposure_rationale": preview(e.exposure_rationale, EXAMPLE_CHARS),
                "provisions": e.provisions,
            }
            for e in ctx.examples
        ],
        "redraft": (
            {
                "instructions": ctx.redraft.instructions,
                "previous_title": ctx.redraft.previous_title,
                "previous_summary": preview(ctx.redraft.previous_summary, EXAMPLE_CHARS),
                "previous_exposure": ctx.redraft.previous_exposure,
            }
            if ctx.redraft
            else None
        ),
    }
    points = playbook_points(ctx)
    inputs["playbook"] = [{"id": p.id, "kind": kind, "text": p.text} for kind, p in points]
    schema = build_answer_schema(
        sentence_count=len(shown),
        comparables=[(c.clause_id, len(comp_sents[c.clause_id])) for c in comparables],
        regulation_ids=reg_ids,
        with_change=ctx.change is not None,
        playbook_ids=tuple(p.id for _, p in points),
    )
    view = PromptView(
        sentence_count=len(shown),
        comparable_sentences={cid: len(s) for cid, s in comp_sents.items()},
        regulation_ids=frozenset(reg_ids),
        with_change=ctx.change is not None,
    )
    return PreparedPrompt(
        inputs=inputs,
        schema=schema,
        view=view,
        clause_sentences=clause_sents,
        comparable_sentences=comp_sents,
        regulation_ids=reg_ids,
        playbook=points,
    )
