"""Comparable provisions on real policies: on unambiguous topics the top comparables from other
platforms are on the same topic (arbitration, retention, training on user content, children)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from clausewatch.storage.db import session_scope
from clausewatch.vectorstore.indexing import index_provisions
from clausewatch.vectorstore.retrieval import similar_provisions
from clausewatch.vectorstore.store import forget_clients
from tests.conftest import POLICIES

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

PLATFORMS = [
    "claude-ai", "codeium", "cursor", "hugging-face", "midjourney", "openrouter", "perplexity",
    "xai",
]  # fmt: skip

# (topic, platform and document the query clause comes from, what picks the query clause,
#  what a comparable on the same topic must mention)
TOPICS = [
    ("arbitration", "midjourney", "terms_of_service", r"binding arbitration",
     r"arbitrat|class action|class-action"),
    ("retention", "claude-ai", "privacy_policy", r"\bretain",
     r"retain|retention|delet|kept|keep|stor"),
    ("training", "claude-ai", "privacy_policy", r"Inputs and Outputs to train",
     r"train|improv|machine learning|model"),
    ("children", "xai", "privacy_policy", r"(?i)child",
     r"(?i)child|minor|under (the age of )?1[3-8]|age of 1[3-8]|years of age|parent"),
]  # fmt: skip


def _latest(platform: str, doc_type: str) -> Path:
    return sorted((POLICIES / platform / doc_type).glob("*.md"))[-1]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The latest version of both documents of eight real platforms, recorded and indexed."""
    from clausewatch.archive.store import get_or_create_document, record_version
    from clausewatch.core.settings import reset_settings
    from clausewatch.storage.db import forget_engines

    home = tmp_path_factory.mktemp("comparables-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLAUSEWATCH_HOME", str(home))
    mp.delenv("CLAUSEWATCH_DATABASE_URL", raising=False)
    mp.delenv("CLAUSEWATCH_CHROMA_URL", raising=False)
    reset_settings()
    forget_engines()
    forget_clients()
    with session_scope() as session:
        for platform in PLATFORMS:
            for doc_type in ("privacy_policy", "terms_of_service"):
                path = _latest(platform, doc_type)
                doc = get_or_create_document(session, platform, doc_type)
                date = datetime.fromisoformat(path.stem)
                record_version(session, doc, path.read_text(encoding="utf-8"), date)
    with session_scope() as session:
        report = index_provisions(session)
    assert report.embedded > 500
    yield home
    forget_clients()
    forget_engines()
    mp.undo()
    reset_settings()


def _query_clause(platform: str, doc_type: str, pick: str) -> str:
    from clausewatch.clauses.segment import segment

    clauses = segment(_latest(platform, doc_type).read_text(encoding="utf-8"), with_tokens=False)
    matching = [c.text for c in clauses if re.search(pick, c.text) and len(c.text.split()) >= 12]
    assert matching, f"no clause matching {pick!r} in {platform}/{doc_type}"
    return min(matching, key=len)


@pytest.mark.parametrize(("topic", "platform", "doc_type", "pick", "expect"), TOPICS)
def test_top_comparables_are_on_the_same_topic(
    indexed: Path, topic: str, platform: str, doc_type: str, pick: str, expect: str
) -> None:
    query = _query_clause(platform, doc_type, pick)
    results = similar_provisions(query, exclude_platform=platform, k=3, per_platform=1)
    assert len(results) == 3
    assert all(r.platform != platform for r in results)
    assert len({r.platform for r in results}) == 3
    on_topic = [r for r in results if re.search(expect, r.text, flags=re.IGNORECASE)]
    assert len(on_topic) >= 2, f"{topic}: {[(r.platform, r.text[:120]) for r in results]}"
    assert re.search(expect, results[0].text, flags=re.IGNORECASE), topic


def test_an_off_topic_expectation_fails(indexed: Path) -> None:
    """The check above can fail: arbitration comparables do not read as children clauses."""
    query = _query_clause("midjourney", "terms_of_service", r"binding arbitration")
    results = similar_provisions(query, exclude_platform="midjourney", k=3, per_platform=1)
    children = r"(?i)\bchild|\bminor"
    assert sum(1 for r in results if re.search(children, r.text)) < 2
