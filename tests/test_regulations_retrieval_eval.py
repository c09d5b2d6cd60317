"""The regulation-retrieval gold set and its scores (recall@5 target >= 0.9)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clausewatch.core.errors import InputError
from clausewatch.regulations.catalogue import exists
from clausewatch.vectorstore.evaluation import GOLD_PATH, evaluate_regulation_queries, load_queries
from clausewatch.vectorstore.store import forget_clients


@pytest.fixture
def fresh(workspace: Path) -> Iterator[Path]:
    forget_clients()
    yield workspace
    forget_clients()


def test_gold_file_is_well_formed() -> None:
    rows = load_queries()  # the dev part (the test part is only reported)
    assert len(rows) >= 15
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert len(row["query"].split()) >= 6
        for pid in row["expected"]:
            assert exists(pid), f"{row['id']}: {pid} is not in the catalogue"


def test_hybrid_retrieval_meets_the_target(fresh: Path) -> None:
    result = evaluate_regulation_queries(k=5)
    print(f"\nhybrid recall@5 {result['recall']:.3f} MRR {result['mrr']:.3f}")
    assert result["n"] >= 15
    assert result["recall_at_5"] == result["recall"]
    assert result["recall"] >= 0.9
    assert result["mrr"] >= 0.7
    assert len(result["per_query"]) == result["n"]
    assert all(len(row["top"]) <= 5 for row in result["per_query"])


def test_scores_distinguish_good_from_bad_gold(fresh: Path, tmp_path: Path) -> None:
    """A gold set whose expectations are wrong scores low: the metric can fail."""
    rows = [
        {"id": "w1", "query": "Disputes go to binding arbitration and class actions are waived.",
         "expected": ["coppa:312.10"]},
        {"id": "w2", "query": "We use cookies and similar trackers on your device for ads.",
         "expected": ["eu-ai-act:101"]},
    ]  # fmt: skip
    path = tmp_path / "wrong.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = evaluate_regulation_queries(path, k=5)
    assert result["recall"] == 0.0
    assert result["mrr"] < 0.3


def test_malformed_gold_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "q"}\n')
    with pytest.raises(InputError):
        load_queries(bad)
    bad.write_text("not json\n")
    with pytest.raises(InputError):
        load_queries(bad)
    with pytest.raises(InputError):
        load_queries(tmp_path / "missing.jsonl")
    assert GOLD_PATH.name == "regulation-retrieval.dev.jsonl"
