"""Running the drafting stage's redraft processing (requested redrafts -> new drafts)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from clausewatch.core.errors import ConfigError

log = logging.getLogger(__name__)
_lock = threading.Lock()
_again = threading.Event()


def run_redrafts() -> Any:
    """Call ``drafting.service.process_redrafts`` once; returns whatever it returns."""
    try:
        from clausewatch.drafting.service import process_redrafts
    except ImportError as exc:
        raise ConfigError(f"the drafting stage is not available ({exc})") from None
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        return process_redrafts(session, llm=None)


def run_redrafts_in_background() -> None:
    """For the web app: one runner at a time; a request during a run triggers one more run."""
    _again.set()
    if not _lock.acquire(blocking=False):
        return
    try:
        while _again.is_set():
            _again.clear()
            try:
                result = run_redrafts()
                log.info("redrafts processed: %s", result)
            except Exception:
                log.exception("processing redraft requests failed; they stay queued")
    finally:
        _lock.release()
