"""A run that hands its drafts to task workers (flows.dispatch) and the worker task that
drafts them (flows.workers), in one process under a temporary Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
from sqlalchemy import func, select

from clausewatch.core.errors import ConfigError
from clausewatch.drafting import claims
from clausewatch.flows.dispatch import check_mode
from clausewatch.flows.monitor import monitor_flow
from clausewatch.flows.workers import RUN_BATCH, draft_next
from clausewatch.llm import fake
from clausewatch.status import collect
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft, DraftClaim
from tests.flows_support import responder


def test_draft_modes_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import clausewatch.flows.prefect_server as prefect_server

    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    assert check_mode("process") == "process"  # the quick start: no Prefect server needed
    for mode in ("wait", "handoff"):
        with pytest.raises(ConfigError, match="needs PREFECT_API_URL"):
            check_mode(mode)
    with pytest.raises(ConfigError, match="unknown draft mode"):
        check_mode("threads")


def _count(model: type, *where: object) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _scheduled_draft_runs() -> int:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="draft-next")), limit=200
        )
    return sum(1 for r in runs if r.state is not None and r.state.is_scheduled())


def test_handoff_queues_the_changes_and_worker_runs_draft_each_once(
    workspace: Path, prefect_harness: str
) -> None:
    with fake.scripted(responder=responder) as llm:
        summary = monitor_flow(draft_mode="handoff")
        assert not isinstance(summary, BaseException)
        assert summary.status == "ok", summary.failures  # type: ignore[union-attr]
        queued = summary.drafts_handed_off  # type: ignore[union-attr]
        assert queued >= 8 and queued == summary.changes_pending  # type: ignore[union-attr]
        assert summary.drafts_created == summary.drafts_flagged == 0  # type: ignore[union-attr]
        assert llm.requests == []  # the run drafted nothing itself
        assert _count(DraftClaim, DraftClaim.state == "queued") == queued
        assert _scheduled_draft_runs() >= queued  # one run of draft-next per change
        with session_scope() as session:
            assert collect(session)["draft_queue"]["queued"] == queued  # clausewatch status

        # what a task worker does with the runs it receives (in this process): each drafts
        # up to RUN_BATCH changes, one claim at a time
        runs = [draft_next.fn() for _ in range(-(-queued // RUN_BATCH) + 1)]
    assert runs[-1]["drafted"] == []  # nothing left to claim
    assert [len(r["drafted"]) for r in runs[:-1]] == [
        min(RUN_BATCH, queued - i * RUN_BATCH) for i in range(len(runs) - 1)
    ]
    drafted = [d["change_id"] for r in runs for d in r["drafted"]]
    assert sorted(drafted) == sorted(c.change_id for c in _rows())
    assert _count(Draft) == queued  # one draft per change ...
    assert _count(DraftClaim, DraftClaim.state == "done") == queued
    with session_scope() as session:
        assert collect(session)["draft_queue"] == {
            "queued": 0,
            "claimed": 0,
            "expired": 0,
            "done": queued,
            "failed": 0,
        }
    with session_scope() as session:
        per_change = session.execute(
            select(Draft.change_id, func.count()).group_by(Draft.change_id)
        ).all()
        assert all(n == 1 for _, n in per_change)

    # ... and the next run finds nothing to draft or queue
    with fake.scripted(responder=responder):
        again = monitor_flow(draft_mode="handoff")
    assert again.changes_pending == again.drafts_handed_off == 0  # type: ignore[union-attr]


def _rows() -> list[DraftClaim]:
    with session_scope() as session:
        return list(session.scalars(select(DraftClaim)))


def test_a_worker_failure_goes_back_to_the_queue_when_transient(
    workspace: Path, prefect_harness: str
) -> None:
    from clausewatch.core.errors import TransientError

    with fake.scripted(responder=responder):
        summary = monitor_flow(draft_mode="handoff", max_drafts=1)
    assert summary.drafts_handed_off == 1  # type: ignore[union-attr]
    with fake.scripted([TransientError("the endpoint is down")], responder=responder):
        with pytest.raises(TransientError):
            draft_next.fn()
        (row,) = _rows()
        assert (row.state, row.attempts) == ("queued", 1)
        assert "the endpoint is down" in (row.error or "")
        (done,) = draft_next.fn()["drafted"]  # the successor run (or any worker) takes it
    (row,) = _rows()
    assert (row.state, row.attempts, row.draft_id) == ("done", 2, done["draft_id"])
    with session_scope() as session:
        assert claims.claimable_count(session) == 0
