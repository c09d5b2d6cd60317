"""prefect.yaml and ``clausewatch deploy`` against a real (temporary) Prefect server."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
ORIGIN_BRANCH = "release"


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _checkout(tmp_path: Path, origin: bool = True) -> tuple[Path, Path]:
    """A git checkout holding the repository's prefect.yaml, pushed to a bare ``origin``."""
    bare = tmp_path / "origin.git"
    work = tmp_path / "checkout"
    work.mkdir()
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(work, "init", "-q", "-b", ORIGIN_BRANCH)
    for name in ("prefect.yaml", "requirements.txt"):
        shutil.copy(REPO / name, work / name)
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "deployments")
    if origin:
        _git(work, "remote", "add", "origin", str(bare))
        _git(work, "push", "-q", "origin", ORIGIN_BRANCH)
    return work, bare


def _deploy(work: Path, api: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "clausewatch", "deploy", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_prefect_file_declares_monitor_publish_and_digest() -> None:
    data = yaml.safe_load((REPO / "prefect.yaml").read_text())
    by_name = {d["name"]: d for d in data["deployments"]}
    assert {d["entrypoint"] for d in by_name.values()} == {
        "clausewatch.flows.monitor.monitor_flow",
        "clausewatch.flows.publish.publish_flow",
        "clausewatch.flows.publish.digest_flow",
    }
    assert by_name["daily"]["concurrency_limit"] == 1
    steps = [next(iter(step)) for step in data["pull"]]
    assert steps == [
        "prefect.deployments.steps.git_clone",
        "prefect.deployments.steps.pip_install_requirements",
    ]
    # what the worker installs after the clone: this project (and so its dependencies)
    lines = (REPO / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["."]


@pytest.mark.slow
def test_deploy_registers_the_deployments_on_a_prefect_server(
    prefect_harness: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments.steps.core import run_steps

    work, bare = _checkout(tmp_path)
    done = _deploy(work, prefect_harness)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created the process work pool 'clausewatch'" in done.stderr
    assert f"workers will clone {bare} (branch {ORIGIN_BRANCH})" in done.stderr
    assert "prefect --no-prompt deploy --prefect-file" in done.stderr

    with get_client(sync_client=True) as client:
        assert client.read_work_pool("clausewatch").type == "process"
        monitor = client.read_deployment_by_name("monitor/daily")
        publish = client.read_deployment_by_name("publish/hourly")
        digest = client.read_deployment_by_name("digest/weekly")
    crons = {
        d.name: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules]  # type: ignore[union-attr]
        for d in (monitor, publish, digest)
    }
    assert crons == {
        "daily": [("0 6 * * *", "UTC", True)],
        "hourly": [("15 * * * *", "UTC", True)],
        "weekly": [("0 7 * * 1", "UTC", True)],
    }
    assert monitor.global_concurrency_limit is not None
    assert monitor.global_concurrency_limit.limit == 1  # one monitoring run at a time
    assert monitor.entrypoint == "clausewatch.flows.monitor.monitor_flow"
    assert monitor.parameters == {"sources": ["ai-platforms"]}
    assert publish.parameters == {"alerts": True}
    assert set(monitor.tags) == {"clausewatch", "monitor"}
    assert {d.work_pool_name for d in (monitor, publish, digest)} == {"clausewatch"}

    # the pull steps name the checkout's origin and branch; the clone step really clones it
    pull = monitor.pull_steps or []
    clone = pull[0]["prefect.deployments.steps.git_clone"]
    assert (clone["repository"], clone["branch"]) == (str(bare), ORIGIN_BRANCH)
    install = pull[1]["prefect.deployments.steps.pip_install_requirements"]
    assert install["directory"] == "{{ clone.directory }}"  # resolved on the worker
    runs_in = tmp_path / "worker"
    runs_in.mkdir()
    monkeypatch.chdir(runs_in)
    output = asyncio.run(run_steps(pull[:1]))
    cloned = Path(output["directory"])
    assert (runs_in / cloned).resolve().joinpath("prefect.yaml").is_file()

    # deploying again updates in place
    again = _deploy(work, prefect_harness, "--name", "monitor/daily")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created the process work pool" not in again.stderr
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("monitor/daily").id == monitor.id


def test_dry_run_shows_the_plan_and_needs_an_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    runner = CliRunner()
    work, bare = _checkout(tmp_path)
    monkeypatch.chdir(work)
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # unused
        shown = runner.invoke(app, ["deploy", "--dry-run"])
        one = runner.invoke(app, ["deploy", "--dry-run", "--name", "monitor/daily", "--pool", "p2"])
        _git(work, "remote", "remove", "origin")
        refused = runner.invoke(app, ["deploy", "--dry-run"])
    assert shown.exit_code == 0, shown.output
    for line in (
        "monitor/daily: clausewatch.flows.monitor.monitor_flow, cron '0 6 * * *' timezone "
        "'UTC', at most 1 at a time, pool 'clausewatch', tags clausewatch, monitor",
        "publish/hourly: clausewatch.flows.publish.publish_flow, cron '15 * * * *'",
        "digest/weekly: clausewatch.flows.publish.digest_flow, cron '0 7 * * 1'",
        f"workers will clone {bare} (branch {ORIGIN_BRANCH})",
        "--all",
    ):
        assert line in shown.stderr, shown.stderr

    assert one.exit_code == 0, one.output
    assert "publish/hourly" not in one.stderr and "pool 'p2'" in one.stderr
    assert "--name daily --pool p2" in one.stderr

    assert isinstance(refused.exception, ConfigError)
    assert "Workers clone the code from git" in str(refused.exception)


def test_deploy_needs_a_prefect_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    work, _ = _checkout(tmp_path)
    monkeypatch.chdir(work)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        refused = CliRunner().invoke(app, ["deploy", "--dry-run"])
    assert isinstance(refused.exception, ConfigError)
    assert "PREFECT_API_URL" in str(refused.exception)
