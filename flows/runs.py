"""Run records: every flow run leaves a row in ``runs`` with its outcome and summary."""

from __future__ import annotations

from typing import Any

from storage.db import session_scope
from storage.models import Run
from storage.models.base import utcnow


def start_run(flow: str) -> int:
    with session_scope() as session:
        run = Run(flow=flow, status="running")
        session.add(run)
        session.flush()
        return run.id


def finish_run(run_id: int, status: str, summary: dict[str, Any]) -> None:
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is None:
            return
        run.status = status
        run.summary = summary
        run.finished_at = utcnow()
