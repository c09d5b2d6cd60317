"""Shared fixtures: every test gets its own workspace (CLAUSEWATCH_HOME) and database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
POLICIES = SHARED_DATA / "policies"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh CLAUSEWATCH_HOME with a fresh SQLite database."""
    from clausewatch.settings import reset_settings
    from storage.db import forget_engines

    home = tmp_path / "home"
    monkeypatch.setenv("CLAUSEWATCH_HOME", str(home))
    monkeypatch.delenv("CLAUSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("CLAUSEWATCH_LLM_BACKEND", "fake")
    reset_settings()
    forget_engines()
    yield home
    forget_engines()
    reset_settings()


def database_urls() -> list[str]:
    """SQLite always; PostgreSQL too when CLAUSEWATCH_TEST_DATABASE_URL is set (CI)."""
    urls = ["sqlite"]
    if os.environ.get("CLAUSEWATCH_TEST_DATABASE_URL"):
        urls.append("postgres")
    return urls


@pytest.fixture(params=database_urls())
def db_workspace(
    request: pytest.FixtureRequest, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """``workspace`` parametrised over SQLite and (when configured) a fresh PostgreSQL schema."""
    if request.param == "postgres":
        import uuid

        import sqlalchemy as sa

        from clausewatch.settings import reset_settings

        base = os.environ["CLAUSEWATCH_TEST_DATABASE_URL"]
        name = f"cw_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
        monkeypatch.setenv("CLAUSEWATCH_DATABASE_URL", url)
        reset_settings()
        yield workspace
        from storage.db import forget_engines

        forget_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield workspace


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not POLICIES.exists():
        raise pytest.UsageError(f"shared data not found at {POLICIES}")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One temporary Prefect server for the whole test session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())
