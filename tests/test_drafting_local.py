"""The real local model (Qwen2.5-Coder-1.5B behind xllamacpp) drafting two real changed
clauses end to end: retrieval on a fresh workspace, prompt, per-call schema, validation,
grounding, re-asks. Slow (minutes on 2 cores); runs in CI."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import POLICIES

from clausewatch.drafting.context import ChangeInput, ClauseInput
from clausewatch.drafting.engine import draft_analysis
from clausewatch.drafting.grounding import GroundingSources, check_grounding
from clausewatch.drafting.service import build_context
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.taxonomy import CATEGORIES
from clausewatch.storage.db import session_scope


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled model file for the whole session (it is 1.1 GB)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def local_workspace(
    workspace: Path, shared_models: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    from clausewatch.core.settings import reset_settings

    # this checks what the model writes, not how fast: a busy CI machine may need more than
    # the default per-draft budget
    monkeypatch.setenv("CLAUSEWATCH_LLM_DRAFT_BUDGET_S", "3600")
    reset_settings()
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "models").symlink_to(shared_models, target_is_directory=True)
    yield workspace


def _first_modified(doc: Path) -> tuple[ClauseInput, ChangeInput]:
    from clausewatch.clauses.align import align
    from clausewatch.clauses.segment import segment

    files = sorted(doc.glob("*.md"))
    for old_path, new_path in itertools.pairwise(files):
        old = segment(old_path.read_text(encoding="utf-8"), with_tokens=False)
        new = segment(new_path.read_text(encoding="utf-8"), with_tokens=False)
        for ch in align(old, new).changes:
            if ch.kind == "modified" and ch.old and ch.new and 150 <= len(ch.new.text) <= 1500:
                clause = ClauseInput(
                    ch.new.id, ch.new.text, doc.parent.name, doc.name, list(ch.new.path)
                )
                return clause, ChangeInput("modified", old_text=ch.old.text, new_text=ch.new.text)
    raise AssertionError(f"no modified clause in {doc}")


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize("doc", ["cursor/privacy_policy", "claude-ai/privacy_policy"])
def test_local_model_drafts_a_real_changed_clause(local_workspace: Path, doc: str) -> None:
    from clausewatch.llm.factory import get_llm

    clause, change = _first_modified(POLICIES / doc)
    with session_scope() as session:
        ctx = build_context(session, clause, change)
    llm = get_llm("local")
    try:
        out = draft_analysis(ctx, llm)
    finally:
        llm.close()
    outcomes = [a["outcome"] for a in out.attempts]
    # constrained decoding: every answer parses and fits the per-call schema
    assert not {"json", "schema"} & set(outcomes), out.attempts
    # accepted, or flagged only for quality with a valid, grounded best effort for the editor
    best = out.analysis or out.best_effort
    assert best is not None, f"no grounded answer: {out.errors} after {outcomes}"
    assert out.ok or outcomes[-1] == "quality"
    a = ProvisionAnalysis.model_validate(best.model_dump(mode="json"))
    assert a.excerpt in clause.text
    assert set(a.categories) <= set(CATEGORIES)
    assert {r.provision_id for r in a.regulatory_landscape} <= {r.id for r in ctx.regulations}
    assert a.change is not None and a.change.kind == "modified" and a.change.summary
    assert a.provenance is not None and a.provenance.backend == "local"
    assert a.provenance.tokens_out > 0
    sources = GroundingSources(
        clause_text=clause.text,
        comparables={c.clause_id: c for c in ctx.comparables},
        catalogue_ids=ctx.catalogue.keys(),
    )
    assert check_grounding(a, sources) == []
