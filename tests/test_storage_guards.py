"""Database-level guards: no repeated consecutive version, one Alembic head, locked migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

import clausewatch.archive.store
from clausewatch.archive.store import get_or_create_document, is_repeated_version, record_version
from clausewatch.storage.db import MIGRATIONS_DIR, get_engine, session_scope
from clausewatch.storage.models import Version
from tests.conftest import REPO


def _version(document_id: int, day: int, sha: str) -> Version:
    return Version(
        document_id=document_id,
        version_date=datetime(2026, 1, day),
        text_sha256=sha,
        markdown=f"text {sha}",
    )


def test_exactly_one_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, heads


def test_triggers_exist_at_head(db_workspace: Path) -> None:
    """A later batch alter of ``versions`` on SQLite would drop them silently."""
    engine = get_engine()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            assert {"versions_no_repeat_insert", "versions_no_repeat_update"} <= names
        else:
            names = set(
                conn.execute(
                    text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'versions'::regclass")
                ).scalars()
            )
            assert "versions_no_repeat" in names
    assert "run_locks" in inspect(engine).get_table_names()


def test_database_refuses_a_repeated_consecutive_version(db_workspace: Path) -> None:
    with session_scope() as session:
        doc_id = get_or_create_document(session, "acme", "privacy").id
        session.add(_version(doc_id, 1, "a"))
    with pytest.raises(IntegrityError) as refused, session_scope() as session:
        session.add(_version(doc_id, 2, "a"))  # same text as the version before it
    assert is_repeated_version(refused.value)
    with session_scope() as session:
        session.add(_version(doc_id, 3, "b"))
        session.add(_version(doc_id, 5, "a"))  # a -> b -> a is a real change
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(_version(doc_id, 4, "a"))  # between b and a: same text as the next one
    with pytest.raises(IntegrityError), session_scope() as session:
        middle = select(Version).where(Version.version_date == datetime(2026, 1, 3))
        newest = session.scalars(middle).one()
        newest.text_sha256 = "a"  # updating into a repeat is refused too
        session.flush()
    with session_scope() as session:
        shas = session.scalars(select(Version.text_sha256).order_by(Version.version_date)).all()
    assert shas == ["a", "b", "a"]


def test_record_version_treats_the_refusal_as_unchanged(
    db_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that read the latest version before another writer committed the same text."""
    with session_scope() as session:
        doc = get_or_create_document(session, "acme", "terms")
        assert record_version(session, doc, "# Terms\n\nOne.\n", datetime(2026, 1, 1))
    real_latest = clausewatch.archive.store.latest_version
    monkeypatch.setattr(
        clausewatch.archive.store, "latest_version", lambda *a: None
    )  # a stale read
    with session_scope() as session:
        doc = get_or_create_document(session, "acme", "terms")
        assert record_version(session, doc, "# Terms\n\nOne.\n", datetime(2026, 1, 2)) is None
        monkeypatch.setattr(clausewatch.archive.store, "latest_version", real_latest)
        # the session is still usable: the refusal was rolled back to its savepoint
        assert record_version(session, doc, "# Terms\n\nTwo.\n", datetime(2026, 1, 3))
    with session_scope() as session:
        assert session.scalar(select(func.count(Version.id))) == 2


@pytest.mark.slow
def test_concurrent_init_on_an_empty_database(db_workspace: Path) -> None:
    """Four processes migrating one empty database at once all succeed (migration lock)."""
    from clausewatch.storage.db import forget_engines

    forget_engines()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys; from clausewatch.cli import main; sys.argv[1:] = ['init']; main()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    for rc, err in results:
        assert rc == 0, err[-2000:]
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
