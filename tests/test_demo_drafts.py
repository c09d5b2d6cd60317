"""``clausewatch demo``: the sample's changes with analyses written by us, marked as demo
everywhere they appear, never taken for a model's draft."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.drafting.demo import DEMO_BACKEND, load_entries
from clausewatch.drafting.examples import approved_examples
from clausewatch.drafting.service import process_redrafts
from clausewatch.flows.tasks import plan_drafts
from clausewatch.llm import fake
from clausewatch.publication.catalog import load_catalog
from clausewatch.publication.dataset import DATASET_PATH, SCHEMA_PATH
from clausewatch.publication.site import render_site
from clausewatch.review import service
from clausewatch.status import collect
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Draft
from tests.flows_support import responder

runner = CliRunner()


def _demo() -> dict[str, Any]:
    result = runner.invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_demo_queues_the_sample_marked_as_demo(workspace: Path) -> None:
    first = _demo()
    assert len(first["queued"]) == len(load_entries()) == 8
    assert first["unmatched"] == []
    assert _demo() == {"queued": [], "existing": 8, "unmatched": []}  # once per change

    listed = runner.invoke(app, ["review", "list", "--json"])
    drafts = json.loads(listed.output)["drafts"]
    assert len(drafts) == 8
    assert all(d["demo"] and d["title"].startswith("[DEMO] ") for d in drafts)
    shown = runner.invoke(app, ["review", "show", str(drafts[0]["id"])])
    assert "[DEMO]" in shown.output and "(demo)" in shown.output
    with session_scope() as session:
        rows = session.scalars(select(Draft)).all()
        assert {r.backend for r in rows} == {DEMO_BACKEND}
        for row in rows:  # the excerpt is the clause, verbatim
            change = session.get(Change, row.change_id)
            assert change is not None and row.analysis is not None
            assert row.analysis["change"]["after"] in (row.analysis["excerpt"], None)
        assert collect(session)["demo_drafts"] == 8


def test_demo_drafts_are_not_real_drafts(workspace: Path) -> None:
    _demo()
    # a real run still drafts every change with the model
    assert len(plan_drafts()) == 8
    with session_scope() as session:
        for d in session.scalars(select(Draft)):
            service.approve(session, d.id, "alice")
    with session_scope() as session:
        # approved demo analyses are never shown to a model as examples
        assert approved_examples(session, "We may use your conversations to train.") == []


def test_published_demo_analyses_keep_the_mark(workspace: Path) -> None:
    _demo()
    with session_scope() as session:
        ids = list(session.scalars(select(Draft.id)))
        for draft_id in ids:
            service.approve(session, draft_id, "alice")
        # an editor's edit of the title does not remove the mark from what is published
        draft = session.get(Draft, ids[0])
        assert draft is not None and draft.analysis is not None
        session.execute(
            update(Draft)
            .where(Draft.id == ids[0])
            .values(analysis={**draft.analysis, "title": "An edited title"})
        )
    with session_scope() as session:
        files = render_site(load_catalog(session), "https://example.org/", "clausewatch")
    dataset = json.loads(files[DATASET_PATH])
    assert len(dataset["analyses"]) == 8
    assert all(a["demo"] for a in dataset["analyses"])
    assert all(a["analysis"]["title"].startswith("[DEMO] ") for a in dataset["analyses"])
    assert "demo" in json.loads(files[SCHEMA_PATH])["$defs"]["PublishedAnalysis"]["properties"]
    feeds = [files[p].decode() for p in files if p.endswith(".atom")]
    assert feeds
    for feed in feeds:  # every entry of every feed carries the mark
        assert feed.count("<entry>") == feed.count(": [DEMO] ")
    assert "[DEMO] An edited title" in feeds[0]
    pages = {p: files[p].decode() for p in files if p.endswith(".html")}
    provisions = [p for p, html in pages.items() if "<h1>[DEMO] " in html]
    assert len(provisions) == 8
    assert all('class="demo-note"' in pages[p] for p in provisions)


def test_redraft_of_a_demo_draft_never_shows_the_demo_text_to_the_model(
    workspace: Path,
) -> None:
    _demo()
    with session_scope() as session:
        draft = session.scalars(select(Draft).order_by(Draft.id)).first()
        assert draft is not None and draft.analysis is not None
        demo_summary = draft.analysis["summary"]
        service.request_redraft(session, draft.id, "alice", "Say more about opt-outs.")
    with fake.scripted(responder=responder) as llm, session_scope() as session:
        [new] = process_redrafts(session, llm=llm)
        assert new.backend != DEMO_BACKEND
        prompt = "\n".join(m["content"] for r in llm.requests for m in r.messages)
    assert demo_summary not in prompt
    assert "Say more about opt-outs." in prompt


@pytest.mark.parametrize("field", ["match", "analysis"])
def test_demo_file_is_validated(tmp_path: Path, field: str) -> None:
    from clausewatch.core.errors import ConfigError

    bad = tmp_path / "analyses.yaml"
    entry: dict[str, Any] = {
        "match": {"platform": "p", "doc_type": "d", "kind": "modified", "text": "x"},
        "analysis": {},
    }
    del entry[field]
    bad.write_text(json.dumps({"version": 1, "analyses": [entry]}))
    with pytest.raises(ConfigError):
        load_entries(bad)
