"""Comparable provisions of other platforms, for drafting.

``similar_provisions`` over-fetches unfiltered nearest neighbours and filters in Python
(platform exclusion, document type, per-platform cap): chromadb's ``$ne`` filter is an order
of magnitude slower at scale. Regulation search lives with the regulations
(``clausewatch.regulations.search``): this package knows nothing of them.
"""

from __future__ import annotations

from collections import defaultdict

from clausewatch.core.errors import InputError
from clausewatch.schemas.retrieval import Comparable
from clausewatch.vectorstore.store import Hit, VectorStore, open_store

OVERFETCH_MIN = 40
MAX_QUERY_CHARS = 20_000


def query_text(text: str) -> str:
    """The query, stripped and cut to ``MAX_QUERY_CHARS``; an InputError when empty."""
    text = (text or "").strip()
    if not text:
        raise InputError("empty query text")
    return text[:MAX_QUERY_CHARS]


def _comparable(hit: Hit) -> Comparable:
    meta = hit.metadata
    path = str(meta.get("path", ""))
    date = meta.get("version_date")
    return Comparable(
        platform=str(meta.get("platform", "")),
        doc_type=str(meta.get("doc_type", "")),
        clause_id=str(meta.get("clause_uid", hit.id)),
        text=hit.text,
        score=round(hit.score, 4),
        version_date=int(date) if isinstance(date, int | float) else None,
        path=[p for p in path.split(" > ") if p],
    )


def similar_provisions(
    text: str,
    *,
    exclude_platform: str | None = None,
    doc_type: str | None = None,
    k: int = 5,
    per_platform: int = 2,
    store: VectorStore | None = None,
) -> list[Comparable]:
    """Top ``k`` clauses of other platforms, at most ``per_platform`` each, best first."""
    text = query_text(text)
    if k <= 0 or per_platform <= 0:
        return []
    from clausewatch.vectorstore.indexing import PROVISIONS

    store = store or open_store(PROVISIONS)
    total = store.count()
    if total == 0:
        return []
    embedding = store.embedder.embed([text])[0]
    fetch = max(OVERFETCH_MIN, k * per_platform * 4)
    while True:
        hits = store.query(embedding=embedding, k=min(fetch, total))
        picked: list[Comparable] = []
        per: dict[str, int] = defaultdict(int)
        seen_text: set[tuple[str, str]] = set()
        for hit in hits:
            platform = str(hit.metadata.get("platform", ""))
            if exclude_platform is not None and platform == exclude_platform:
                continue
            if doc_type is not None and hit.metadata.get("doc_type") != doc_type:
                continue
            if per[platform] >= per_platform:
                continue
            key = (platform, hit.text)
            if key in seen_text:
                continue
            seen_text.add(key)
            per[platform] += 1
            picked.append(_comparable(hit))
            if len(picked) >= k:
                return picked
        if fetch >= total:
            return picked
        fetch *= 4
