"""The shared local model server: one per user and model across processes, idle stop, the
request queue, and no re-send of a stalled call. The real daemon, locks and queue run here
with a stand-in engine (tests/fake_llm_engine.py); test_llm_local_slow.py runs the real model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm_engine import events

from clausewatch.core.errors import ConfigError
from clausewatch.flows.retry import only_transient
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.local import LocalLLM
from clausewatch.llm.progress import CallProgress, StallTimeout, reporting
from clausewatch.llm.runtime import runtime_dir
from clausewatch.llm.shared_server import Paths, current_state, is_alive, queue_length, stop_server

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
REQUEST = LLMRequest(
    prompt_id="p",
    prompt_version="1",
    messages=[{"role": "user", "content": "label this"}],
    json_schema={"type": "object", "properties": {"label": {"type": "string"}}},
)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh server key (a fake model hash); the server is stopped afterwards."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(TESTS)]))
    value = uuid.uuid4().hex[:16]
    yield value
    stop_server(value)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "fake.gguf"
    path.parent.mkdir()
    path.write_bytes(b"not a real model")
    return path


def local(key: str, model_file: Path, **kwargs: object) -> LocalLLM:
    options: dict[str, object] = {
        "models_dir": model_file.parent,
        "model_path": model_file,
        "model_sha256": key * 4,
        "engine": "fake_llm_engine:start",
        "idle_s": 60.0,
        "threads": 1,
        "start_timeout_s": 60.0,
    }
    options.update(kwargs)
    return LocalLLM(**options)  # type: ignore[arg-type]


def test_two_processes_share_one_server_that_outlives_them(key: str, model_file: Path) -> None:
    command = [sys.executable, str(TESTS / "shared_server_client.py"), str(model_file), "60", key]
    clients = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for client in clients:
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert outputs[0]["pid"] == outputs[1]["pid"]  # one server
    assert outputs[0]["url"] == outputs[1]["url"]
    assert sorted(o["started_here"] for o in outputs) == [False, True]
    assert all(json.loads(o["answer"])["label"] == "privacy" for o in outputs)
    record = events(runtime_dir(), key)
    assert [e["event"] for e in record].count("start") == 1  # the model was loaded once
    assert [e["event"] for e in record].count("request") == 2
    assert all(e["cache_prompt"] is True for e in record if e["event"] == "request")
    # both clients have exited; the server lives on (detached) until idle or stopped
    paths = Paths.for_key(key)
    state = current_state(paths)
    assert state is not None and state.pid == outputs[0]["pid"]
    assert state.pid not in (c.pid for c in clients)
    assert stop_server(key) == state.pid
    assert not is_alive(paths) and current_state(paths) is None


def test_a_server_stops_itself_after_the_idle_time_only_when_unused(
    key: str, model_file: Path
) -> None:
    paths = Paths.for_key(key)
    first = local(key, model_file, idle_s=0.5)
    first.complete(REQUEST)
    time.sleep(2.0)  # well past the idle time, but the LLM is still open
    assert is_alive(paths)
    first.close()
    deadline = time.monotonic() + 20
    while is_alive(paths) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_alive(paths) and not paths.state.exists()
    second = local(key, model_file, idle_s=0.5)  # the next need starts a new one
    assert second.start().started_here
    second.close()


def test_requests_queue_in_order_with_their_position(
    key: str, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLM_TOKEN_DELAY_S", "0.03")  # ~0.6 s per answer
    llm = local(key, model_file)
    llm.start()
    seen: dict[int, list[CallProgress]] = {}
    barrier = threading.Barrier(3)

    def ask(n: int) -> None:
        updates: list[CallProgress] = []
        with reporting(updates.append):
            barrier.wait()
            time.sleep(0.15 * n)  # arrive in order 0, 1, 2
            llm.complete(REQUEST)
        seen[n] = updates

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    assert queue_length(key) == 3
    for thread in threads:
        thread.join(60)
    llm.close()
    first_positions = [
        next(u.queue_position for u in seen[n] if u.phase == "queued") for n in range(3)
    ]
    assert first_positions == [0, 1, 2]
    # each waiting request saw its position fall to 0 before its prompt went out
    for n in range(3):
        queued = [u.queue_position for u in seen[n] if u.phase == "queued"]
        assert queued == sorted(queued, reverse=True) and queued[-1] == 0
        assert seen[n][-1].phase == "done"
    record = [e for e in events(runtime_dir(), key) if e["event"] == "request"]
    assert len(record) == 3 and max(e["concurrent"] for e in record) == 1  # one slot
    assert queue_length(key) == 0


def test_a_dead_process_ticket_does_not_block_the_queue(key: str, model_file: Path) -> None:
    paths = Paths.for_key(key)
    paths.queue.mkdir(parents=True, exist_ok=True)
    (paths.queue / f"{0:020d}-{99999999:08d}-deadbeef").write_text("")  # nobody holds it
    llm = local(key, model_file)
    updates: list[CallProgress] = []
    with reporting(updates.append):
        llm.complete(REQUEST)
    llm.close()
    assert [u.queue_position for u in updates if u.phase == "queued"] == [0]
    assert list(paths.queue.iterdir()) == []


def test_a_stalled_local_call_is_not_resent(
    key: str, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLM_STALL_AFTER", "3")
    monkeypatch.setenv("FAKE_LLM_STALL_S", "5")
    llm = local(key, model_file, stall_s=0.5, retries=3)
    started = time.monotonic()
    with pytest.raises(StallTimeout) as raised:
        llm.complete(REQUEST)
    assert time.monotonic() - started < 4
    llm.close()
    assert raised.value.retryable is False
    assert only_transient(None, None, _state_with(raised.value)) is False  # Prefect: no retry
    requests = [e for e in events(runtime_dir(), key) if e["event"] == "request"]
    assert len(requests) == 1


def test_a_server_that_fails_to_start_says_why(key: str, model_file: Path) -> None:
    llm = local(key, model_file, engine="fake_llm_engine:no_such_engine")
    with pytest.raises(ConfigError, match=r"failed to start.*no_such_engine"):
        llm.start()
    assert not is_alive(Paths.for_key(key))


def _state_with(exc: BaseException) -> object:
    class State:
        def result(self, raise_on_failure: bool = True) -> None:
            raise exc

    return State()
