"""Rows for publication tests: three fictional platforms, approved and unapproved drafts.

Policy text and analyses are written for these tests. One clause carries a ``<script>`` so that
escaping is exercised; every unapproved draft carries a marker that must appear nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from clausewatch.storage.models import Draft
from tests.publication_demo import add_change, add_document, add_draft, add_version, clause_of

HOSTILE = 'We may use your prompts <script>alert("pwned")</script> & files to "train" models.'
OLD_TEXT = "We may use your prompts to improve the service."
MIDDLE_TEXT = "We may use your prompts and files to improve the service."
QUILL_TEXT = "Quillstone never trains on customer content without opt-in consent."
HELIX_TEXT = "Helix Labs keeps conversation logs for 30 days, then deletes them."
UNAPPROVED_STATUSES = ("pending", "flagged", "rejected", "redraft_requested", "superseded")


def marker(status: str) -> str:
    return f"UNAPPROVED-{status.upper()}-MARKER"


def analysis(
    title: str,
    excerpt: str,
    *,
    categories: list[str],
    level: str = "Medium",
    text: str = "",
    comparisons: list[dict[str, str]] | None = None,
    change: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A realistic ProvisionAnalysis dump; ``text`` is mixed into every free-text field."""
    extra = f" {text}" if text else ""
    return {
        "title": title,
        "categories": categories,
        "summary": f"Summary of {title}.{extra}",
        "key_point": f"Key point: users' content may be reused <b>without</b> notice.{extra}",
        "interpretive_note": f"The policy does not say how long data is kept.{extra}",
        "what_this_means": f"If your team uses this service, review its settings.{extra}",
        "excerpt": excerpt,
        "comparisons": comparisons or [],
        "regulatory_landscape": [
            {
                "provision_id": "gdpr:6",
                "title": "GDPR Art. 6 - Lawfulness of processing",
                "relevance": f"Training needs a lawful basis.{extra}",
            },
            {
                "provision_id": "ccpa:1798.100",
                "title": "CCPA 1798.100 - Notice at collection",
                "relevance": f"New purposes need notice.{extra}",
            },
        ],
        "exposure": {"level": level, "rationale": f"Affects every consumer account.{extra}"},
        "jurisdiction_flags": [
            {"jurisdiction": "EU/EEA", "note": f"Legitimate interests test applies.{extra}"}
        ],
        "contract_vendor_implications": f"Check the DPA excludes training.{extra}",
        "compliance_considerations": [f"Turn training off for work accounts.{extra}"],
        "change": change,
        "provenance": {
            "model": "test-model",
            "backend": "fake",
            "prompt_id": "provision-analysis",
            "prompt_version": "1",
        },
    }


@dataclass
class Seeded:
    nimbus: Draft
    quill: Draft
    helix: Draft
    unapproved: list[Draft]


def seed(session: Session, approved_at: datetime = datetime(2026, 3, 4, 10, 0)) -> Seeded:
    nimbus_doc = add_document(session, "nimbus-ai", "privacy_policy", "https://nimbus.example/p")
    v1 = add_version(session, nimbus_doc, datetime(2025, 9, 2), [("n-train", OLD_TEXT)])
    v2 = add_version(session, nimbus_doc, datetime(2025, 12, 1), [("n-train", MIDDLE_TEXT)])
    v3 = add_version(session, nimbus_doc, datetime(2026, 3, 1), [("n-train", HOSTILE)])
    add_change(session, nimbus_doc, v1, v2, "n-train")
    change = add_change(
        session,
        nimbus_doc,
        v2,
        v3,
        "n-train",
        detail={
            "word_diff": [
                {"op": "equal", "text": "We may use your prompts"},
                {"op": "delete", "text": "and"},
                {"op": "insert", "text": '<script>alert("pwned")</script> &'},
                {"op": "equal", "text": "files to"},
                {"op": "delete", "text": "improve the service."},
                {"op": "insert", "text": '"train" models.'},
            ]
        },
    )
    quill_doc = add_document(session, "quillstone", "terms_of_service")
    q1 = add_version(session, quill_doc, datetime(2025, 11, 4), [("q-train", QUILL_TEXT)])
    helix_doc = add_document(session, "helix-labs", "privacy_policy")
    h1 = add_version(session, helix_doc, datetime(2025, 10, 20), [("h-keep", HELIX_TEXT)])

    nimbus = add_draft(
        session,
        doc=nimbus_doc,
        clause_uid="n-train",
        clause=clause_of(session, v3, "n-train"),
        change=change,
        decided_at=approved_at,
        analysis=analysis(
            "Nimbus AI <script>trains</script> on prompts & files",
            HOSTILE,
            categories=["training-use", "user-choice"],
            level="High",
            comparisons=[
                {
                    "platform": "quillstone",
                    "clause_id": "q-train",
                    "excerpt": QUILL_TEXT,
                    "note": "Quillstone requires opt-in.",
                },
                {
                    "platform": "helix-labs",
                    "clause_id": "h-keep",
                    "excerpt": HELIX_TEXT,
                    "note": "Helix Labs says nothing about training here.",
                },
            ],
            change={
                "kind": "modified",
                "before": MIDDLE_TEXT,
                "after": HOSTILE,
                "summary": "Training on prompts and files is now stated.",
            },
        ),
    )
    quill = add_draft(
        session,
        doc=quill_doc,
        clause_uid="q-train",
        clause=clause_of(session, q1, "q-train"),
        decided_at=approved_at.replace(hour=11),
        analysis=analysis(
            "Quillstone requires opt-in before training",
            QUILL_TEXT,
            categories=["training-use"],
            level="Low",
        ),
    )
    helix = add_draft(
        session,
        doc=helix_doc,
        clause_uid="h-keep",
        clause=clause_of(session, h1, "h-keep"),
        decided_at=approved_at.replace(hour=12),
        analysis=analysis(
            "Helix Labs deletes conversation logs after 30 days",
            HELIX_TEXT,
            categories=["data-retention"],
            level="Medium",
        ),
    )
    unapproved = []
    for status in UNAPPROVED_STATUSES:
        m = marker(status)
        unapproved.append(
            add_draft(
                session,
                doc=nimbus_doc,
                clause_uid="n-train",
                clause=clause_of(session, v3, "n-train"),
                change=change,
                status=status,
                decided_at=approved_at if status == "rejected" else None,
                analysis=analysis(
                    f"{m} title",
                    HOSTILE,
                    categories=["training-use"],
                    level="High",
                    text=m,
                ),
            )
        )
    return Seeded(nimbus=nimbus, quill=quill, helix=helix, unapproved=unapproved)


def all_text(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
