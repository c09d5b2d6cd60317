"""Learning from editors: the approved analyses most similar to a clause, as prompt examples.

Similarity is the embedder's cosine; when the embedder is unavailable, word overlap
(Jaccard). Candidates are first narrowed by word overlap so only a few texts are embedded.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.drafting.context import Example
from clausewatch.drafting.demo import DEMO_BACKEND
from clausewatch.schemas.draft_context import read_context
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models import Clause, Draft
from clausewatch.vectorstore.keyword import terms

log = logging.getLogger(__name__)

SCAN_LIMIT = 500  # most recent approved drafts considered
RERANK_POOL = 20  # of which this many (by word overlap) are embedded
MIN_COSINE = 0.35
MIN_JACCARD = 0.08

Embed = Callable[[list[str]], Sequence[Sequence[float]]]


def _default_embed(texts: list[str]) -> Sequence[Sequence[float]]:
    from clausewatch.vectorstore.embeddings import get_embedder

    return get_embedder().embed(texts).tolist()  # type: ignore[no-any-return]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return float(dot / (na * nb)) if na and nb else 0.0


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _clause_text(session: Session, draft: Draft) -> str:
    record = read_context(draft.context).clause
    if record is not None and record.text:
        return record.text
    if draft.clause_id is not None:
        clause = session.get(Clause, draft.clause_id)
        if clause is not None:
            return clause.text
    excerpt = (draft.analysis or {}).get("excerpt")
    return str(excerpt or "")


def _example(draft: Draft, clause: str, score: float) -> Example | None:
    a: dict[str, Any] = draft.analysis or {}
    try:
        return Example(
            draft_id=draft.id,
            platform=draft.platform,
            doc_type=draft.doc_type,
            clause=clause,
            title=str(a["title"]),
            summary=str(a["summary"]),
            key_point=str(a["key_point"]),
            exposure_level=str(a["exposure"]["level"]),
            exposure_rationale=str(a["exposure"]["rationale"]),
            provisions=[str(r["provision_id"]) for r in a.get("regulatory_landscape", [])],
            score=round(score, 4),
        )
    except (KeyError, TypeError):
        return None


def approved_examples(
    session: Session,
    text: str,
    *,
    limit: int = 2,
    exclude_draft_ids: Sequence[int] = (),
    embed: Embed | None = None,
) -> list[Example]:
    """Up to ``limit`` approved analyses whose clauses are most similar to ``text``."""
    if limit <= 0:
        return []
    stmt = (
        select(Draft)
        .where(
            Draft.status == DraftStatus.APPROVED,
            Draft.analysis.is_not(None),
            Draft.backend != DEMO_BACKEND,  # a demo analysis is not a model's example
        )
        .order_by(Draft.decided_at.desc(), Draft.id.desc())
        .limit(SCAN_LIMIT)
    )
    drafts = [d for d in session.scalars(stmt) if d.id not in set(exclude_draft_ids)]
    if not drafts:
        return []
    query = terms(text)
    pool = []
    for d in drafts:
        clause = _clause_text(session, d)
        pool.append((_jaccard(query, terms(clause)), d, clause))
    pool.sort(key=lambda item: -item[0])
    pool = pool[:RERANK_POOL]
    scored: list[tuple[float, Draft, str]] = []
    try:
        vectors = (embed or _default_embed)([text] + [clause for _, _, clause in pool])
        q = vectors[0]
        for (_, d, clause), v in zip(pool, vectors[1:], strict=True):
            cos = _cosine(q, v)
            if cos >= MIN_COSINE:
                scored.append((cos, d, clause))
    except Exception as exc:  # embedder unavailable: fall back to word overlap
        log.info("embedder unavailable for examples (%s); using word overlap", exc)
        scored = [(j, d, clause) for j, d, clause in pool if j >= MIN_JACCARD]
    scored.sort(key=lambda item: -item[0])
    out = []
    for score, d, clause in scored:
        ex = _example(d, clause, score)
        if ex is not None:
            out.append(ex)
        if len(out) >= limit:
            break
    return out
