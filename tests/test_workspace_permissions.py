"""A new workspace is private: folders 700, the SQLite database (and its WAL) and keys 600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.storage.db import forget_engines


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fresh_home(workspace: Path) -> Iterator[Path]:
    """A workspace path that does not exist yet, under the usual umask."""
    assert not workspace.exists()
    previous = os.umask(0o022)
    try:
        yield workspace
    finally:
        os.umask(previous)


def test_init_creates_a_private_workspace(fresh_home: Path) -> None:
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert _mode(fresh_home) == 0o700
    db = fresh_home / "clausewatch.db"
    assert _mode(db) == 0o600
    for extra in (fresh_home / "clausewatch.db-wal", fresh_home / "clausewatch.db-shm"):
        if extra.exists():
            assert _mode(extra) == 0o600, extra
    assert "open to other users" not in result.stderr


def test_any_command_that_creates_the_workspace_makes_it_private(fresh_home: Path) -> None:
    """Not only ``init``: the first command to touch the database creates the workspace."""
    result = CliRunner().invoke(app, ["subscribers", "add", "--email", "dpo@example.org"])
    assert result.exit_code == 0, result.output
    assert _mode(fresh_home) == 0o700
    assert _mode(fresh_home / "clausewatch.db") == 0o600


def test_files_holding_secrets_are_private(fresh_home: Path) -> None:
    from clausewatch.archive.snapshots import snapshot_path, write_blob
    from clausewatch.core.settings import get_settings
    from clausewatch.review.web.secret import KEY_FILE, secret_key

    settings = get_settings()
    secret_key(settings)
    assert _mode(fresh_home) == 0o700 and _mode(fresh_home / KEY_FILE) == 0o600
    sha = write_blob(b"policy text")
    path = snapshot_path(sha)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(settings.snapshots_dir) == 0o700


def test_init_warns_about_an_open_existing_workspace(workspace: Path) -> None:
    workspace.mkdir(mode=0o755)
    os.chmod(workspace, 0o755)
    reset_settings()
    forget_engines()
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert f"{workspace} is open to other users (mode 755" in result.stderr
    assert f"chmod 700 {workspace}" in result.stderr
    assert _mode(workspace) == 0o755  # an operator's choice is reported, not changed
