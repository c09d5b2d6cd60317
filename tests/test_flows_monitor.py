"""The monitoring flow on the shipped sample, under a temporary Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import clausewatch.archive.track
from clausewatch.core.settings import SAMPLE_SOURCES
from clausewatch.flows.monitor import RunIncomplete, monitor_flow, run_monitor
from clausewatch.llm import fake
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Clause, Draft, LLMCall, Run, Version
from clausewatch.vectorstore.store import ChromaVectorStore
from tests.flows_support import responder
from tests.wall_pages import cloudflare_challenge

pytestmark = pytest.mark.usefixtures("prefect_harness")

MATERIAL = ("added", "removed", "modified")
SAMPLE_HISTORY = SAMPLE_SOURCES.parent / "history"


def _count(model: type, *where: object) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _material_changes() -> int:
    return _count(Change, Change.old_version_id.is_not(None), Change.kind.in_(MATERIAL))


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("work done on an unchanged rerun")


def test_sample_two_runs_draft_once(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake.scripted(responder=responder) as llm:
        first = monitor_flow()
        calls_after_first = len(llm.requests)
        assert first.status == "ok", first.failures
        assert first.imported_versions == 7  # the sample's dated history
        assert first.new_versions == 6  # every live page differs from its history
        assert first.embedded > 0
        material = _material_changes()
        # the sample's realistic edits: training, retention, DPA, arbitration, unilateral
        # change, liability cap, retention number; the cosmetic-only page adds none
        assert material >= 8
        assert first.drafts_created + first.drafts_flagged == material
        assert _count(Draft) == material
        assert calls_after_first >= material

        # nothing changed: no page is normalised again, no vector-store entry is read
        monkeypatch.setattr(clausewatch.archive.track, "page_markdown", _refuse)
        monkeypatch.setattr(ChromaVectorStore, "get", _refuse)
        second = monitor_flow()
        assert second.status == "ok", second.failures
        assert (second.new_versions, second.imported_versions) == (0, 0)
        assert second.unchanged == 6
        assert second.embedded == 0
        assert second.changes_pending == 0
        assert len(llm.requests) == calls_after_first  # no LLM call on an unchanged rerun
    assert _count(Draft) == material
    assert _count(Version) == 13
    with session_scope() as session:
        runs = session.scalars(select(Run).order_by(Run.id)).all()
        assert [r.status for r in runs] == ["ok", "ok"]
        assert runs[1].summary["embedded"] == 0


def test_cosmetic_page_records_version_without_changes(workspace: Path) -> None:
    with fake.scripted(responder=responder):
        monitor_flow()
    with session_scope() as session:
        from clausewatch.storage.models import Document

        doc = session.scalars(
            select(Document).where(
                Document.platform == "helix-labs", Document.doc_type == "terms_of_service"
            )
        ).one()
        versions = session.scalars(select(Version).where(Version.document_id == doc.id)).all()
        changes = session.scalars(select(Change).where(Change.document_id == doc.id)).all()
    assert len(versions) == 2
    assert [c.kind for c in changes if c.old_version_id is not None] == []


def test_failed_source_is_recorded_and_others_go_on(workspace: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.html"
    junk.write_bytes(b"\x00\x01\x02\xff" * 200)  # binary junk: a recorded failure
    sources = tmp_path / "sources.yaml"
    good = tmp_path / "privacy.html"  # file sources lie in the declarations file's folder
    good.write_bytes((SAMPLE_HISTORY.parent / "live" / "helix-labs" / "privacy.html").read_bytes())
    # a bot wall: a failure too, never a version
    (tmp_path / "wall.html").write_bytes(cloudflare_challenge())
    # the nimbus policy shrunk to a stub: held as suspect (no version, no draft) until seen again
    (tmp_path / "stub.md").write_text("# Nimbus AI Privacy Policy\n\nComing back shortly.\n")
    sources.write_text(
        "sources:\n"
        f"  - platform: helix-labs\n    doc_type: privacy_policy\n    url: {good.as_uri()}\n"
        f"  - platform: gone-ai\n    doc_type: privacy_policy\n"
        f"    url: {junk.as_uri()}\n"
        f"  - platform: walled-ai\n    doc_type: terms_of_service\n"
        f"    url: {(tmp_path / 'wall.html').as_uri()}\n"
        f"  - platform: nimbus-ai\n    doc_type: privacy_policy\n"
        f"    url: {(tmp_path / 'stub.md').as_uri()}\n"
    )
    with fake.scripted(responder=responder):
        summary = run_monitor(sources_file=str(sources), history_dir=str(SAMPLE_HISTORY))
    assert summary.status == "partial"
    assert [f.item for f in summary.failures] == [
        "gone-ai/privacy_policy",
        "walled-ai/terms_of_service",
    ]
    assert "Cloudflare challenge" in summary.failures[1].reason
    assert summary.new_versions == 1 and summary.suspect == 1
    # nimbus history (training, retention) and helix retention 30 -> 90 days
    assert summary.drafts_created + summary.drafts_flagged == _material_changes() >= 3


def test_llm_failure_on_one_change_does_not_stop_the_others(workspace: Path) -> None:
    from clausewatch.core.errors import InputError

    seen: list[str] = []

    def flaky(request):  # type: ignore[no-untyped-def]
        text = request.messages[-1]["content"]
        if "binding individual arbitration" in text and not seen:
            seen.append("boom")
            raise InputError("the model refused this clause")
        return responder(request)

    with fake.scripted(responder=flaky):
        state = monitor_flow(return_state=True)
    # a partial run is not COMPLETED in Prefect: FAILED, named so, the summary inside
    assert state.is_failed() and state.name == "Partial"
    incomplete = state.result(raise_on_failure=False)
    assert isinstance(incomplete, RunIncomplete)
    summary = incomplete.summary
    assert summary.status == "partial"
    assert len(summary.failures) == 1 and summary.failures[0].stage == "draft"
    # the summary says how many LLM calls failed and why
    assert summary.llm.failed == 1 and summary.llm.calls >= _material_changes()
    assert summary.llm.last_error is not None and "refused this clause" in summary.llm.last_error
    assert _count(Draft) == _material_changes() - 1
    with fake.scripted(responder=responder):
        ok_state = monitor_flow(return_state=True)  # the next run completes what failed
    assert ok_state.is_completed()
    again = ok_state.result()
    assert again.status == "ok" and again.llm.failed == 0
    assert again.drafts_created == 1
    assert _count(Draft) == _material_changes()
    assert _count(LLMCall, LLMCall.outcome == "ok") >= _material_changes()
    # no duplicates anywhere
    with session_scope() as session:
        dup = session.execute(
            select(Clause.version_id, Clause.position, func.count())
            .group_by(Clause.version_id, Clause.position)
            .having(func.count() > 1)
        ).all()
    assert dup == []
