"""The publish and digest flows over a monitored sample with one approved analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from clausewatch.flows.monitor import monitor_flow
from clausewatch.flows.publish import digest_flow, publish_flow
from clausewatch.llm import fake
from clausewatch.review.service import approve, edit_draft
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft, Run
from tests.flows_support import responder

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_publish_flow_builds_only_approved_and_rebuild_writes_nothing(
    workspace: Path, tmp_path: Path
) -> None:
    with fake.scripted(responder=responder):
        monitor_flow()
    with session_scope() as session:
        drafts = session.scalars(select(Draft).order_by(Draft.id)).all()
        chosen = drafts[0]
        assert len(drafts) > 1
        title = "Nimbus may now train on your conversations"
        edit_draft(session, chosen.id, {"title": title}, chosen.lock_version, actor="editor")
        approve(session, chosen.id, actor="editor")
    out = tmp_path / "site"
    first = publish_flow(out_dir=str(out))
    assert first["site"]["written"] > 0
    assert first["alerts"]["sent"] == 0  # nobody subscribed
    dataset = json.loads(next(out.rglob("dataset*.json")).read_text())
    assert [a["analysis"]["title"] for a in dataset["analyses"]] == [title]  # approved only
    assert any(title in p.read_text() for p in out.rglob("*.html"))
    again = publish_flow(out_dir=str(out))
    assert again["site"]["written"] == 0  # an unchanged rebuild rewrites nothing

    digest = digest_flow()
    assert digest["digest"]["failed"] == 0
    with session_scope() as session:
        flows = [(r.flow, r.status) for r in session.scalars(select(Run).order_by(Run.id))]
    assert flows == [("monitor", "ok"), ("publish", "ok"), ("publish", "ok"), ("digest", "ok")]
