"""Regulation search: the catalogue provisions most relevant to a clause.

``regulation_candidates`` fuses dense retrieval over the ``regulations`` collection with BM25
keyword scores (weighted reciprocal-rank fusion), aggregated per provision id; only ids in
the shipped catalogue are returned. The collection and its BM25 corpora are
``clausewatch.regulations.index``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Literal

from clausewatch.regulations.catalogue import load_catalogue
from clausewatch.regulations.index import ensure_catalogue, keyword_corpus, open_regulation_store
from clausewatch.schemas.retrieval import RegulationCandidate
from clausewatch.vectorstore.embeddings import Vectors
from clausewatch.vectorstore.retrieval import query_text
from clausewatch.vectorstore.store import VectorStore

Mode = Literal["hybrid", "dense", "keyword"]

RRF_K = 60
# Chosen on the dev part of evals/gold/regulation-retrieval (20 queries), MiniLM int8, catalogue
# only (re-checked 2026-12-02 after the gold was split): dense 0.25-0.5 + keyword 1 give recall@5
# 0.95, MRR 0.829-0.833 (a plateau; dense 1 + keyword 1: 0.875 / 0.733). The frozen test part
# (20 queries) scores 0.95 / 0.842 with these weights. With full texts imported, chunks are
# ranked separately and only nudge the catalogue ranking (0.1 each; statute wording matches
# policy wording poorly).
FUSION_WEIGHTS = {"dense": 0.5, "keyword": 1.0, "text_dense": 0.1, "text_keyword": 0.1}


def _ranked_ids(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Aggregate (provision id, score) pairs by best score, best first."""
    best: dict[str, float] = {}
    for pid, score in pairs:
        if pid not in best or score > best[pid]:
            best[pid] = score
    return sorted(best.items(), key=lambda kv: kv[1], reverse=True)


def _dense(
    store: VectorStore, embedding: Vectors, fetch: int, kind: str
) -> list[tuple[str, float]]:
    hits = store.query(embedding=embedding, k=fetch, where={"kind": kind})
    return _ranked_ids([(str(h.metadata.get("provision_id", "")), h.score) for h in hits])


def _keyword(store: VectorStore, text: str, fetch: int, kind: str) -> list[tuple[str, float]]:
    corpus = keyword_corpus(store, kind)
    found = corpus.index.search(text, fetch)
    return _ranked_ids(
        [(str(corpus.records[i].metadata.get("provision_id", "")), s) for i, s in found]
    )


def fuse(
    rankings: Mapping[str, list[tuple[str, float]]], weights: Mapping[str, float]
) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion of several rankings of ids."""
    scores: dict[str, float] = defaultdict(float)
    for name, ranking in rankings.items():
        for rank, (pid, _score) in enumerate(ranking):
            scores[pid] += weights.get(name, 1.0) / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def regulation_candidates(
    text: str,
    *,
    k: int = 8,
    mode: Mode = "hybrid",
    store: VectorStore | None = None,
) -> list[RegulationCandidate]:
    """Top ``k`` catalogue provisions for a clause, best first, with scores.

    ``hybrid`` (default) fuses dense and BM25 rankings of the catalogue entries, nudged by
    the rankings of imported full-text chunks (``FUSION_WEIGHTS``); scores are then the fused
    RRF score scaled so the best possible value is 1. ``dense`` scores are cosine similarities
    and ``keyword`` scores BM25 values, both over catalogue entries only.
    """
    text = query_text(text)
    if k <= 0:
        return []
    store = store or open_regulation_store()
    ensure_catalogue(store)
    catalogue = load_catalogue()
    fetch = max(60, k * 8)
    if mode == "keyword":
        ranked = _keyword(store, text, fetch, "catalogue")
    else:
        embedding = store.embedder.embed([text])[0]
        if mode == "dense":
            ranked = _dense(store, embedding, fetch, "catalogue")
        else:
            rankings = {
                "dense": _dense(store, embedding, fetch, "catalogue"),
                "keyword": _keyword(store, text, fetch, "catalogue"),
                "text_dense": _dense(store, embedding, fetch, "text"),
                "text_keyword": _keyword(store, text, fetch, "text"),
            }
            weights = FUSION_WEIGHTS
            top = sum(w for name, w in weights.items() if rankings.get(name)) / (RRF_K + 1)
            ranked = [(pid, s / top) for pid, s in fuse(rankings, weights)]
    out: list[RegulationCandidate] = []
    for pid, score in ranked:
        prov = catalogue.get(pid)
        if prov is None:
            continue
        out.append(
            RegulationCandidate(
                id=pid, title=prov.title, score=round(score, 4), obligations=prov.obligations
            )
        )
        if len(out) >= k:
            break
    return out
