"""Builders shared by the drafting tests (clauses, contexts, scripted answers).

Every text here is written for these tests.
"""

from __future__ import annotations

import copy
from typing import Any

from clausewatch.drafting.context import ChangeInput, ClauseInput, DraftContext
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate, RegulationProvision

CLAUSE = (
    "If you use our API under a business agreement, your data is processed under the data "
    "processing agreement between us and your organisation.  The terms of that agreement "
    "govern collection, use and retention of API data. They may differ from the terms for "
    "consumer users described in this policy."
)
OLD_CLAUSE = (
    "If you use our API under a business agreement, your data is processed under the data "
    "processing agreement between us and your organisation.  The terms of that agreement "
    "govern collection, use and retention of API data."
)

CATALOGUE: dict[str, RegulationProvision] = {
    "gdpr:28": RegulationProvision(
        id="gdpr:28",
        regulation="gdpr",
        title="Processor",
        obligations="Processors act on documented instructions under a binding contract.",
        topics=["enterprise-data-terms", "subprocessors"],
        jurisdictions=["EU/EEA"],
    ),
    "ccpa:1798.100": RegulationProvision(
        id="ccpa:1798.100",
        regulation="ccpa",
        title="General duties of businesses that collect personal information",
        obligations="Businesses disclose categories and purposes of collection at collection.",
        topics=["data-collection"],
        jurisdictions=["California"],
    ),
    "gdpr:17": RegulationProvision(
        id="gdpr:17",
        regulation="gdpr",
        title="Right to erasure",
        obligations="People may have their data erased without undue delay in listed cases.",
        topics=["user-access-deletion"],
        jurisdictions=["EU/EEA"],
    ),
}

COMPARABLES = [
    Comparable(
        platform="otherco",
        doc_type="privacy_policy",
        clause_id="cmp-otherco-1",
        text=(
            "Business customers are covered by our customer agreement. We do not use "
            "business data to train our models."
        ),
        score=0.82,
    ),
    Comparable(
        platform="thirdco",
        doc_type="terms_of_service",
        clause_id="cmp-thirdco-7",
        text="Enterprise accounts are governed by the enterprise terms signed with us.",
        score=0.74,
    ),
]


def make_ctx(
    *,
    text: str = CLAUSE,
    change: ChangeInput | None = None,
    comparables: list[Comparable] | None = None,
    regulations: list[str] | None = None,
) -> DraftContext:
    regs = ["gdpr:28", "ccpa:1798.100"] if regulations is None else regulations
    return DraftContext(
        clause=ClauseInput(
            uid="clause-uid-1",
            text=text,
            platform="acme",
            doc_type="privacy_policy",
            path=["Privacy Policy", "Business customers"],
        ),
        change=change,
        comparables=list(COMPARABLES if comparables is None else comparables),
        regulations=[RegulationCandidate(id=r, title=CATALOGUE[r].title, score=0.5) for r in regs],
        catalogue=CATALOGUE,
    )


def modified_change() -> ChangeInput:
    return ChangeInput(kind="modified", old_text=OLD_CLAUSE, new_text=CLAUSE)


VALID: dict[str, Any] = {
    "title": "Business API data follows a separate agreement",
    "categories": ["enterprise-data-terms", "data-retention"],
    "summary": "Business API customers' data is governed by their data processing agreement.",
    "key_point": "Protections for business data depend on a contract that is not public.",
    "interpretive_note": "The agreement's terms are not disclosed, so protections are unknown.",
    "what_this_means": "Organisations using the API should read their agreement, not this policy.",
    "excerpt_sentences": [1, 2],
    "comparisons": [
        {
            "clause_id": "cmp-otherco-1",
            "sentence": 2,
            "note": "Otherco also states that it does not train on business data.",
        }
    ],
    "regulatory_landscape": [
        {"provision_id": "gdpr:28", "relevance": "A processor contract is required."}
    ],
    "exposure": {"level": "Medium", "rationale": "The governing terms are not public."},
    "jurisdiction_flags": [{"jurisdiction": "EU/EEA", "note": "Check Article 28 terms."}],
    "contract_vendor_implications": "Procurement should obtain and review the agreement.",
    "compliance_considerations": ["Execute the agreement before sending personal data."],
}


def answer(**changes: Any) -> dict[str, Any]:
    """A valid model answer with some fields replaced (``None`` deletes a field)."""
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def with_change(**changes: Any) -> dict[str, Any]:
    return answer(
        change_summary="Adds that business terms may differ from consumer terms.", **changes
    )
