"""Retrieval evaluation on gold regulation queries (``evals/gold/regulation-retrieval.jsonl``).

Each line: ``{"id", "query", "expected": [provision ids]}``. recall@k is the share of expected
ids found in the top k, averaged over queries; MRR is the mean reciprocal rank of the first
expected id (0 when none is retrieved in the top ``depth``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clausewatch.core.errors import InputError
from clausewatch.regulations.search import Mode, regulation_candidates
from clausewatch.vectorstore.store import VectorStore

REPO = Path(__file__).resolve().parents[1]
GOLD_PATH = REPO / "evals" / "gold" / "regulation-retrieval.dev.jsonl"


def load_queries(path: Path = GOLD_PATH) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError(f"gold file not found: {path}")
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name}:{n}: invalid JSON: {exc}") from exc
        if not isinstance(row, dict) or not {"id", "query", "expected"} <= row.keys():
            raise InputError(f"{path.name}:{n}: needs id, query and expected")
        if not isinstance(row["expected"], list) or not row["expected"]:
            raise InputError(f"{path.name}:{n}: expected must be a non-empty list")
        rows.append(row)
    return rows


def evaluate_regulation_queries(
    path: Path = GOLD_PATH,
    *,
    k: int = 5,
    depth: int = 20,
    mode: Mode = "hybrid",
    store: VectorStore | None = None,
) -> dict[str, Any]:
    """Score regulation retrieval on the gold queries; returns summary and per-query rows."""
    rows = load_queries(path)
    per_query: list[dict[str, Any]] = []
    recall_sum = 0.0
    rr_sum = 0.0
    for row in rows:
        expected = [str(e) for e in row["expected"]]
        found = regulation_candidates(row["query"], k=depth, mode=mode, store=store)
        ranked = [c.id for c in found]
        top = ranked[:k]
        recall = sum(1 for e in expected if e in top) / len(expected)
        first = next((i for i, pid in enumerate(ranked) if pid in expected), None)
        rr = 1.0 / (first + 1) if first is not None else 0.0
        recall_sum += recall
        rr_sum += rr
        per_query.append(
            {"id": row["id"], "expected": expected, "top": top, "recall": recall, "rr": rr}
        )
    n = len(rows)
    return {
        "mode": mode,
        "n": n,
        "k": k,
        f"recall_at_{k}": recall_sum / n if n else 0.0,
        "recall": recall_sum / n if n else 0.0,
        "mrr": rr_sum / n if n else 0.0,
        "per_query": per_query,
    }
