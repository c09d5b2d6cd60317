"""The bundled 'ai-platforms' list against the shared data: it is the conversion of the
watch-list, and its platform ids line up with the history ``clausewatch import`` backfills."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

from clausewatch.archive.selection import bundled_lists, load_selection
from tests.conftest import POLICIES, REPO, SHARED_DATA

WATCHLIST = SHARED_DATA / "watchlist" / "genai-services.json"

pytestmark = pytest.mark.shared_data


def _converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "watchlist_convert", REPO / "scripts" / "watchlist_convert.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_file_is_the_conversion_of_the_watch_list() -> None:
    convert = _converter()
    data = json.loads(WATCHLIST.read_text(encoding="utf-8"))
    shipped = bundled_lists()["ai-platforms"].read_text(encoding="utf-8")
    assert convert.render_yaml(data) == shipped
    assert convert.main(["--input", str(WATCHLIST), "--check"]) == 0
    assert "Open Terms Archive contributors" in shipped
    # every page of the watch-list is declared, in order, with its selectors and JS flag
    pages = [
        (p["url"], p["select"], p["remove"], p["needs_javascript"])
        for s in data["services"]
        for parts in s["terms"].values()
        for p in parts
    ]
    declared = [
        (p.url, p.select, p.remove, p.render)
        for d in load_selection(["ai-platforms"])
        for p in d.fetch_parts
    ]
    assert declared == pages and len(pages) == 174


def test_platform_ids_line_up_with_the_imported_history() -> None:
    history = {
        (platform.name, doc_type.name)
        for platform in POLICIES.iterdir()
        if platform.is_dir()
        for doc_type in platform.iterdir()
        if doc_type.is_dir()
    }
    declared = {(s.platform, s.doc_type) for s in load_selection(["ai-platforms"])}
    platforms = {p for p, _ in history}
    assert len(platforms) == 23 and len(history) == 45
    assert platforms <= {p for p, _ in declared}  # all 23 services overlap
    assert history <= declared  # and every one of their 45 documents
    assert {"mistral-ai", "xai", "claude-ai", "microsoft-copilot"} <= platforms


def test_imported_history_is_the_same_document_as_live_watching(db_workspace: Path) -> None:
    """Backfill xAI's history, then the bundled declaration of Grok's privacy policy tracks
    the same document (no second 'grok' document)."""
    from clausewatch.archive.importer import import_tree
    from clausewatch.archive.store import get_or_create_document
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.archive import Document

    tree = db_workspace.parent / "history"
    target = tree / "xai" / "privacy_policy"
    target.mkdir(parents=True)
    first = sorted((POLICIES / "xai" / "privacy_policy").glob("*.md"))[0]
    (target / first.name).write_bytes(first.read_bytes())
    assert import_tree(tree).added == 1
    decl = next(s for s in load_selection(["ai-platforms"]) if s.key == "xai/privacy_policy")
    with session_scope() as s:
        doc = get_or_create_document(s, decl.platform, decl.doc_type, decl.url)
        assert len(doc.versions) == 1 and doc.versions[0].version_date < datetime(2026, 1, 1)
        assert s.query(Document).count() == 1
