"""Helpers for the review tests: realistic drafts inserted directly, users, logins."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.storage.models.drafts import Draft, DraftEvent

PASSWORD = "correct horse battery"

BEFORE = (
    "If you are an enterprise customer using our API, your data is handled under our standard "
    "terms. We may retain API inputs for 30 days to monitor abuse."
)
AFTER = (
    "If you are an enterprise customer using our API, your data is handled pursuant to the "
    "data processing agreement between Nimbus and your organization. We may retain API inputs "
    "for 90 days to monitor abuse."
)

ANALYSIS: dict[str, Any] = {
    "title": "Enterprise API data now governed by a separate processing agreement",
    "categories": ["enterprise-data-terms", "data-retention"],
    "summary": (
        "Business customers of the Nimbus API are covered by a separate data processing "
        "agreement rather than the public privacy policy, and API inputs are kept for 90 days."
    ),
    "key_point": (
        "Enterprise API customers operate under different data terms than regular users, so "
        "their protections depend on the negotiated agreement."
    ),
    "interpretive_note": (
        "The terms of the data processing agreement are not public, so the actual protections "
        "cannot be assessed from the policy alone."
    ),
    "what_this_means": (
        "If your organization uses the Nimbus API, the terms that apply are those in your "
        "agreement; ask for it before sending personal data."
    ),
    "excerpt": (
        "your data is handled pursuant to the data processing agreement between Nimbus and "
        "your organization"
    ),
    "comparisons": [
        {
            "platform": "cirrus",
            "clause_id": "cirrus-privacy-7f3a",
            "excerpt": "Customer Content submitted through the API is processed under the DPA.",
            "note": "Cirrus also points business users to its DPA but publishes it.",
        }
    ],
    "regulatory_landscape": [
        {
            "provision_id": "gdpr:28",
            "title": "GDPR Art. 28 (processor)",
            "relevance": "A processor must act on documented instructions under a contract.",
        }
    ],
    "exposure": {
        "level": "Medium",
        "rationale": "The agreement is referenced but undisclosed, leaving an information gap.",
    },
    "jurisdiction_flags": [
        {"jurisdiction": "EU/EEA", "note": "The agreement must contain the Art. 28 terms."}
    ],
    "contract_vendor_implications": (
        "Procurement should obtain and review the agreement: purposes, training use, "
        "sub-processors, audit rights and deletion."
    ),
    "compliance_considerations": [
        "Execute the agreement before any personal data is processed.",
        "Request the sub-processor list and monitor it for changes.",
    ],
    "change": {
        "kind": "modified",
        "before": "We may retain API inputs for 30 days to monitor abuse.",
        "after": "We may retain API inputs for 90 days to monitor abuse.",
        "summary": "Retention of API inputs extended from 30 to 90 days.",
    },
    "provenance": {
        "model": "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "backend": "local",
        "prompt_id": "provision-analysis",
        "prompt_version": "3",
        "retrieved_provisions": ["cirrus-privacy-7f3a"],
        "retrieved_regulations": ["gdpr:28", "ccpa:1798.140"],
        "tokens_in": 1834,
        "tokens_out": 512,
        "attempts": 1,
        "latency_ms": 12840,
    },
}


def analysis(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(ANALYSIS)
    data.update(overrides)
    return ProvisionAnalysis.model_validate(data).model_dump(mode="json")


def context(before: str = BEFORE, after: str = AFTER) -> dict[str, Any]:
    """The shape drafting stores (drafting.context.DraftContext.to_record)."""
    return {
        "clause": {
            "uid": "nimbus-privacy-0001",
            "text": after,
            "path": ["Privacy Policy", "Enterprise customers"],
            "platform": "nimbus",
            "doc_type": "privacy-policy",
        },
        "change": {
            "kind": "modified",
            "before": "We may retain API inputs for 30 days to monitor abuse.",
            "after": "We may retain API inputs for 90 days to monitor abuse.",
            "old_text": before,
            "new_text": after,
        },
        "comparables": [
            {
                "platform": "cirrus",
                "doc_type": "privacy-policy",
                "clause_id": "cirrus-privacy-7f3a",
                "text": "Customer Content submitted through the API is processed under the DPA.",
                "score": 0.81,
                "version_date": 1764000000,
                "path": ["Business customers"],
            }
        ],
        "regulations": [
            {
                "id": "gdpr:28",
                "title": "Processor",
                "score": 0.74,
                "obligations": "Processing by a processor is governed by a binding contract.",
            }
        ],
        "category_hint": ["enterprise-data-terms"],
        "examples": [],
        "redraft_of": None,
        "retrieval_notes": [],
    }


def seed_draft(
    session: Session,
    *,
    platform: str = "nimbus",
    doc_type: str = "privacy-policy",
    status: str = "pending",
    data: dict[str, Any] | None = None,
    ctx: dict[str, Any] | None = None,
) -> int:
    draft = Draft(
        input_hash=uuid.uuid4().hex,
        clause_uid=f"{platform}-{uuid.uuid4().hex[:8]}",
        platform=platform,
        doc_type=doc_type,
        status=status,
        analysis=data if data is not None else analysis(),
        context=ctx if ctx is not None else context(),
        prompt_id="provision-analysis",
        prompt_version="3",
        rendered_prompt="(rendered prompt)",
        model="qwen2.5-coder-1.5b-instruct-q4_k_m",
        backend="local",
        attempts=[{"outcome": "ok"}],
        tokens_in=1834,
        tokens_out=512,
    )
    session.add(draft)
    session.flush()
    session.add(
        DraftEvent(
            draft_id=draft.id,
            actor="drafting",
            action="drafted",
            before=None,
            after=None,
            note="drafted in 1 attempt(s)",
        )
    )
    session.flush()
    return draft.id


def add_user(name: str, role: str = "editor", password: str = PASSWORD) -> None:
    from clausewatch.review.accounts import add_user as add
    from clausewatch.storage.db import session_scope

    with session_scope() as db:
        add(db, name, password, role)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = csrf_of(page.text)
    resp = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": "/queue"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text


def page_token(client: TestClient, path: str = "/queue") -> str:
    return csrf_of(client.get(path).text)


def lock_version_of(html: str) -> int:
    match = re.search(r'name="lock_version" value="(\d+)"', html)
    assert match
    return int(match.group(1))


def stub_drafting_retrieval(monkeypatch: Any) -> None:
    """Drafting's retrieval and catalogue without a vector store (as in the drafting tests)."""
    from drafting_support import CATALOGUE, COMPARABLES

    from clausewatch.drafting import service as drafting_service
    from clausewatch.drafting.retrieve import Retrieved
    from clausewatch.schemas.retrieval import RegulationCandidate

    def fake_retrieve(text: str, **_: Any) -> Retrieved:
        return Retrieved(
            comparables=list(COMPARABLES),
            regulations=[RegulationCandidate(id="gdpr:28", title="Processor", score=0.5)],
        )

    monkeypatch.setattr(drafting_service, "retrieve", fake_retrieve)
    monkeypatch.setattr(drafting_service, "load_catalogue_safely", lambda notes: dict(CATALOGUE))
    monkeypatch.setattr(drafting_service, "category_hint", lambda text, notes: [])
