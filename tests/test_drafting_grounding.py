"""Grounding checks on assembled (or edited) analyses, and the per-call answer schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from drafting_support import CATALOGUE, CLAUSE, COMPARABLES, answer, make_ctx, with_change

from clausewatch.drafting.answer import build_answer_schema
from clausewatch.drafting.grounding import GroundingSources, check_grounding
from clausewatch.drafting.prompting import prepare
from clausewatch.drafting.sentences import split_sentences
from clausewatch.schemas.analysis import ProvisionAnalysis, analysis_json_schema
from clausewatch.schemas.taxonomy import CATEGORIES


def _analysis(**changes: Any) -> ProvisionAnalysis:
    data: dict[str, Any] = {
        "title": "t",
        "categories": ["enterprise-data-terms"],
        "summary": "s",
        "key_point": "k",
        "interpretive_note": "i",
        "what_this_means": "w",
        "excerpt": "The terms of that agreement govern collection, use and retention of API data.",
        "comparisons": [
            {
                "platform": "otherco",
                "clause_id": "cmp-otherco-1",
                "excerpt": "We do not use business\n data to train our models.",
                "note": "n",
            }
        ],
        "regulatory_landscape": [{"provision_id": "gdpr:28", "title": "P", "relevance": "r"}],
        "exposure": {"level": "Low", "rationale": "r"},
        "contract_vendor_implications": "c",
        "compliance_considerations": ["a"],
    }
    data.update(changes)
    return ProvisionAnalysis.model_validate(data)


SOURCES = GroundingSources(
    clause_text=CLAUSE,
    comparables={c.clause_id: c for c in COMPARABLES},
    catalogue_ids=CATALOGUE.keys(),
)


def test_grounded_analysis_passes_with_whitespace_normalisation() -> None:
    assert check_grounding(_analysis(), SOURCES) == []
    spaced = "If you use our API under a business agreement,\n\n  your data is processed"
    assert check_grounding(_analysis(excerpt=spaced), SOURCES) == []


def test_paraphrased_excerpt_fails() -> None:
    errors = check_grounding(_analysis(excerpt="Business data follows the agreement."), SOURCES)
    assert len(errors) == 1 and errors[0].startswith("excerpt: not a verbatim quote")


def test_comparison_checks() -> None:
    bad = _analysis(
        comparisons=[
            {"platform": "x", "clause_id": "made-up", "excerpt": "e", "note": "n"},
            {
                "platform": "wrong",
                "clause_id": "cmp-thirdco-7",
                "excerpt": "Enterprise",
                "note": "n",
            },
            {
                "platform": "otherco",
                "clause_id": "cmp-otherco-1",
                "excerpt": "We sell data.",
                "note": "n",
            },
        ]
    )
    errors = check_grounding(bad, SOURCES)
    assert "comparisons[0]: 'made-up' is not a provision retrieval returned" in errors[0]
    assert errors[1] == "comparisons[1]: provision cmp-thirdco-7 belongs to thirdco"
    assert errors[2] == "comparisons[2]: excerpt is not a verbatim quote of provision cmp-otherco-1"


def test_provision_must_exist_in_catalogue_and_candidates() -> None:
    unknown = _analysis(
        regulatory_landscape=[{"provision_id": "gdpr:999", "title": "x", "relevance": "r"}]
    )
    assert "not in the regulation catalogue" in check_grounding(unknown, SOURCES)[0]
    limited = GroundingSources(
        clause_text=CLAUSE,
        comparables=SOURCES.comparables,
        catalogue_ids=CATALOGUE.keys(),
        candidate_ids={"ccpa:1798.100"},
    )
    assert "not among the retrieved candidates" in check_grounding(_analysis(), limited)[0]


def test_sources_from_a_stored_context_record() -> None:
    record = make_ctx().to_record()
    sources = GroundingSources.from_record(record, CATALOGUE.keys())
    assert check_grounding(_analysis(), sources) == []


def test_per_call_schema_is_valid_and_constrains_choices() -> None:
    prepared = prepare(make_ctx())
    schema = prepared.schema
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(answer()))
    # what the enums forbid
    for bad in (
        answer(regulatory_landscape=[{"provision_id": "gdpr:17", "relevance": "r"}]),
        answer(comparisons=[{"clause_id": "invented", "sentence": 1, "note": "n"}]),
        answer(comparisons=[{"clause_id": "cmp-thirdco-7", "sentence": 2, "note": "n"}]),
        answer(excerpt_sentences=[4]),
        answer(categories=["other"]),
        answer(exposure={"level": "Critical", "rationale": "r"}),
        answer(title="t" * 101),
        {**answer(), "extra": 1},
    ):
        assert list(validator.iter_errors(bad)), bad
    assert schema["properties"]["categories"]["items"]["enum"] == list(CATEGORIES)
    assert "change_summary" not in schema["properties"]


def test_schema_with_change_requires_change_summary() -> None:
    schema = build_answer_schema(
        sentence_count=3, comparables=[], regulation_ids=["gdpr:28"], with_change=True
    )
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(answer(comparisons=[])))
    assert not list(validator.iter_errors(with_change(comparisons=[])))


def test_schema_rejects_a_clause_without_sentences() -> None:
    with pytest.raises(ValueError, match="at least one sentence"):
        build_answer_schema(sentence_count=0, comparables=[], regulation_ids=[], with_change=False)


def test_sentences_are_verbatim_slices() -> None:
    text = "  First one (e.g. this).  Second\nline here! Third? " + "word " * 800
    sents = split_sentences(text)
    assert [s.n for s in sents] == list(range(1, len(sents) + 1))
    for s in sents:
        assert text[s.start : s.end] == s.text and s.text == s.text.strip()
        assert len(s.text) <= 2000
    assert sents[0].text == "First one (e.g. this)."


def test_published_schema_bounds_strings_and_lists() -> None:
    schema = analysis_json_schema()
    props = schema["properties"]
    assert props["title"]["maxLength"] <= 200
    assert props["categories"]["maxItems"] == 4
    assert props["compliance_considerations"]["maxItems"] == 6
