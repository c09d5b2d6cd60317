"""The regulation mapper: ranks catalogue provisions for one clause from several signals.

Signals (weights in ``MapperWeights``, chosen on the dev part of ``evals/gold/analysis``):

- **retrieval**: the clause's rank among the hybrid search candidates (``regulation_candidates``),
  decaying with rank: ``retrieval * exp(-rank / decay)``;
- **categories**: the clause's decided categories engage a provision when the catalogue lists
  the slug in its ``engaged_by`` (``engaged``); so does the document type (``doctype:dpa``);
- **editors**: approved analyses are votes: a provision editors kept or added for clauses of the
  same categories counts +1, one they removed -1 (``editors * clamp(net / 3, -1, 1)``).

``proposed`` are the shortlisted provisions scoring at least ``cut`` (with the dev weights a
provision must be engaged by a category or the document type, and retrieval orders them): the
draft cites those. The model sees the shortlist, explains relevance, and may not cite anything
outside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from clausewatch.schemas.retrieval import RegulationCandidate, RegulationProvision

DOCTYPE_PREFIX = "doctype:"


@dataclass(frozen=True)
class MapperWeights:
    retrieval: float = 0.6
    decay: float = 8.0
    engaged: float = 1.0
    editors: float = 0.5
    cut: float = 1.0
    max_proposed: int = 4
    shortlist: int = 6


DEFAULT_WEIGHTS = MapperWeights()


@dataclass(frozen=True)
class RankedProvision:
    provision_id: str
    score: float
    retrieval_rank: int | None  # 0-based rank among the search candidates, None if not retrieved
    engaged_by: tuple[str, ...]  # the clause's categories (or ``doctype:...``) that engage it
    editor_net: int = 0


@dataclass(frozen=True)
class RegulationMap:
    shortlist: list[RankedProvision] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)

    def reason(self, provision_id: str) -> str:
        """Why the mapper ranks ``provision_id`` where it does (for provenance and editors)."""
        for r in self.shortlist:
            if r.provision_id == provision_id:
                parts = []
                if r.engaged_by:
                    parts.append("engaged by " + ", ".join(r.engaged_by))
                if r.retrieval_rank is not None:
                    parts.append(f"search rank {r.retrieval_rank + 1}")
                if r.editor_net:
                    parts.append(f"editors {r.editor_net:+d}")
                return "; ".join(parts) or "search"
        return ""


def _engagers(
    provision: RegulationProvision, categories: Sequence[str], doc_type: str | None
) -> tuple[str, ...]:
    hits = [c for c in categories if c in provision.engaged_by]
    if doc_type and f"{DOCTYPE_PREFIX}{doc_type}" in provision.engaged_by:
        hits.append(f"{DOCTYPE_PREFIX}{doc_type}")
    return tuple(hits)


def map_regulations(
    candidates: Sequence[RegulationCandidate],
    categories: Sequence[str],
    catalogue: Mapping[str, RegulationProvision],
    *,
    doc_type: str | None = None,
    editor_votes: Mapping[str, int] | None = None,
    weights: MapperWeights = DEFAULT_WEIGHTS,
) -> RegulationMap:
    """Rank the search candidates plus every provision the categories or document type
    engage; deterministic (ties go to the better search rank, then the id)."""
    votes = editor_votes or {}
    rank = {c.id: i for i, c in enumerate(candidates) if c.id in catalogue}
    pool = set(rank)
    for pid, provision in catalogue.items():
        if _engagers(provision, categories, doc_type) or votes.get(pid, 0) > 0:
            pool.add(pid)
    ranked: list[RankedProvision] = []
    for pid in pool:
        provision = catalogue[pid]
        engagers = _engagers(provision, categories, doc_type)
        r = rank.get(pid)
        net = votes.get(pid, 0)
        score = (
            (weights.retrieval * math.exp(-r / weights.decay) if r is not None else 0.0)
            + (weights.engaged if engagers else 0.0)
            + weights.editors * max(-1.0, min(1.0, net / 3))
        )
        ranked.append(RankedProvision(pid, round(score, 4), r, engagers, net))
    ranked.sort(
        key=lambda x: (
            -x.score,
            x.retrieval_rank if x.retrieval_rank is not None else 10**6,
            x.provision_id,
        )
    )
    shortlist = ranked[: max(weights.shortlist, weights.max_proposed)]
    proposed = [r.provision_id for r in shortlist if r.score >= weights.cut][: weights.max_proposed]
    return RegulationMap(shortlist=shortlist, proposed=proposed)


def shortlist_candidates(
    rmap: RegulationMap, catalogue: Mapping[str, RegulationProvision]
) -> list[RegulationCandidate]:
    """The shortlist as candidates (what the model is shown and may cite), best first."""
    return [
        RegulationCandidate(
            id=r.provision_id,
            title=catalogue[r.provision_id].title,
            score=r.score,
            obligations=catalogue[r.provision_id].obligations,
        )
        for r in rmap.shortlist
        if r.provision_id in catalogue
    ]
