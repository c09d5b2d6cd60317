"""Engine and session factory; the schema is created and upgraded by Alembic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from clausewatch.core.settings import get_settings
from clausewatch.core.workspace import create_private_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            # created 600 (in a 700 folder when the folder is new): it holds webhook secrets
            # and password hashes; SQLite gives its -wal and -shm files the same mode
            create_private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


# pg_advisory_xact_lock key serialising migrations of one PostgreSQL database
MIGRATION_LOCK_KEY = 0x636C_6D69_6772_6174  # "clmigrat"


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (``alembic upgrade heads``), under a lock.

    Two processes starting on an empty database at once must not both create the schema:
    PostgreSQL migrates under a transaction advisory lock, SQLite under a file lock next to
    the database (``<db>.migrate.lock``); the second process then finds the schema current.
    """
    from alembic import command

    _alembic(url, lambda cfg: command.upgrade(cfg, "heads"))


def downgrade(revision: str, url: str | None = None) -> None:
    """``alembic downgrade <revision>`` under the same lock and pragmas as ``migrate``."""
    from alembic import command

    _alembic(url, lambda cfg: command.downgrade(cfg, revision))


def _alembic(url: str | None, run: Callable[[Config], None]) -> None:
    from alembic.config import Config

    url = url or get_settings().db_url
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection_url"] = url
    engine = engine_for(url)
    sqlite = engine.dialect.name == "sqlite"
    with _migration_file_lock(url), engine.connect() as conn:
        if sqlite:
            # a migration adding a constraint rebuilds the table (batch mode), which SQLite
            # refuses for a table other rows refer to while it enforces foreign keys; the
            # pragma only takes effect outside a transaction, so before the first statement
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()  # ends SQLAlchemy's implicit transaction (SQLite had none open)
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY}
                    )
                cfg.attributes["connection"] = conn
                before = _revisions(conn)
                run(cfg)
                if sqlite and _revisions(conn) != before:
                    _check_foreign_keys(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _revisions(conn: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn).get_current_heads())


def _check_foreign_keys(conn: Connection) -> None:
    """Refuse (roll back) an upgrade that left a row pointing at no row."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the upgrade broke {len(broken)} foreign keys, e.g. {broken[:3]}")


@contextmanager
def _migration_file_lock(url: str) -> Iterator[None]:
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if not path or path == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(f"{path}.migrate.lock", thread_local=False):
        yield


_migrated: set[str] = set()


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: settings), migrated once per process."""
    url = url or get_settings().db_url
    if url not in _migrated:
        migrate(url)
        _migrated.add(url)
    return engine_for(url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def forget_engines() -> None:
    """Drop cached engines (tests point at new databases)."""
    for url in list(_migrated):
        engine_for(url).dispose()
    _migrated.clear()
    engine_for.cache_clear()
