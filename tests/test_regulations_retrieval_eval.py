"""The regulation-retrieval gold set and its scores (recall@5 target >= 0.9), through the one
evaluator: the ``regulation-retrieval`` eval suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clausewatch.core.errors import InputError
from clausewatch.evals.gold import gold_file, load_jsonl
from clausewatch.evals.registry import RunOptions
from clausewatch.evals.runner import run_suite
from clausewatch.regulations.catalogue import exists
from clausewatch.schemas.evals import RetrievalCase
from clausewatch.vectorstore.store import forget_clients

SUITE = "regulation-retrieval"


@pytest.fixture
def fresh(workspace: Path) -> Iterator[Path]:
    forget_clients()
    yield workspace
    forget_clients()


def test_gold_file_is_well_formed() -> None:
    rows = load_jsonl(gold_file(SUITE, "dev"), RetrievalCase)  # the test part is only reported
    assert len(rows) >= 15
    for row in rows:
        assert len(row.query.split()) >= 6
        for pid in row.expected:
            assert exists(pid), f"{row.id}: {pid} is not in the catalogue"


def test_hybrid_retrieval_meets_the_target(fresh: Path) -> None:
    report = run_suite(SUITE, RunOptions(split="dev"))
    m = report.metrics
    print(f"\nhybrid recall@5 {m['recall@5']:.3f} MRR {m['mrr']:.3f}")
    assert m["queries"] >= 15
    assert m["recall@5"] >= 0.9
    assert m["mrr"] >= 0.7
    assert m["recall@1"] <= m["recall@3"] <= m["recall@5"] <= m["recall@10"]
    assert len(report.cases) == m["queries"]
    assert all(len(case.detail["top"]) == 10 for case in report.cases)


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
    report = run_suite(SUITE, RunOptions(data=path))
    assert report.metrics["recall@5"] == 0.0
    assert report.metrics["mrr"] < 0.3
    assert not any(case.ok for case in report.cases)


def test_malformed_gold_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "q"}\n')
    with pytest.raises(InputError, match="expected"):
        run_suite(SUITE, RunOptions(data=bad))
    bad.write_text("not json\n")
    with pytest.raises(InputError, match="invalid JSON"):
        run_suite(SUITE, RunOptions(data=bad))
    with pytest.raises(InputError, match="not found"):
        run_suite(SUITE, RunOptions(data=tmp_path / "missing.jsonl"))
    bad.write_text('{"id": "x", "query": "some clause text", "expected": ["gdpr:9999"]}\n')
    with pytest.raises(InputError, match="gdpr:9999"):
        run_suite(SUITE, RunOptions(data=bad))
