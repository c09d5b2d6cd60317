"""Shared fixtures: every test gets its own workspace (CLAUSEWATCH_HOME) and database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# the shared local model server's lock/address files and the measured speed: never the user's
# real ones (llm.runtime); one folder for the test session, inherited by subprocesses
os.environ["CLAUSEWATCH_LLM_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="clausewatch-llm-rt-")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLAUSEWATCH_TEST_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
POLICIES = SHARED_DATA / "policies"
CHROMIUM = os.environ.get("CLAUSEWATCH_CHROMIUM", "/usr/bin/chromium")

# A fresh clone has nothing but Python: tests that need the shared data, PostgreSQL or a system
# Chromium are skipped there with their reason. CI (.ci/run) provides all three and sets
# CLAUSEWATCH_TESTS_REQUIRE_ALL=1, which turns every such skip into a failure.
REQUIRE_ALL = os.environ.get("CLAUSEWATCH_TESTS_REQUIRE_ALL", "") == "1"


def unavailable(reason: str) -> None:
    """Skip (fresh clone) or fail (CI, where everything must be present) for a missing need."""
    if REQUIRE_ALL:
        pytest.fail(f"CLAUSEWATCH_TESTS_REQUIRE_ALL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """The system Chromium the browser tests drive, or a skip/failure saying it is missing."""
    import shutil

    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if not found:
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium; CLAUSEWATCH_CHROMIUM)")
    return str(found)


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_llm_servers() -> Iterator[None]:
    """Stop the shared local model servers this test session started (they are detached)."""
    yield
    from clausewatch.llm.runtime import runtime_dir
    from clausewatch.llm.shared_server import stop_server

    for state in runtime_dir().glob("server-*.json"):
        if not state.name.endswith(".failed.json"):
            stop_server(state.name.removeprefix("server-").removesuffix(".json"))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh CLAUSEWATCH_HOME with a fresh SQLite database."""
    from clausewatch.core.settings import reset_settings
    from clausewatch.storage.db import forget_engines

    home = tmp_path / "home"
    monkeypatch.setenv("CLAUSEWATCH_HOME", str(home))
    monkeypatch.delenv("CLAUSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLAUSEWATCH_ENV_FILE", raising=False)
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

        from clausewatch.core.settings import reset_settings

        base = os.environ["CLAUSEWATCH_TEST_DATABASE_URL"]
        name = f"cw_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
        monkeypatch.setenv("CLAUSEWATCH_DATABASE_URL", url)
        reset_settings()
        yield workspace
        from clausewatch.storage.db import forget_engines

        forget_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield workspace


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_ALL and not POLICIES.exists():
        raise pytest.UsageError(f"CLAUSEWATCH_TESTS_REQUIRE_ALL=1 but no shared data at {POLICIES}")
    if REQUIRE_ALL and not os.environ.get("CLAUSEWATCH_TEST_DATABASE_URL"):
        raise pytest.UsageError(
            "CLAUSEWATCH_TESTS_REQUIRE_ALL=1 but CLAUSEWATCH_TEST_DATABASE_URL is not set"
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = []
    if not POLICIES.exists():
        missing.append(f"shared data ({SHARED_DATA})")
    if not os.environ.get("CLAUSEWATCH_TEST_DATABASE_URL"):
        missing.append("PostgreSQL (CLAUSEWATCH_TEST_DATABASE_URL)")
    if not missing:
        return []
    return [f"clausewatch: tests needing {', '.join(missing)} are skipped (CI provides them)"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_data") and not POLICIES.exists():
        unavailable(f"needs the shared data at {SHARED_DATA} (absent in a fresh clone)")
    if item.get_closest_marker("chromium"):
        chromium_path()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One temporary Prefect server for the whole test session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())
