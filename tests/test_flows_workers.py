"""Drafts fan out to Prefect task workers, on real servers: PostgreSQL, a Prefect server, a
chroma server, the S3 API server (moto) as the shared storage, two ``clausewatch worker``
processes whose scripted model takes a fixed time per call, and ``clausewatch run
--draft-mode wait``. One worker is killed (SIGKILL) half way: the other finishes its change
once the lease expires; every change gets exactly one draft."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Draft, DraftClaim
from tests.conftest import REPO, unavailable
from tests.s3_support import make_bucket, s3_objects, s3_server, use_s3
from tests.vectorstore_helpers import chroma_server

__all__ = ["s3_server"]  # a fixture used below

MATERIAL = ("added", "removed", "modified")
LEASE_S = 10
LLM_DELAY_S = 2.0

# a child that scripts the model (a fixed pause per call), then runs the real CLI
CHILD = """
import os, sys, time
from clausewatch.llm import fake
from tests.flows_support import responder
delay = float(os.environ.get("CW_TEST_LLM_DELAY", "0"))
def answer(request):
    time.sleep(delay)
    return responder(request)
fake.install(responder=answer)
from clausewatch.cli import main
sys.argv = ["clausewatch", *sys.argv[1:]]
main()
"""


@pytest.fixture
def needs_postgres() -> None:
    if not os.environ.get("CLAUSEWATCH_TEST_DATABASE_URL"):
        unavailable("needs PostgreSQL (CLAUSEWATCH_TEST_DATABASE_URL)")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], cwd=REPO, env=env, stdout=out, stderr=out
        )


def _until(check: Callable[[], bool], timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # the schema may not exist yet
            pass
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def _claims() -> list[DraftClaim]:
    with session_scope() as session:
        return list(session.scalars(select(DraftClaim)))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_workspace", ["postgres"], indirect=True)
def test_two_workers_draft_each_change_once_and_survive_a_killed_worker(
    needs_postgres: None,
    db_workspace: Path,
    prefect_harness: str,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = socket.gethostname()
    storage = f"s3://{make_bucket(s3_server)}/cw"
    use_s3(monkeypatch, s3_server, storage)  # snapshots and Prefect results in the bucket
    with chroma_server(tmp_path / "chroma") as chroma_url:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PREFECT_API_URL": prefect_harness,
            "CLAUSEWATCH_CHROMA_URL": chroma_url,
            "CLAUSEWATCH_LLM_BACKEND": "fake",
            "CLAUSEWATCH_DRAFT_LEASE_S": str(LEASE_S),
            "CLAUSEWATCH_DRAFTING_QUALITY_REASKS": "0",  # one call per draft
            "CW_TEST_LLM_DELAY": str(LLM_DELAY_S),
        }
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log", tmp_path / "run.log"]
        a = _spawn(["worker"], env, logs[0])  # each loads its models, then subscribes
        b = _spawn(["worker"], env, logs[1])
        with (tmp_path / "run.json").open("wb") as out, logs[2].open("wb") as err:
            run = subprocess.Popen(
                [sys.executable, "-c", CHILD, "run", "--draft-mode", "wait", "--json"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=err,
            )
        try:
            name_a, name_b = f"{host}-{a.pid}", f"{host}-{b.pid}"

            def a_done_and_holding() -> bool:
                rows = _claims()
                done = [r for r in rows if r.worker == name_a and r.state == "done"]
                holding = [r for r in rows if r.worker == name_a and r.state == "claimed"]
                return bool(done and holding)

            _until(a_done_and_holding, 300, "worker a to draft one change and hold another", logs)
            held = next(
                r.change_id for r in _claims() if r.worker == name_a and r.state == "claimed"
            )
            a.send_signal(signal.SIGKILL)
            a.wait()
            killed_at = time.monotonic()

            assert run.wait(timeout=300) == 0, logs[2].read_text(errors="replace")[-3000:]
            summary = json.loads((tmp_path / "run.json").read_text())
            recovered_after = time.monotonic() - killed_at
        finally:
            for proc in (a, b, run):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    with session_scope() as session:
        material = int(
            session.scalar(
                select(func.count())
                .select_from(Change)
                .where(Change.old_version_id.is_not(None), Change.kind.in_(MATERIAL))
            )
            or 0
        )
        per_change = session.execute(
            select(Draft.change_id, func.count()).group_by(Draft.change_id)
        ).all()
    rows = {r.change_id: r for r in _claims()}
    assert material >= 8
    assert summary["status"] == "ok", summary["failures"]
    assert summary["drafts_created"] + summary["drafts_flagged"] == material
    assert summary["drafts_handed_off"] == 0
    # every change drafted exactly once, nothing lost with the killed worker
    assert sorted(c for c, _ in per_change) == sorted(rows)
    assert len(rows) == material and all(n == 1 for _, n in per_change)
    assert {r.state for r in rows.values()} == {"done"}
    # both workers drafted; the change worker a held was finished by b after the lease
    assert any(r.worker == name_a for r in rows.values())
    assert any(r.worker == name_b for r in rows.values())
    assert rows[held].worker == name_b and rows[held].attempts == 2
    # the shared storage holds the run's snapshots and the workers' task results
    keys = list(s3_objects(s3_server, storage))
    assert any(k.startswith("snapshots/") for k in keys), keys[:20]
    assert sum(k.startswith("prefect/draft-next-") for k in keys) >= material, keys[:20]
    assert recovered_after >= LEASE_S - 1
