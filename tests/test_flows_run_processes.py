"""``clausewatch run`` as real processes: one run at a time, signals, kill -9, exit codes.

The children install the scripted fake LLM (optionally slow, touching a marker file when a
call starts) and then run the real CLI entry point.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clausewatch.storage.db import forget_engines, session_scope
from clausewatch.storage.models import Change, Draft, Run, Version
from clausewatch.storage.runlock import holder
from tests.conftest import REPO

MATERIAL = ("added", "removed", "modified")

CLI_CHILD = """
import os, pathlib, sys, time
from clausewatch.llm import fake
from tests.flows_support import responder
delay = float(os.environ.get("CW_TEST_LLM_DELAY", "0"))
marker = os.environ.get("CW_TEST_LLM_MARKER")
def answer(request):
    if marker:
        pathlib.Path(marker).touch()
    time.sleep(delay)
    return responder(request)
fake.install(responder=answer)
from clausewatch.cli import main
sys.argv = ["clausewatch", *sys.argv[1:]]
main()
"""


class Child:
    """A ``clausewatch`` process whose stdout and stderr are collected as it runs."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI_CHILD, *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"clausewatch {self.proc.args[3:]} did not end: {self.stderr[-3000:]}")
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _env(prefect_api: str | None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    env.pop("PREFECT_API_URL", None)
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    return env


def _wait_for(check: object, timeout: float, what: str, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            pytest.fail(f"the run ended before {what}: {child.stderr[-3000:]}")
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # the child may still be creating the schema
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}: {child.stderr[-3000:]}")


def _count(model: type, *where: object) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.slow
def test_two_runs_at_once_one_waits_one_is_refused(
    db_workspace: Path, prefect_harness: str
) -> None:
    """The issue's duplicates (17 versions, 13 changes, 11 drafts) cannot happen."""
    first = Child(["run"], _env(prefect_harness, CW_TEST_LLM_DELAY="1"))
    others: list[Child] = []
    try:
        _wait_for(
            lambda: (h := holder()) is not None and h.pid == first.pid, 240, "the lock", first
        )
        refused = Child(["run", "--json"], _env(prefect_harness))
        others.append(refused)
        waiting = Child(["run", "--wait", "900", "--json"], _env(prefect_harness))
        others.append(waiting)

        assert refused.wait(120) == 4
        assert refused.stdout == ""  # --json: nothing but the JSON, and there is none
        lines = [line for line in refused.stderr.splitlines() if "another run" in line]
        assert len(lines) == 1, refused.stderr
        assert "another run is in progress since " in lines[0]
        assert f"pid {first.pid} on host " in lines[0] and "(clausewatch run)" in lines[0]
        assert first.proc.poll() is None, "the first run ended before the others came"

        assert first.wait(600) == 0, first.stderr[-3000:]
        assert waiting.wait(600) == 0, waiting.stderr[-3000:]
    finally:
        for child in [first, *others]:
            child.kill()

    # the start-up line tells the truth about PREFECT_API_URL
    assert f"Prefect server {prefect_harness} (PREFECT_API_URL)" in first.stderr
    assert "without PREFECT_API_URL" not in first.stderr + waiting.stderr
    # the waiting run came after the first: stdout is only its JSON, and it found nothing new
    second = json.loads(waiting.stdout)
    assert second["status"] == "ok"
    assert (second["new_versions"], second["imported_versions"]) == (0, 0)
    assert second["drafts_created"] + second["drafts_flagged"] == 0

    forget_engines()
    material = _count(Change, Change.old_version_id.is_not(None), Change.kind.in_(MATERIAL))
    assert _count(Version) == 13
    assert 8 <= material < 13
    assert _count(Draft) == material
    with session_scope() as session:
        per_change = session.execute(
            select(Draft.change_id, func.count()).group_by(Draft.change_id).having(func.count() > 1)
        ).all()
        statuses = [r.status for r in session.scalars(select(Run).order_by(Run.id))]
    assert per_change == []
    assert statuses == ["ok", "ok"]  # the refused run never started a run


def _interrupted_run(tmp_path: Path, prefect_api: str | None) -> tuple[Child, Path]:
    marker = tmp_path / "llm-call-started"
    child = Child(
        ["run"],
        _env(prefect_api, CW_TEST_LLM_DELAY="300", CW_TEST_LLM_MARKER=str(marker)),
    )
    return child, marker


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_an_llm_call_stops_the_run_within_seconds(
    workspace: Path, tmp_path: Path, prefect_harness: str, signum: int, code: int
) -> None:
    child, marker = _interrupted_run(tmp_path, prefect_harness)
    try:
        _wait_for(marker.exists, 300, "an LLM call", child)
        time.sleep(0.5)
        sent = time.monotonic()
        os.kill(child.pid, signum)
        assert child.wait(60) == code, child.stderr[-3000:]
        stopped_in = time.monotonic() - sent
    finally:
        child.kill()
    assert stopped_in < 15, f"took {stopped_in:.1f} s (the model call would take 300 s)"
    assert "interrupted" in child.stderr
    forget_engines()
    with session_scope() as session:
        runs = session.scalars(select(Run)).all()
    assert [r.status for r in runs] == ["interrupted"]
    assert holder() is None or holder().pid == child.pid  # type: ignore[union-attr]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie is dead, whoever reaps it


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_run_takes_its_temporary_prefect_server_along(
    workspace: Path, tmp_path: Path
) -> None:
    child, marker = _interrupted_run(tmp_path, None)
    server_pid = 0
    try:
        _wait_for(marker.exists, 400, "an LLM call", child)
        found = re.search(r"temporary Prefect server at \S+ \(pid (\d+)\)", child.stderr)
        assert found, child.stderr
        server_pid = int(found.group(1))
        assert not _gone(server_pid)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        deadline = time.monotonic() + 10
        while not _gone(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(server_pid), "the temporary Prefect server outlived its run"
    finally:
        child.kill()
        if server_pid and not _gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)
    assert "starting a temporary Prefect server (PREFECT_API_URL is not set" in child.stderr


@pytest.mark.slow
def test_the_digest_flow_uses_the_same_temporary_server(workspace: Path) -> None:
    """``flows publish`` and ``flows digest`` start our server too, not Prefect's own (which
    outlives a killed parent)."""
    child = Child(["flows", "digest"], _env(None))
    try:
        assert child.wait(600) == 0, child.stderr[-3000:]
    finally:
        child.kill()
    found = re.search(r"temporary Prefect server at \S+ \(pid (\d+)\)", child.stderr)
    assert found, child.stderr[-3000:]
    assert _gone(int(found.group(1)))  # stopped with the command
    json.loads(child.stdout)  # stdout: the digest summary alone
