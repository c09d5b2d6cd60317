"""Prefect results in the shared storage: a task result persisted on one machine (S3 API
server, a real Prefect server) is a cache hit on another machine with its own workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clausewatch.core.settings import reset_settings
from clausewatch.flows.results import block_name, local_results_path, shared_results
from tests.conftest import REPO
from tests.prefect_results_support import CALLS, MACHINE_B, square_flow
from tests.s3_support import s3_objects, s3_server, s3_storage  # noqa: F401  (fixtures)


def test_local_storage_keeps_results_in_the_workspace(workspace: Path) -> None:
    assert local_results_path() == workspace / "prefect"
    with shared_results() as where:
        assert where == str(workspace / "prefect")


def test_task_results_are_shared_through_s3(
    prefect_harness: str,
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    CALLS.clear()
    with shared_results() as slug:
        assert slug == f"remote-file-system/{block_name()}"
        assert square_flow(7) == 49
    assert CALLS == [7]
    stored = s3_objects(s3_server, s3_storage)
    results = [k for k in stored if k.startswith("prefect/")]
    assert results, sorted(stored)
    assert not (workspace / "prefect").exists()

    # another machine: its own workspace, the same storage URL and Prefect server
    env = {
        **os.environ,
        "CLAUSEWATCH_HOME": str(tmp_path / "machine-b"),
        "PREFECT_API_URL": prefect_harness,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("PREFECT_RESULTS_LOCAL_STORAGE_PATH", None)
    out = subprocess.run(
        [sys.executable, "-c", MACHINE_B],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    where, value, calls = out.stdout.split()[-3:]
    assert (where, value) == (slug, "49")
    assert calls == "0"  # the result machine A stored was found: not computed again

    # the block on the Prefect server holds the base path and endpoint, never the credentials
    from prefect.filesystems import RemoteFileSystem

    saved = RemoteFileSystem.load(block_name())
    assert saved.basepath == f"{s3_storage}/prefect"
    assert saved.settings == {"endpoint_url": s3_server}
    reset_settings()


@pytest.mark.slow
def test_monitoring_run_keeps_snapshots_and_draft_results_on_s3(
    prefect_harness: str,
    workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
) -> None:
    from sqlalchemy import select

    from clausewatch.flows.monitor import monitor_flow
    from clausewatch.llm import fake
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.archive import Snapshot
    from tests.flows_support import responder

    with fake.scripted(responder=responder), shared_results():
        summary = monitor_flow(max_drafts=2)
    assert not isinstance(summary, BaseException) and summary.status == "ok", summary
    drafts = summary.drafts_created + summary.drafts_flagged
    assert drafts == 2
    stored = s3_objects(s3_server, s3_storage)
    with session_scope() as session:
        shas = set(session.scalars(select(Snapshot.sha256)))
    assert {k.rsplit("/", 1)[-1] for k in stored if k.startswith("snapshots/")} == shas
    assert len([k for k in stored if k.startswith("prefect/")]) >= drafts  # one per draft
    assert not (workspace / "snapshots").exists()
