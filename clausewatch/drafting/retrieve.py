"""Retrieval for a draft, degrading gracefully.

Comparables and regulation candidates come from the vector store; when it has not been
indexed or fails, drafting carries on: no comparables, regulation candidates by keyword
overlap with the shipped catalogue, and a note saying so (kept in the draft's provenance).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from clausewatch.core.errors import ClausewatchError
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate, RegulationProvision
from clausewatch.vectorstore.keyword import KeywordIndex

log = logging.getLogger(__name__)


@dataclass
class Retrieved:
    comparables: list[Comparable] = field(default_factory=list)
    regulations: list[RegulationCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


TOPIC_BONUS = 0.5  # per taxonomy topic the provision shares with the clause's categories


def keyword_candidates(
    text: str,
    catalogue: Mapping[str, RegulationProvision],
    *,
    k: int,
    topics: list[str] | None = None,
) -> list[RegulationCandidate]:
    """Regulation candidates by BM25 over the catalogue (scaled so the best match is 1) plus
    ``TOPIC_BONUS`` per shared taxonomy topic, best first."""
    provisions = list(catalogue.values())
    index = _catalogue_index(
        tuple(f"{p.title} {p.obligations} {' '.join(p.topics)}" for p in provisions)
    )
    found = index.search(text, len(provisions))
    top = found[0][1] if found else 1.0
    bm25 = {i: score / top for i, score in found}
    wanted = set(topics or [])
    scored = []
    for i, prov in enumerate(provisions):
        score = bm25.get(i, 0.0) + TOPIC_BONUS * len(wanted & set(prov.topics))
        if score > 0:
            scored.append((score, prov))
    scored.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [
        RegulationCandidate(id=p.id, title=p.title, score=round(s, 4), obligations=p.obligations)
        for s, p in scored[:k]
    ]


@functools.lru_cache(maxsize=4)
def _catalogue_index(texts: tuple[str, ...]) -> KeywordIndex:
    return KeywordIndex(texts, stem=True)


def load_catalogue_safely(notes: list[str]) -> dict[str, RegulationProvision]:
    """The catalogue; a broken one (ConfigError) or an unreadable file is noted and drafting
    carries on without it."""
    from clausewatch.regulations.catalogue import load_catalogue

    try:
        return dict(load_catalogue())
    except (ClausewatchError, OSError) as exc:
        notes.append(f"regulation catalogue unavailable: {exc}")
        log.warning("regulation catalogue unavailable: %s", exc)
        return {}


def retrieve(
    text: str,
    *,
    platform: str,
    catalogue: Mapping[str, RegulationProvision],
    comparables_k: int,
    regulations_k: int,
    topics: list[str] | None = None,
) -> Retrieved:
    from clausewatch.regulations.search import regulation_candidates
    from clausewatch.vectorstore.retrieval import similar_provisions

    out = Retrieved()
    try:
        found = similar_provisions(text, exclude_platform=platform, k=comparables_k, per_platform=1)
        out.comparables = [c for c in found if c.platform != platform and c.text.strip()]
        if not out.comparables:
            out.notes.append("no comparable provisions (vector store empty or not indexed)")
    except ClausewatchError as exc:  # store unreachable or broken, embedder missing
        out.notes.append(f"comparable provisions unavailable: {type(exc).__name__}: {exc}")
        log.warning("similar_provisions failed: %s", exc)
    try:
        regs = regulation_candidates(text, k=regulations_k)
        known = [r for r in regs if r.id in catalogue]
        if len(known) < len(regs):
            out.notes.append(f"{len(regs) - len(known)} regulation candidates not in catalogue")
        out.regulations = known
    except ClausewatchError as exc:
        out.notes.append(f"regulation search unavailable ({type(exc).__name__}); keyword fallback")
        log.warning("regulation_candidates failed: %s", exc)
    if not out.regulations and catalogue:
        out.regulations = keyword_candidates(text, catalogue, k=regulations_k, topics=topics)
        if out.regulations:
            out.notes.append("regulation candidates by keyword overlap with the catalogue")
    return out


def category_hint(text: str, notes: list[str]) -> list[str]:
    """The clause classifier's labels for ``text`` (empty when no classifier is available)."""
    from clausewatch.classifier import predict_categories

    try:
        labels = predict_categories([text])
    except (ClausewatchError, OSError) as exc:  # a corrupt model file, an unwritable folder
        notes.append(f"classifier unavailable: {type(exc).__name__}")
        log.warning("classifier unavailable: %s", exc)
        return []
    return [str(x) for x in labels[0]] if labels else []
