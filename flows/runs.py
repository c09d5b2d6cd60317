"""Run records: every flow run leaves a row in ``runs`` with its outcome and summary.

A run killed before it could record its end stays "running"; the next run of the same flow
marks it "interrupted" when its process (same host) is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from clausewatch.flows.live import DraftState, RunProgress
from clausewatch.schemas.runs import LLMUsage
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Run
from clausewatch.storage.models.base import utcnow

log = logging.getLogger(__name__)


# runs this process started and has not finished (a hard exit on a signal marks them)
_unfinished: set[int] = set()
_unfinished_lock = threading.Lock()


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
        with _unfinished_lock:
            _unfinished.add(run.id)
        return run.id


def finish_run(run_id: int, status: str, summary: dict[str, Any]) -> None:
    with _unfinished_lock:
        _unfinished.discard(run_id)
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is None:
            return
        run.status = status
        run.summary = {**(run.summary or {}), **summary}
        run.finished_at = utcnow()


def save_progress(run_id: int, snapshot: dict[str, Any]) -> None:
    """Store a running run's drafting progress in its row (``clausewatch status`` reads it)."""
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is not None:
            run.summary = {**(run.summary or {}), "progress": snapshot}


class ProgressWriter:
    """A ``RunProgress`` listener that saves snapshots: on every plan change and finished
    draft, and otherwise at most every ``interval_s`` (token counts change many times a
    second while a model generates)."""

    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, run: RunProgress, state: DraftState | None) -> None:
        now = time.monotonic()
        milestone = state is None or state.phase in ("queued", "done", "failed")
        with self._lock:
            if not milestone and now - self._last < self.interval_s:
                return
            self._last = now
        try:
            save_progress(run.run_id, run.snapshot())
        except Exception as exc:  # progress is for people; never fail a draft over it
            log.warning("could not save run progress: %s", exc)


def interrupt_unfinished(reason: str) -> None:
    """Mark this process's unfinished runs "interrupted" (before a hard exit)."""
    with _unfinished_lock:
        ids = sorted(_unfinished)
    for run_id in ids:
        failure = {"stage": "run", "item": "monitor", "reason": reason, "retryable": False}
        finish_run(run_id, "interrupted", {"status": "interrupted", "failures": [failure]})


def llm_usage_since(since: datetime) -> LLMUsage:
    """The LLM calls made since ``since`` (naive UTC) and their failures, for a run summary."""
    from clausewatch.llm.calls import failure_summary

    with session_scope() as session:
        return LLMUsage.model_validate(failure_summary(session, since))
