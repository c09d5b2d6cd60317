"""Which changes the monitor drafts: each material change once, even when texts repeat."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from clausewatch.archive.store import get_or_create_document, record_version
from clausewatch.drafting.service import draft_change
from clausewatch.flows.tasks import pending_changes
from clausewatch.llm import fake
from clausewatch.storage.db import session_scope
from tests.flows_support import responder

OLD = "# Terms\n\n## Fees\n\nFees are charged monthly.\n\n## Law\n\nEnglish law applies.\n"
REPEATED = "You may cancel at any time by writing to us."
NEW = (
    f"# Terms\n\n## Fees\n\nFees are charged monthly.\n\n{REPEATED}\n\n"
    f"## Law\n\nEnglish law applies.\n\n{REPEATED}\n"
)


def test_identical_changes_each_get_a_draft(workspace: Path) -> None:
    with session_scope() as session:
        doc = get_or_create_document(session, "acme-ai", "terms_of_service")
        record_version(session, doc, OLD, datetime(2025, 1, 1))
        record_version(session, doc, NEW, datetime(2025, 6, 1))
    pending = pending_changes.fn()
    assert len(pending) == 2  # the same sentence added in two places
    with fake.scripted(responder=responder) as llm:
        with session_scope() as session:
            drafts = [draft_change(session, change_id) for change_id, _key in pending]
        assert len({d.id for d in drafts}) == 2  # one per change, not one shared
        calls = len(llm.requests)
        with session_scope() as session:
            again = [draft_change(session, change_id).id for change_id, _key in pending]
        assert again == [d.id for d in drafts]
        assert len(llm.requests) == calls  # redrafting the same change makes no call
    assert pending_changes.fn() == []  # nothing left for the next run


def test_history_beyond_recent_versions_is_not_queued(workspace: Path) -> None:
    with session_scope() as session:
        doc = get_or_create_document(session, "acme-ai", "privacy_policy")
        texts = [
            "# P\n\nWe keep data for 30 days.\n",
            "# P\n\nWe keep data for 60 days.\n",
            "# P\n\nWe keep data for 90 days.\n",
            "# P\n\nWe keep data for 120 days.\n",
        ]
        for month, text in enumerate(texts, start=1):
            record_version(session, doc, text, datetime(2025, month, 1))
    assert len(pending_changes.fn()) == 2  # draft_recent_versions = 2 by default
