"""The Prefect API a ``clausewatch run`` talks to: PREFECT_API_URL, or a temporary server of ours.

Prefect's own ephemeral server is a plain subprocess: when its parent is killed (``kill -9``)
it lives on (about 200 MB). Ours dies with its parent: on Linux the kernel sends it SIGKILL
when the parent goes (PR_SET_PDEATHSIG), and a watchdog thread in the server process exits
as soon as its parent process is gone (any POSIX system, and the window before prctl).
Its output goes to ``<workspace>/prefect/server.log``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

# Runs in the server process: argv = [port, parent pid].
CHILD = r"""
import os, sys, threading, time
port, parent = int(sys.argv[1]), int(sys.argv[2])
if sys.platform.startswith("linux"):
    import ctypes, signal
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
def watch():
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)
watch_thread = threading.Thread(target=watch, daemon=True)
watch_thread.start()
if os.getppid() != parent:
    os._exit(0)
import uvicorn
uvicorn.run(
    "prefect.server.api.server:create_app", factory=True, host="127.0.0.1", port=port,
    log_level="error", lifespan="on",
)
"""

SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile/settings."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryServer:
    """A Prefect API server subprocess that ends with this process."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _spawn(self) -> subprocess.Popen[bytes]:
        from prefect.settings import get_current_settings

        env = {
            **os.environ,
            **get_current_settings().to_environment_variables(exclude_unset=True),
            **SERVER_ENV,
        }
        env.pop("PREFECT_API_URL", None)
        self.port = _free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-c", CHILD, str(self.port), str(os.getpid())],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    def start(self, timeout_s: float) -> None:
        self.process = self._spawn()
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    if code != 0 and _port_taken(self.port):  # lost the port race: again
                        self.process = self._spawn()
                        continue
                    raise RuntimeError(
                        f"the temporary Prefect server exited with code {code}; see {self.log_path}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the temporary Prefect server did not answer within {timeout_s:.0f} s; "
            f"see {self.log_path}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _port_taken(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def prefect_api(say: Callable[[str], None], log_path: Path) -> Iterator[str]:
    """The API URL to use; starts (and stops) a temporary server when none is configured."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    url = configured_api_url()
    if url:
        say(f"Prefect server {url} (PREFECT_API_URL)")
        yield url
        return
    say("starting a temporary Prefect server (PREFECT_API_URL is not set; about 10-25 s)")
    server = TemporaryServer(log_path)
    from clausewatch.flows.interrupts import on_hard_exit

    forget = on_hard_exit(server.stop)
    try:
        server.start(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
        say(f"temporary Prefect server at {server.api_url} (pid {server.pid})")
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        forget()
        server.stop()
