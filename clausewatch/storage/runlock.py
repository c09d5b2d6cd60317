"""One run at a time per database: the lock ``clausewatch run``, ``track`` and ``import`` take.

PostgreSQL: a session advisory lock held on a dedicated connection for the whole run (the
server drops it when the connection ends, so a killed process never blocks the next run;
TCP keepalives bound how long a vanished host holds it). SQLite: an OS file lock
(``filelock``) on ``<database>.monitor.lock``, released by the kernel when the process dies.

The ``run_locks`` row names the holder (since, pid, host, command) so a second process can
say what it waits for; the next holder overwrites a row a killed process left behind.

The lock is re-entrant within a process: the CLI takes it before starting Prefect and the
flow takes it again (a deployment run has no CLI around it).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, delete, select, text

from clausewatch.core.errors import ClausewatchError
from clausewatch.storage.models.base import utcnow

MONITOR = "monitor"
POLL_S = 0.5


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    since: datetime
    command: str = ""

    def describe(self) -> str:
        where = f"pid {self.pid} on host {self.host}"
        what = f" ({self.command})" if self.command else ""
        return f"since {self.since:%Y-%m-%d %H:%M:%S} UTC, {where}{what}"


class RunBusyError(ClausewatchError):
    """Another process holds the run lock of this database."""

    def __init__(self, holder: Holder | None, waited_s: float) -> None:
        self.holder = holder
        self.waited_s = waited_s
        who = holder.describe() if holder is not None else "(holder not recorded yet)"
        waited = f" (waited {waited_s:.0f} s)" if waited_s > 0 else ""
        super().__init__(
            f"another run is in progress {who}{waited}; "
            "wait for it with --wait SECONDS or CLAUSEWATCH_RUN_LOCK_WAIT_S"
        )

    def __reduce__(self) -> tuple[type[RunBusyError], tuple[Holder | None, float]]:
        # Prefect may persist a flow's result (this error is the data of a "Busy" state)
        return (RunBusyError, (self.holder, self.waited_s))


class _Lock(Protocol):
    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class _FileLock:
    """SQLite: an flock on a file next to the database (dies with the process)."""

    def __init__(self, path: Path) -> None:
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = FileLock(str(path), thread_local=False)

    def try_acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release(force=True)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    return zlib.crc32(f"clausewatch:{name}".encode()) | (0x636C << 32)


class _PgAdvisoryLock:
    """PostgreSQL: a session advisory lock on a connection kept open while it is held."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.key = advisory_key(name)
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        from clausewatch.storage.db import engine_for

        conn = engine_for(self.url).connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            # the server notices a vanished client after about a minute, not hours
            for setting in ("tcp_keepalives_idle = 30", "tcp_keepalives_interval = 10"):
                conn.execute(text(f"SET {setting}"))
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.close()
        except Exception:
            conn.invalidate()  # a broken connection: the server has dropped the lock


def _lock_for(url: str, name: str) -> _Lock:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:":
            return _NoLock()
        return _FileLock(Path(f"{path}.{name}.lock"))
    if url.startswith("postgresql"):
        return _PgAdvisoryLock(url, name)
    raise ClausewatchError(f"no run lock for database {url.split('://', 1)[0]!r}")


class _NoLock:
    """An in-memory SQLite database is private to its process: nothing to lock."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


@dataclass
class _Held:
    lock: _Lock
    count: int


_held: dict[tuple[str, str], _Held] = {}
_held_lock = threading.Lock()


def holder(name: str = MONITOR, url: str | None = None) -> Holder | None:
    """The recorded holder of ``name`` (None when no row)."""
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import RunLock

    with session_scope(url) as session:
        row = session.get(RunLock, name)
        if row is None:
            return None
        return Holder(pid=row.pid, host=row.host, since=row.since, command=row.command)


def _record(name: str, url: str, command: str) -> None:
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import RunLock

    with session_scope(url) as session:
        session.execute(delete(RunLock).where(RunLock.name == name))
        session.add(
            RunLock(
                name=name,
                pid=os.getpid(),
                host=socket.gethostname(),
                command=command[:200],
                since=utcnow(),
            )
        )


def _forget(name: str, url: str) -> None:
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import RunLock

    with session_scope(url) as session:
        mine = select(RunLock).where(
            RunLock.name == name,
            RunLock.pid == os.getpid(),
            RunLock.host == socket.gethostname(),
        )
        for row in session.scalars(mine):
            session.delete(row)


def default_command() -> str:
    return " ".join(["clausewatch", *sys.argv[1:3]]) if sys.argv else "clausewatch"


def lock_wait_s() -> float:
    from clausewatch.core.settings import get_settings

    return float(get_settings().run_lock_wait_s)


@contextmanager
def run_lock(
    name: str = MONITOR,
    *,
    wait_s: float | None = None,
    url: str | None = None,
    command: str | None = None,
) -> Iterator[None]:
    """Hold the run lock ``name`` of the database ``url`` (default: settings) inside the block.

    Waits up to ``wait_s`` seconds (default: CLAUSEWATCH_RUN_LOCK_WAIT_S, 0 = not at all)
    for another holder, then raises RunBusyError naming it.
    """
    from clausewatch.core.settings import get_settings
    from clausewatch.storage.db import get_engine

    url = url or get_settings().db_url
    get_engine(url)  # migrated (under the migration lock) before anything reads run_locks
    key = (url, name)
    with _held_lock:
        held = _held.get(key)
        if held is not None:
            held.count += 1
    if held is None:
        held = _acquire(url, name, lock_wait_s() if wait_s is None else wait_s)
        try:
            _record(name, url, command or default_command())
        except BaseException:
            held.lock.release()
            raise
        with _held_lock:
            _held[key] = held
    try:
        yield
    finally:
        with _held_lock:
            held.count -= 1
            last = held.count == 0
            if last:
                _held.pop(key, None)
        if last:
            try:
                _forget(name, url)
            finally:
                held.lock.release()


def _acquire(url: str, name: str, wait_s: float) -> _Held:
    lock = _lock_for(url, name)
    started = time.monotonic()
    deadline = started + max(0.0, wait_s)
    while not lock.try_acquire():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunBusyError(holder(name, url), time.monotonic() - started)
        time.sleep(min(POLL_S, remaining))
    return _Held(lock=lock, count=1)
