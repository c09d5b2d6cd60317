"""The run lock: one run at a time per database, across real processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clausewatch.storage.runlock import RunBusyError, holder, run_lock
from tests.conftest import REPO

HOLD = """
import sys, time
from clausewatch.storage.runlock import run_lock
with run_lock(command="test holder"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[1]))
print("released", flush=True)
"""


@contextmanager
def _holder_process(hold_s: float) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(hold_s)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "locked", (line, child.stderr.read() if child.stderr else "")
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_second_process_is_refused_with_one_clear_line(db_workspace: Path) -> None:
    with _holder_process(60) as child:
        started = time.monotonic()
        with pytest.raises(RunBusyError) as busy, run_lock():
            pytest.fail("got the lock another process holds")
        assert time.monotonic() - started < 5  # no wait by default
        message = str(busy.value)
        assert "another run is in progress since " in message
        assert f"pid {child.pid} on host {socket.gethostname()}" in message
        assert "(test holder)" in message
        assert "\n" not in message


def test_a_killed_holder_does_not_block_the_next_run(db_workspace: Path) -> None:
    with _holder_process(600) as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        stale = holder()
        assert stale is not None and stale.pid == child.pid  # the row outlives its process
        with run_lock(wait_s=10):  # the lock does not: the OS / server dropped it
            mine = holder()
            assert mine is not None and mine.pid == os.getpid()
    assert holder() is None


def test_a_waiting_run_gets_the_lock_when_the_first_ends(db_workspace: Path) -> None:
    with _holder_process(3) as child:
        started = time.monotonic()
        with run_lock(wait_s=60):
            waited = time.monotonic() - started
            assert child.wait(timeout=30) == 0
        assert 1 < waited < 30
    with _holder_process(60), pytest.raises(RunBusyError) as busy, run_lock(wait_s=1.5):
        pass
    assert "waited 2 s" in str(busy.value) or "waited 1 s" in str(busy.value)


def test_the_lock_is_reentrant_in_one_process(db_workspace: Path) -> None:
    with run_lock(command="outer"), run_lock(command="inner"):
        row = holder()
        assert row is not None and row.command == "outer"
    assert holder() is None


def test_the_errors_in_prefect_states_survive_pickling() -> None:
    """They are the data of FAILED states ("Busy", "Partial"), which Prefect may persist."""
    import pickle
    from datetime import datetime

    from clausewatch.flows.monitor import RunIncomplete
    from clausewatch.schemas.runs import Failure, RunSummary
    from clausewatch.storage.runlock import Holder

    busy = RunBusyError(Holder(pid=7, host="h", since=datetime(2026, 12, 2, 6, 0)), 2.0)
    again = pickle.loads(pickle.dumps(busy))
    assert str(again) == str(busy) and again.holder == busy.holder
    summary = RunSummary(
        run_id=3, status="partial", failures=[Failure(stage="draft", item="change 1", reason="x")]
    )
    incomplete = pickle.loads(pickle.dumps(RunIncomplete(summary)))
    assert incomplete.summary == summary and "partial" in str(incomplete)


def test_track_and_import_wait_for_a_run_in_progress(workspace: Path, tmp_path: Path) -> None:
    """Everything that records versions takes the lock, not only ``run``."""
    from typer.testing import CliRunner

    from clausewatch.cli import app

    history = tmp_path / "history" / "acme" / "privacy_policy"
    history.mkdir(parents=True)
    (history / "2026-01-01.md").write_text("# Privacy\n\nWe keep nothing.\n")
    with _holder_process(60):
        for args in (["track"], ["import", str(tmp_path / "history")]):
            result = CliRunner().invoke(app, args)
            assert isinstance(result.exception, RunBusyError), (args, result.output)
    assert CliRunner().invoke(app, ["import", str(tmp_path / "history")]).exit_code == 0
