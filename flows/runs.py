"""Run records: every flow run leaves a row in ``runs`` with its outcome and summary.

A run killed before it could record its end stays "running"; the next run of the same flow
marks it "interrupted" when its process (same host) is gone.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy import select

from storage.db import session_scope
from storage.models import Run
from storage.models.base import utcnow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_run(flow: str) -> int:
    host, pid = socket.gethostname(), os.getpid()
    with session_scope() as session:
        for stale in session.scalars(select(Run).where(Run.flow == flow, Run.status == "running")):
            owner = stale.summary or {}
            if owner.get("host") == host and not _alive(int(owner.get("pid", 0)) or -1):
                stale.status = "interrupted"
                stale.finished_at = utcnow()
        run = Run(flow=flow, status="running", summary={"host": host, "pid": pid})
        session.add(run)
        session.flush()
        return run.id


def finish_run(run_id: int, status: str, summary: dict[str, Any]) -> None:
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is None:
            return
        run.status = status
        run.summary = {**(run.summary or {}), **summary}
        run.finished_at = utcnow()
