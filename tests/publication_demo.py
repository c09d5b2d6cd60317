"""Fixture rows for tests, benchmarks and the README screenshot (``scripts/screenshot.py``):
documents, versions, clauses, changes and drafts. Not part of the installed package.

Everything in :func:`seed_demo` is written by the clausewatch team about fictional platforms
(Nimbus AI, Quillstone, Helix Labs); none of it quotes a real policy.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.clauses.worddiff import word_diff
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.storage.models import Change, Clause, Document, Draft, Version


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_document(
    session: Session, platform: str, doc_type: str, url: str | None = None
) -> Document:
    doc = session.scalar(
        select(Document).where(Document.platform == platform, Document.doc_type == doc_type)
    )
    if doc is None:
        doc = Document(platform=platform, doc_type=doc_type, url=url)
        session.add(doc)
        session.flush()
    return doc


def add_version(
    session: Session,
    doc: Document,
    when: datetime,
    clauses: list[tuple[str, str]],
    heading: str = "Privacy policy",
) -> Version:
    """A version made of ``(uid, text)`` clauses, in order."""
    markdown = "\n\n".join(text for _, text in clauses)
    version = Version(
        document_id=doc.id,
        version_date=when,
        text_sha256=_sha(markdown + when.isoformat()),
        markdown=markdown,
        source="import",
    )
    session.add(version)
    session.flush()
    for position, (uid, text) in enumerate(clauses):
        session.add(
            Clause(
                version_id=version.id,
                position=position,
                uid=uid,
                path=[heading],
                text=text,
                text_sha256=_sha(text),
                tokens=len(text.split()),
            )
        )
    session.flush()
    return version


def clause_of(session: Session, version: Version, uid: str) -> Clause:
    clause = session.scalar(
        select(Clause).where(Clause.version_id == version.id, Clause.uid == uid)
    )
    if clause is None:
        raise KeyError(f"clause {uid} not in version {version.id}")
    return clause


def add_change(
    session: Session,
    doc: Document,
    old: Version | None,
    new: Version,
    uid: str,
    kind: str = "modified",
    detail: dict[str, Any] | None = None,
) -> Change:
    old_clause = clause_of(session, old, uid) if old is not None and kind != "added" else None
    new_clause = clause_of(session, new, uid) if kind != "removed" else None
    change = Change(
        document_id=doc.id,
        old_version_id=old.id if old is not None else None,
        new_version_id=new.id,
        kind=kind,
        clause_uid=uid,
        old_clause_id=old_clause.id if old_clause else None,
        new_clause_id=new_clause.id if new_clause else None,
        similarity=0.8 if kind == "modified" else None,
        detail=detail
        if detail is not None
        else (
            {"word_diff": [op.model_dump() for op in word_diff(old_clause.text, new_clause.text)]}
            if old_clause is not None and new_clause is not None
            else {}
        ),
    )
    session.add(change)
    session.flush()
    return change


def add_draft(
    session: Session,
    *,
    doc: Document,
    clause_uid: str,
    analysis: ProvisionAnalysis | dict[str, Any],
    status: str = "approved",
    decided_at: datetime | None = None,
    clause: Clause | None = None,
    change: Change | None = None,
) -> Draft:
    """A draft as review leaves it; ``analysis`` is validated against ProvisionAnalysis."""
    model = ProvisionAnalysis.model_validate(analysis)
    dumped = model.model_dump(mode="json")
    draft = Draft(
        input_hash=_sha(f"{doc.id}:{clause_uid}:{dumped}:{status}:{decided_at}"),
        change_id=change.id if change else None,
        clause_id=clause.id if clause else None,
        clause_uid=clause_uid,
        platform=doc.platform,
        doc_type=doc.doc_type,
        status=status,
        analysis=dumped,
        context={},
        prompt_id="provision-analysis",
        prompt_version="1",
        rendered_prompt="(demo)",
        model="demo",
        backend="fake",
        decided_by="editor" if status in {"approved", "rejected"} else None,
        decided_at=decided_at,
    )
    session.add(draft)
    session.flush()
    return draft


NIMBUS_OLD = (
    "When you use Nimbus Assist, we may use your prompts and the responses you receive to "
    "improve our services. You can ask us to stop by contacting support."
)
NIMBUS_NEW = (
    "When you use Nimbus Assist, we use your prompts, uploaded files and the responses you "
    'receive to train and improve our models, unless you turn off "Help improve Nimbus" in '
    "Settings. Business and API customers are covered by their data processing agreement "
    "instead."
)
QUILL_TRAINING = (
    "We do not use the content you submit to Quillstone to train our models unless you "
    "explicitly opt in to the research programme."
)
HELIX_TRAINING = (
    "Helix Labs may use de-identified conversation data to improve model quality; enterprise "
    "workspaces are excluded by default."
)


def demo_analysis() -> ProvisionAnalysis:
    """The analysis shown in docs/provision-page.png (written by us, fictional platform)."""
    return ProvisionAnalysis.model_validate(
        {
            "title": "Nimbus AI now trains its models on your prompts and files by default",
            "categories": ["training-use", "user-choice", "enterprise-data-terms"],
            "summary": (
                "Nimbus AI changed its privacy policy so that prompts, uploaded files and "
                "responses are used to train its models unless you switch the setting off. "
                "The previous version only mentioned improving services and required "
                "contacting support to stop."
            ),
            "key_point": (
                "Training on consumer content is now on by default, with an in-product "
                "opt-out; business and API customers are governed by their data processing "
                "agreement instead."
            ),
            "interpretive_note": (
                "The policy does not say whether opting out applies to content already used "
                "for training, nor how long training data is kept, so the reach of the "
                "opt-out cannot be assessed from this text alone."
            ),
            "what_this_means": (
                "If you or your staff use Nimbus Assist on a personal or free account, assume "
                "that anything you type or upload can be used for training unless the "
                '"Help improve Nimbus" setting is off. Organisations should check which '
                "accounts are covered by a business agreement."
            ),
            "excerpt": NIMBUS_NEW,
            "comparisons": [
                {
                    "platform": "quillstone",
                    "clause_id": "quill-training",
                    "excerpt": QUILL_TRAINING,
                    "note": "Quillstone takes the opposite default: training requires opt-in.",
                },
                {
                    "platform": "helix-labs",
                    "clause_id": "helix-training",
                    "excerpt": HELIX_TRAINING,
                    "note": "Helix Labs trains on de-identified data and excludes enterprise "
                    "workspaces by default.",
                },
            ],
            "regulatory_landscape": [
                {
                    "provision_id": "gdpr:6",
                    "title": "GDPR Art. 6 - Lawfulness of processing",
                    "relevance": "Training on user content needs a lawful basis; an opt-out "
                    "model usually relies on legitimate interests, which requires a balancing "
                    "test.",
                },
                {
                    "provision_id": "gdpr:21",
                    "title": "GDPR Art. 21 - Right to object",
                    "relevance": "Users in the EU/EEA can object to processing based on "
                    "legitimate interests; the settings toggle is the practical route.",
                },
                {
                    "provision_id": "ccpa:1798.100",
                    "title": "CCPA/CPRA 1798.100 - Notice at collection",
                    "relevance": "A new purpose (model training) must be disclosed at or "
                    "before collection to California consumers.",
                },
            ],
            "exposure": {
                "level": "High",
                "rationale": "A default change in how user content is used for training "
                "affects every consumer account and any staff using personal accounts for "
                "work.",
            },
            "jurisdiction_flags": [
                {
                    "jurisdiction": "EU/EEA",
                    "note": "Opt-out training on personal data is under active scrutiny by "
                    "data protection authorities.",
                },
                {
                    "jurisdiction": "California",
                    "note": "Check that the notice at collection names training as a purpose.",
                },
            ],
            "contract_vendor_implications": (
                "Procurement teams should confirm that business accounts are on the data "
                "processing agreement, that it excludes training on customer content, and "
                "that staff cannot use personal Nimbus accounts for company data."
            ),
            "compliance_considerations": [
                'Turn off "Help improve Nimbus" on accounts used for work.',
                "Update the acceptable-use guidance for generative AI tools.",
                "Record the change in the vendor risk register and re-review the DPA.",
            ],
            "change": {
                "kind": "modified",
                "before": NIMBUS_OLD,
                "after": NIMBUS_NEW,
                "summary": "Training on prompts and files becomes the default, with an "
                "in-product opt-out.",
            },
            "provenance": {
                "model": "qwen2.5-coder-1.5b-instruct",
                "backend": "local",
                "prompt_id": "provision-analysis",
                "prompt_version": "1",
            },
        }
    )


def _short_analysis(
    title: str,
    excerpt: str,
    categories: list[str],
    level: str,
    key_point: str,
    summary: str,
) -> ProvisionAnalysis:
    return ProvisionAnalysis.model_validate(
        {
            "title": title,
            "categories": categories,
            "summary": summary,
            "key_point": key_point,
            "interpretive_note": "The clause does not define the programme's scope or how "
            "long research data is kept.",
            "what_this_means": "Check the account settings of everyone who uses the service "
            "for work.",
            "excerpt": excerpt,
            "regulatory_landscape": [
                {
                    "provision_id": "gdpr:7",
                    "title": "GDPR Art. 7 - Conditions for consent",
                    "relevance": "Opt-in consent must be freely given and as easy to "
                    "withdraw as to give.",
                }
            ],
            "exposure": {
                "level": level,
                "rationale": "The default protects users; the exceptions are narrow.",
            },
            "jurisdiction_flags": [],
            "contract_vendor_implications": "Confirm that enterprise terms match the public "
            "policy.",
            "compliance_considerations": ["Record the opt-in state of work accounts."],
        }
    )


def seed_demo(session: Session) -> list[Draft]:
    """Three fictional platforms, a changed Nimbus AI clause and three approved analyses."""
    nimbus = add_document(session, "nimbus-ai", "privacy_policy")
    v1 = add_version(
        session, nimbus, datetime(2025, 9, 2), [("nimbus-training", NIMBUS_OLD)], "Your content"
    )
    v2 = add_version(
        session, nimbus, datetime(2026, 2, 16), [("nimbus-training", NIMBUS_NEW)], "Your content"
    )
    change = add_change(session, nimbus, v1, v2, "nimbus-training")
    quill = add_document(session, "quillstone", "privacy_policy")
    q1 = add_version(session, quill, datetime(2025, 11, 4), [("quill-training", QUILL_TRAINING)])
    helix = add_document(session, "helix-labs", "privacy_policy")
    h1 = add_version(session, helix, datetime(2025, 10, 20), [("helix-training", HELIX_TRAINING)])
    others = [
        add_draft(
            session,
            doc=quill,
            clause_uid="quill-training",
            clause=clause_of(session, q1, "quill-training"),
            decided_at=datetime(2025, 11, 6, 14, 0),
            analysis=_short_analysis(
                "Quillstone trains on your content only if you opt in",
                QUILL_TRAINING,
                ["training-use", "user-choice"],
                "Low",
                "Training on submitted content requires an explicit opt-in.",
                "Quillstone does not train its models on what you submit unless you join its "
                "research programme.",
            ),
        ),
        add_draft(
            session,
            doc=helix,
            clause_uid="helix-training",
            clause=clause_of(session, h1, "helix-training"),
            decided_at=datetime(2025, 10, 22, 9, 0),
            analysis=_short_analysis(
                "Helix Labs improves models with de-identified conversations",
                HELIX_TRAINING,
                ["training-use", "enterprise-data-terms"],
                "Medium",
                "Consumer conversations are used after de-identification; enterprise "
                "workspaces are excluded by default.",
                "Helix Labs may use de-identified conversation data to improve its models, "
                "except in enterprise workspaces.",
            ),
        ),
    ]
    draft = add_draft(
        session,
        doc=nimbus,
        clause_uid="nimbus-training",
        analysis=demo_analysis(),
        decided_at=datetime(2026, 2, 17, 9, 30),
        clause=clause_of(session, v2, "nimbus-training"),
        change=change,
    )
    return [draft, *others]
