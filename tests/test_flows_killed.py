"""A run killed half way (SIGKILL) is completed by the next run, with no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clausewatch.flows.monitor import monitor_flow
from clausewatch.llm import fake
from clausewatch.storage.db import forget_engines, session_scope
from clausewatch.storage.models import Change, Clause, Draft, LLMCall, Run, Version
from tests.conftest import REPO
from tests.flows_support import CHILD_RUN, responder

MATERIAL = ("added", "removed", "modified")


def _drafts() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count(Draft.id))) or 0)


@pytest.mark.slow
def test_killed_run_is_completed_without_duplicates(
    db_workspace: Path, prefect_harness: str
) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_RUN],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if child.poll() is not None:
                pytest.fail(f"the run ended before it could be killed: {child.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                if _drafts() >= 2:
                    break
            except Exception:  # the child may still be creating the schema
                pass
            time.sleep(0.2)
        else:
            pytest.fail("no draft appeared in time")
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    forget_engines()
    killed_at = _drafts()
    with session_scope() as session:
        material = int(
            session.scalar(
                select(func.count(Change.id)).where(
                    Change.old_version_id.is_not(None), Change.kind.in_(MATERIAL)
                )
            )
            or 0
        )
        versions_before = int(session.scalar(select(func.count(Version.id))) or 0)
    assert 2 <= killed_at < material

    with fake.scripted(responder=responder) as llm:
        summary = monitor_flow()
    assert summary.status == "ok", summary.failures
    assert summary.drafts_created == material - killed_at
    assert len(llm.requests) == material - killed_at  # no LLM call repeated for done drafts

    with session_scope() as session:
        assert int(session.scalar(select(func.count(Version.id))) or 0) == versions_before == 13
        per_change = session.execute(
            select(Draft.change_id, func.count()).group_by(Draft.change_id)
        ).all()
        assert len(per_change) == material and all(n == 1 for _, n in per_change)
        dup = session.execute(
            select(Clause.version_id, Clause.position, func.count())
            .group_by(Clause.version_id, Clause.position)
            .having(func.count() > 1)
        ).all()
        assert dup == []
        ok_calls = int(
            session.scalar(select(func.count(LLMCall.id)).where(LLMCall.outcome == "ok")) or 0
        )
    assert ok_calls == material  # one successful call per draft, none twice

    with session_scope() as session:
        statuses = [r.status for r in session.scalars(select(Run).order_by(Run.id))]
    assert statuses == ["interrupted", "ok"]  # the killed run is not left "running"

    from clausewatch.vectorstore.indexing import current_entries
    from clausewatch.vectorstore.store import open_store

    with session_scope() as session:
        wanted = current_entries(session)
    assert open_store("provisions").count() == len(wanted)  # embeddings not duplicated
