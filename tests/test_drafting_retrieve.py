"""Retrieval for drafting degrades instead of failing: no vector store -> keyword candidates."""

from __future__ import annotations

import pytest
from drafting_support import CATALOGUE, COMPARABLES

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.drafting.retrieve import (
    category_hint,
    keyword_candidates,
    load_catalogue_safely,
    retrieve,
)
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate


def test_vector_store_errors_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import clausewatch.regulations.search as rs
    import clausewatch.vectorstore.retrieval as vr

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise TransientError("vector store unavailable during query: connection refused")

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


def test_a_bug_in_retrieval_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the failures a store can have fall back; a programming error raises."""
    import clausewatch.vectorstore.retrieval as vr

    def buggy(*args: object, **kwargs: object) -> list[object]:
        raise TypeError("unexpected keyword argument 'per_platfrom'")

    monkeypatch.setattr(vr, "similar_provisions", buggy)
    with pytest.raises(TypeError, match="per_platfrom"):
        retrieve("text", platform="acme", catalogue=CATALOGUE, comparables_k=3, regulations_k=2)


def test_classifier_failure_is_noted_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import clausewatch.classifier as classifier

    def corrupt(texts: list[str]) -> list[list[str]]:
        raise ConfigError("trained.joblib: cannot load classifier model")

    monkeypatch.setattr(classifier, "predict_categories", corrupt)
    notes: list[str] = []
    with caplog.at_level("WARNING", logger="clausewatch.drafting.retrieve"):
        assert category_hint("text", notes) == []
    assert notes == ["classifier unavailable: ConfigError"]
    assert "cannot load classifier model" in caplog.text

    def buggy(texts: list[str]) -> list[list[str]]:
        raise AttributeError("'NoneType' object has no attribute 'predict'")

    monkeypatch.setattr(classifier, "predict_categories", buggy)
    with pytest.raises(AttributeError):
        category_hint("text", [])


def test_broken_catalogue_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    import clausewatch.regulations.catalogue as catalogue

    def broken() -> object:
        raise ConfigError("gdpr.yaml: invalid YAML")

    monkeypatch.setattr(catalogue, "load_catalogue", broken)
    notes: list[str] = []
    assert load_catalogue_safely(notes) == {}
    assert notes == ["regulation catalogue unavailable: gdpr.yaml: invalid YAML"]


def test_keyword_candidates_are_bm25_with_stemming() -> None:
    """bm25s's tokenizer: English stopwords dropped, words reduced to their stems."""
    found = keyword_candidates("We erase it when you ask for erasure.", CATALOGUE, k=3)
    assert [c.id for c in found] == ["gdpr:17"]  # "erase" finds "erased": one stem
    assert found[0].score == 1.0  # the best BM25 match is scaled to 1
    assert keyword_candidates("the and of it", CATALOGUE, k=3) == []  # stopwords only


def test_content_words_come_from_the_bm25_tokenizer() -> None:
    from clausewatch.vectorstore.keyword import terms

    assert terms("The processors erased the DATA they were processing.") == {
        "processor",
        "eras",
        "data",
        "were",
        "process",
    }
