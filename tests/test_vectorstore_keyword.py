"""BM25 keyword scoring over a small corpus."""

from __future__ import annotations

import logging

import pytest

from clausewatch.vectorstore.keyword import KeywordIndex


def test_ranks_by_shared_rare_words_and_handles_unknown_queries() -> None:
    index = KeywordIndex(
        [
            "Disputes are resolved by binding arbitration.",
            "We keep logs for thirty days.",
            "You may delete your account at any time.",
        ]
    )
    hits = index.search("binding arbitration of disputes", k=2)
    assert hits and hits[0][0] == 0
    assert index.search("zebra quantum", k=2) == []
    assert index.search("   ", k=2) == []
    assert KeywordIndex([]).search("arbitration", k=3) == []


def test_bm25s_debug_log_stays_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """bm25s sets its own logger to DEBUG on import; clausewatch's console must not show it."""
    with caplog.at_level(logging.DEBUG):
        KeywordIndex(["one clause about retention", "another about arbitration"])
    assert not [r for r in caplog.records if r.name.startswith("bm25s")]
    assert logging.getLogger("bm25s").getEffectiveLevel() >= logging.WARNING
