"""Full-text import: chunking per article/section, ids linked to the catalogue, incremental."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import InputError
from clausewatch.regulations.fulltext import chunk_text, classify, read_chunks
from clausewatch.regulations.index import import_fulltexts, index_catalogue, open_regulation_store
from clausewatch.regulations.search import regulation_candidates
from clausewatch.vectorstore.store import VectorStore, forget_clients
from tests.conftest import SHARED_DATA

REGS = SHARED_DATA / "regulations"
PICK = [
    "gdpr/articles/article_028.md",
    "gdpr/articles/article_060.md",  # not in the catalogue: imported, never returned
    "gdpr/recitals/recital_047.md",  # recitals are not provisions: skipped
    "eu_ai_act/articles/art50.md",
    "eprivacy_directive/articles/art5.md",
    "ccpa_cpra/statute/civ-1798.105.md",
    "ccpa_cpra/regulations_11ccr/11-ccr-7025.md",
    "eu_ai_act/articles/_meta.json",  # index files are ignored
]


@pytest.fixture
def texts(tmp_path: Path) -> Path:
    root = tmp_path / "regs"
    for rel in PICK:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REGS / rel, root / rel)
    return root


@pytest.fixture
def store(workspace: Path) -> Iterator[VectorStore]:
    forget_clients()
    yield open_regulation_store()
    forget_clients()


@pytest.mark.shared_data
def test_files_map_to_catalogue_ids(texts: Path) -> None:
    found = {classify(p, texts) for p in texts.rglob("*.md")}
    assert found == {
        ("gdpr", "gdpr:28"),
        ("gdpr", "gdpr:60"),
        None,
        ("eu-ai-act", "eu-ai-act:50"),
        ("eprivacy", "eprivacy:5"),
        ("ccpa", "ccpa:1798.105"),
        ("ccpa-regs", "ccpa-regs:7025"),
    }


@pytest.mark.shared_data
def test_chunks_are_bounded_and_keep_titles(texts: Path) -> None:
    chunks = list(read_chunks(texts, max_words=120))
    by_id: dict[str, list[str]] = {}
    for c in chunks:
        by_id.setdefault(c.provision_id, []).append(c.text)
        assert 0 < len(c.text.split()) <= 120
    assert len(by_id["gdpr:28"]) >= 5  # a long article is split
    titles = {c.provision_id: c.title for c in chunks}
    assert titles["gdpr:28"] == "Processor"
    assert titles["eu-ai-act:50"].startswith("Transparency obligations")
    assert titles["ccpa-regs:7025"] == "Opt-out Preference Signals"
    assert "Source Notes" not in " ".join(by_id["ccpa-regs:7025"])
    assert "standard contractual clauses" in " ".join(by_id["gdpr:28"])


def test_chunk_text_splits_long_paragraphs() -> None:
    paragraphs = ["one " * 250, "two three", "four " * 10]
    chunks = chunk_text(paragraphs, max_words=100)
    assert [len(c.split()) for c in chunks] == [100, 100, 62]  # the rest is packed together


@pytest.mark.shared_data
def test_import_is_incremental_and_linked(texts: Path, store: VectorStore) -> None:
    index_catalogue(store)
    catalogue_entries = store.count()
    first = import_fulltexts(texts, store=store)
    assert first.embedded > 0 and first.unchanged == 0
    assert first.unlinked == 1  # gdpr:60
    assert first.total == catalogue_entries + first.embedded
    chunks = store.get(where={"kind": "text"})
    assert {r.metadata["provision_id"] for r in chunks} >= {"gdpr:28", "ccpa-regs:7025"}
    assert all(
        r.metadata["in_catalogue"] == (r.metadata["provision_id"] != "gdpr:60") for r in chunks
    )

    again = import_fulltexts(texts, store=store)
    assert (again.embedded, again.removed, again.unchanged) == (0, 0, first.embedded)

    # dropping a file of an imported instrument removes its chunks; others stay
    (texts / "gdpr/articles/article_060.md").unlink()
    third = import_fulltexts(texts, store=store)
    assert third.embedded == 0 and third.removed > 0
    assert not store.get(where={"provision_id": "gdpr:60"})


@pytest.mark.shared_data
def test_fulltext_hits_map_to_catalogue_ids(texts: Path, store: VectorStore) -> None:
    import_fulltexts(texts, store=store)
    query = "The processor shall not engage another processor without prior written authorisation."
    ids = [c.id for c in regulation_candidates(query, k=5, store=store)]
    assert ids[0] == "gdpr:28"
    assert "gdpr:60" not in ids
    for cand in regulation_candidates(query, k=8, store=store):
        assert cand.title and cand.obligations


def test_bad_directories_are_input_errors(tmp_path: Path, store: VectorStore) -> None:
    with pytest.raises(InputError):
        import_fulltexts(tmp_path / "missing", store=store)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("nothing recognised here")
    with pytest.raises(InputError):
        import_fulltexts(tmp_path / "empty", store=store)
    bad = tmp_path / "bad" / "gdpr" / "articles"
    bad.mkdir(parents=True)
    (bad / "article_005.md").write_bytes(b"\xff\xfe\x00 not utf-8 \xff")
    with pytest.raises(InputError):
        import_fulltexts(tmp_path / "bad", store=store)


@pytest.mark.shared_data
def test_cli_import_and_search(texts: Path, workspace: Path) -> None:
    forget_clients()
    runner = CliRunner()
    out = runner.invoke(app, ["regulations", "import", str(texts)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "1 imported provisions have no catalogue entry" in out.output
    out = runner.invoke(app, ["regulations", "import", str(texts / "nope")])
    assert out.exit_code != 0
    forget_clients()


@pytest.mark.shared_data
def test_imported_full_texts_do_not_degrade_the_gold_scores(
    texts: Path, store: VectorStore
) -> None:
    from clausewatch.evals.registry import RunOptions
    from clausewatch.evals.runner import run_suite

    import_fulltexts(texts, store=store)  # the workspace's regulations collection
    report = run_suite("regulation-retrieval", RunOptions(split="dev"))
    assert report.metrics["recall@5"] >= 0.9
