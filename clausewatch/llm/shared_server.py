"""One local model server per user and model, shared by every clausewatch process.

Files in the per-user runtime folder (``llm.runtime``), per key (the model's sha256, first 16
hex digits):

* ``server-KEY.json``: the running server: URL, pid, threads and why, context, idle time;
* ``server-KEY.alive``: locked (exclusive ``flock``) by the server process for its whole life,
  so a crashed server is never mistaken for a running one (the lock dies with the process);
* ``server-KEY.start``: held by the one client that checks for a server and starts one, so two
  processes needing the model at the same moment start one server, not two;
* ``server-KEY.users``: every open ``LocalLLM`` holds a shared lock on it; the server stops
  itself only when nobody holds it, no request is running and ``idle_s`` seconds passed
  since the last request (``server-KEY.activity``'s time);
* ``queue-KEY/``: one ticket per request waiting or running, in arrival order (locked by its
  owner: a dead owner's ticket is dropped); ``slot-KEY-N.lock``: the server's N parallel slots.
  A request takes a slot when fewer than N tickets are ahead of it, and reports its position
  while it waits (``CallProgress("queued", queue_position=...)``);
* ``server-KEY.log``: the server's output.

The server is ``python -m clausewatch.llm.server_daemon`` started in its own session (it
survives the process that started it). POSIX only (``fcntl.flock``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.core.files import atomic_write
from clausewatch.llm.progress import CallProgress, check_budget, report
from clausewatch.llm.runtime import runtime_dir

log = logging.getLogger("clausewatch.llm")

LLAMA_ENGINE = "clausewatch.llm.server_daemon:llama_engine"
QUEUE_POLL_S = 0.25
LOG_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class ServerConfig:
    """What the server is started with. Only ``model_sha256`` picks which server is shared:
    a process asking with other threads or context gets the running server as it is."""

    model_path: Path
    model_sha256: str
    threads: int | str = "auto"  # a number, or "auto" (llm.threads)
    context_tokens: int = 8192
    parallel: int = 1
    idle_s: float = 300.0
    engine: str = LLAMA_ENGINE  # "module:function" starting the HTTP server (tests: a fake)

    @property
    def key(self) -> str:
        return self.model_sha256[:16]


@dataclass(frozen=True)
class ServerState:
    """What ``server-KEY.json`` says about the running server."""

    key: str
    url: str  # http://127.0.0.1:PORT
    pid: int
    launch_id: str
    status: str  # starting | ready
    model_path: str = ""
    threads: int = 0
    threads_reason: str = ""
    busy_cores: float | None = None
    physical_cores: int = 0
    context_tokens: int = 0
    parallel: int = 1
    idle_s: float = 0.0
    started_at: float = 0.0  # time.time() when it was ready
    load_s: float = 0.0  # model load and health check

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerState:
        fields = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in fields})


@dataclass(frozen=True)
class Paths:
    root: Path
    key: str

    @classmethod
    def for_key(cls, key: str) -> Paths:
        return cls(runtime_dir(), key)

    def _file(self, suffix: str) -> Path:
        return self.root / f"server-{self.key}.{suffix}"

    @property
    def state(self) -> Path:
        return self._file("json")

    @property
    def failed(self) -> Path:
        return self._file("failed.json")

    @property
    def alive(self) -> Path:
        return self._file("alive")

    @property
    def start(self) -> Path:
        return self._file("start")

    @property
    def users(self) -> Path:
        return self._file("users")

    @property
    def activity(self) -> Path:
        return self._file("activity")

    @property
    def log(self) -> Path:
        return self._file("log")

    @property
    def queue(self) -> Path:
        return self.root / f"queue-{self.key}"

    def slot(self, index: int) -> Path:
        return self.root / f"slot-{self.key}-{index}.lock"


# -- locks -------------------------------------------------------------------------------------


def open_lock(path: Path) -> int:
    return os.open(path, os.O_CREAT | os.O_RDWR, 0o600)


def try_lock(fd: int, mode: int) -> bool:
    """``flock(fd, mode | LOCK_NB)``: True when taken, False when someone else holds it."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def lock_within(fd: int, mode: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not try_lock(fd, mode):
        if time.monotonic() > deadline:
            raise TransientError(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def held(path: Path, mode: int, timeout_s: float, what: str) -> Iterator[int]:
    fd = open_lock(path)
    try:
        lock_within(fd, mode, timeout_s, what)
        yield fd
    finally:
        os.close(fd)


def is_alive(paths: Paths) -> bool:
    """True while a server process holds ``server-KEY.alive``."""
    if not paths.alive.exists():
        return False
    fd = open_lock(paths.alive)
    try:
        return not try_lock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=1))


def current_state(paths: Paths) -> ServerState | None:
    """The running server's state, or None (no state file, not ready, or its process died)."""
    data = read_json(paths.state)
    if data is None or data.get("status") != "ready" or not is_alive(paths):
        return None
    try:
        return ServerState.from_json(data)
    except TypeError:
        return None


def touch_activity(paths: Paths) -> None:
    try:
        paths.activity.touch()
    except OSError as exc:
        log.debug("could not touch %s: %s", paths.activity, exc)


# -- users: a shared lock per open LocalLLM ----------------------------------------------------


class ServerUse:
    """A shared lock on ``server-KEY.users``: the server does not stop while one is held."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._fd: int | None = open_lock(paths.users)
        lock_within(self._fd, fcntl.LOCK_SH, 60.0, "the local model server's user lock")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            touch_activity(self.paths)


# -- starting ----------------------------------------------------------------------------------


def _package_root() -> Path:
    import clausewatch.llm as llm

    return Path(llm.__file__).resolve().parents[2]


def daemon_command(config: ServerConfig, launch_id: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "clausewatch.llm.server_daemon",
        "--model",
        str(config.model_path),
        "--key",
        config.key,
        "--threads",
        str(config.threads),
        "--context-tokens",
        str(config.context_tokens),
        "--parallel",
        str(config.parallel),
        "--idle-s",
        str(config.idle_s),
        "--engine",
        config.engine,
        "--launch-id",
        launch_id,
        "--runtime-dir",
        str(runtime_dir()),
    ]


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


def _spawn(config: ServerConfig, paths: Paths, launch_id: str) -> None:
    env = dict(os.environ)
    root = str(_package_root())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    if paths.log.exists() and paths.log.stat().st_size > LOG_MAX_BYTES:
        paths.log.unlink()
    with paths.log.open("ab") as out:
        process = subprocess.Popen(
            daemon_command(config, launch_id),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not in our process group: our Ctrl-C and exit spare it
            close_fds=True,
            cwd="/",
            env=env,
        )
    # the daemon forks once more and its first process exits at once (no zombie left here)
    process.wait(timeout=60)


def ensure_server(config: ServerConfig, start_timeout_s: float = 180.0) -> tuple[ServerState, bool]:
    """The running server for ``config.key``, started (and waited for) if there is none.

    Returns the state and whether this call started it. Hold a ``ServerUse`` before calling,
    so the server cannot stop between this and the first request.
    """
    paths = Paths.for_key(config.key)
    with held(
        paths.start, fcntl.LOCK_EX, start_timeout_s + 60, "another process starting the server"
    ):
        state = current_state(paths)
        if state is not None:
            return state, False
        launch_id = uuid.uuid4().hex
        log.info("starting the shared local model server key=%s (log %s)", config.key, paths.log)
        _spawn(config, paths, launch_id)
        deadline = time.monotonic() + start_timeout_s
        while True:
            data = read_json(paths.state) or {}
            if data.get("launch_id") == launch_id and data.get("status") == "ready":
                return ServerState.from_json(data), True
            failed = read_json(paths.failed) or {}
            if failed.get("launch_id") == launch_id:
                raise ConfigError(
                    f"the local model server failed to start with {config.model_path}: "
                    f"{failed.get('error', 'unknown error')}"
                )
            if time.monotonic() > deadline:
                pid = data.get("pid") if data.get("launch_id") == launch_id else None
                if isinstance(pid, int):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGTERM)
                raise TransientError(
                    f"the local model server was not ready after {start_timeout_s:.0f} s "
                    f"(log {paths.log}: {_log_tail(paths.log)})"[:600]
                )
            time.sleep(0.1)


def stop_server(key: str, timeout_s: float = 30.0) -> int | None:
    """Ask the running server to stop (SIGTERM) and wait for it; its pid, or None if none."""
    paths = Paths.for_key(key)
    data = read_json(paths.state)
    if data is None or not is_alive(paths):
        return None
    pid = int(data["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while is_alive(paths):
        if time.monotonic() > deadline:
            raise TransientError(f"the local model server (pid {pid}) did not stop in time")
        time.sleep(0.1)
    return pid


# -- the request queue -------------------------------------------------------------------------


def _tickets_ahead(queue: Path, mine: str) -> int:
    """Live tickets older than ``mine``; tickets whose owner died are removed on the way."""
    ahead = 0
    for entry in sorted(queue.iterdir()):
        name = entry.name
        if name >= mine:
            break
        if name.startswith("."):
            continue
        try:
            fd = os.open(entry, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            if try_lock(fd, fcntl.LOCK_EX):  # nobody holds it: its owner is gone
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            else:
                ahead += 1
        finally:
            os.close(fd)
    return ahead


def queue_length(key: str) -> int:
    """Requests waiting for or using the server now (all processes of this user)."""
    queue = Paths.for_key(key).queue
    if not queue.is_dir():
        return 0
    return _tickets_ahead(queue, "~")  # "~" sorts after every ticket name


@contextlib.contextmanager
def queue_slot(paths: Paths, parallel: int, *, started_at: float | None = None) -> Iterator[int]:
    """Wait in line for one of the server's ``parallel`` slots (FIFO across processes).

    Reports ``queued`` with the position (requests ahead) whenever it changes; raises
    ``BudgetExceeded`` if the per-draft budget runs out while waiting. Yields the position
    the request had when it got its slot.
    """
    started_at = time.time() if started_at is None else started_at
    paths.queue.mkdir(mode=0o700, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid():08d}-{uuid.uuid4().hex[:8]}"
    hidden = paths.queue / f".{name}"
    fd = open_lock(hidden)
    fcntl.flock(fd, fcntl.LOCK_EX)  # locked before it is visible: never mistaken for stale
    hidden.rename(paths.queue / name)
    slot_fd: int | None = None
    try:
        last: int | None = None
        while True:
            position = _tickets_ahead(paths.queue, name)
            if position != last:
                report(CallProgress("queued", queue_position=position, started_at=started_at))
                last = position
            if position < parallel:
                for index in range(max(1, parallel)):
                    candidate = open_lock(paths.slot(index))
                    if try_lock(candidate, fcntl.LOCK_EX):
                        slot_fd = candidate
                        break
                    os.close(candidate)
            if slot_fd is not None:
                break
            check_budget("waiting for the local model server")
            time.sleep(QUEUE_POLL_S)
        touch_activity(paths)
        yield position
    finally:
        touch_activity(paths)
        if slot_fd is not None:
            os.close(slot_fd)
        with contextlib.suppress(FileNotFoundError):
            (paths.queue / name).unlink()
        os.close(fd)


def state_summary(key: str) -> dict[str, Any] | None:
    """The running server as a dict (``llm status``), with the current queue length."""
    state = current_state(Paths.for_key(key))
    if state is None:
        return None
    return {**asdict(state), "queue": queue_length(key)}
