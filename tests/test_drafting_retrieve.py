"""Retrieval for drafting degrades instead of failing: no vector store -> keyword candidates."""

from __future__ import annotations

import pytest
from drafting_support import CATALOGUE, COMPARABLES

from clausewatch.drafting.retrieve import keyword_candidates, retrieve
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate


def test_vector_store_errors_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import clausewatch.regulations.search as rs
    import clausewatch.vectorstore.retrieval as vr

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("collection does not exist")

    monkeypatch.setattr(vr, "similar_provisions", broken)
    monkeypatch.setattr(rs, "regulation_candidates", broken)
    out = retrieve(
        "You may ask us to erase your personal data.",
        platform="acme",
        catalogue=CATALOGUE,
        comparables_k=3,
        regulations_k=2,
    )
    assert out.comparables == []
    assert out.regulations[0].id == "gdpr:17"
    assert any("comparable provisions unavailable" in n for n in out.notes)
    assert any("keyword" in n for n in out.notes)


def test_results_are_filtered(monkeypatch: pytest.MonkeyPatch) -> None:
    import clausewatch.regulations.search as rs
    import clausewatch.vectorstore.retrieval as vr

    own = Comparable(platform="acme", doc_type="p", clause_id="own", text="x", score=1.0)
    monkeypatch.setattr(vr, "similar_provisions", lambda *a, **k: [own, *COMPARABLES])
    monkeypatch.setattr(
        rs,
        "regulation_candidates",
        lambda *a, **k: [
            RegulationCandidate(id="gdpr:28", title="Processor", score=0.9),
            RegulationCandidate(id="made:1", title="Not in catalogue", score=0.8),
        ],
    )
    out = retrieve("text", platform="acme", catalogue=CATALOGUE, comparables_k=3, regulations_k=2)
    assert [c.clause_id for c in out.comparables] == ["cmp-otherco-1", "cmp-thirdco-7"]
    assert [r.id for r in out.regulations] == ["gdpr:28"]
    assert any("not in catalogue" in n for n in out.notes)


def test_keyword_candidates_use_topics() -> None:
    ids = [c.id for c in keyword_candidates("agreement", CATALOGUE, k=3, topics=["subprocessors"])]
    assert ids[0] == "gdpr:28"
    assert keyword_candidates("zzz qqq", CATALOGUE, k=3) == []
