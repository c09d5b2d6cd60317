"""Sharing, idle stop and exit stop of the process-wide local server (llama.cpp stubbed out;
the real server runs in test_llm_local_slow.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clausewatch.errors import ConfigError
from llm.local import ServerConfig, ServerInfo, _LocalServer

CONFIG = ServerConfig(Path("/models/m.gguf"), threads=2, context_tokens=4096, parallel=1)


class Recorder(_LocalServer):
    """A _LocalServer whose start/stop only record what would happen."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.stops = 0
        self.stopped = threading.Event()

    def _start_locked(self, config: ServerConfig, start_timeout_s: float) -> ServerInfo:
        self.starts += 1
        self._server = object()
        return ServerInfo(f"http://127.0.0.1:{9000 + self.starts}", config, 0.1)

    def _stop_locked(self) -> None:
        if self._server is not None:
            self.stops += 1
            self._server = None
            self.stopped.set()
        self._info = None


def test_one_server_shared_by_all_users() -> None:
    server = Recorder()
    first = server.acquire(CONFIG, 10)
    second = server.acquire(CONFIG, 10)
    assert first.address == second.address and server.starts == 1
    server.release()
    assert server.stops == 0 and server.info is not None
    server.release()
    assert server.stops == 1 and server.info is None


def test_idle_server_stops_after_grace_period() -> None:
    server = Recorder()
    server.acquire(CONFIG, 10)
    server.release(idle_s=0.05)
    assert server.stops == 0  # still up right after the last close
    assert server.stopped.wait(5)
    assert server.info is None


def test_reuse_within_grace_period_cancels_the_stop() -> None:
    server = Recorder()
    first = server.acquire(CONFIG, 10)
    server.release(idle_s=0.2)
    again = server.acquire(CONFIG, 10)
    assert again.address == first.address and server.starts == 1
    assert not server.stopped.wait(0.5)
    server.stop()
    assert server.stops == 1


def test_other_settings_while_in_use_is_an_error() -> None:
    server = Recorder()
    server.acquire(CONFIG, 10)
    other = ServerConfig(CONFIG.model_path, threads=1, context_tokens=4096, parallel=1)
    with pytest.raises(ConfigError, match="other settings"):
        server.acquire(other, 10)
    server.release(idle_s=60)
    restarted = server.acquire(other, 10)  # idle: restarted with the new settings
    assert server.starts == 2 and restarted.config == other
    server.stop()
    assert server.info is None and server.stops == 2
