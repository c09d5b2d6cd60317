"""A real S3 API server for tests: moto's server (``python -m moto.server``) on a free
loopback port, spoken to over HTTP by s3fs exactly as a remote S3-compatible store would be.

``s3_server`` (session) yields its endpoint URL; ``s3_storage`` points the test's workspace at
a fresh bucket (``CLAUSEWATCH_STORAGE_URL=s3://<bucket>/cw``) and yields that URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

KEY, SECRET = "clausewatch-test-key", "clausewatch-test-secret"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the moto server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/moto-api/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the moto server did not answer within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def make_bucket(endpoint: str) -> str:
    import s3fs

    name = f"cw-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=endpoint, skip_instance_cache=True)
    fs.mkdir(name)
    return name


def use_s3(monkeypatch: pytest.MonkeyPatch, endpoint: str, url: str) -> None:
    from clausewatch.core.settings import reset_settings

    monkeypatch.setenv("CLAUSEWATCH_STORAGE_URL", url)
    monkeypatch.setenv("CLAUSEWATCH_STORAGE_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("CLAUSEWATCH_STORAGE_KEY", KEY)
    monkeypatch.setenv("CLAUSEWATCH_STORAGE_SECRET", SECRET)
    reset_settings()


@pytest.fixture
def s3_storage(s3_server: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"s3://{make_bucket(s3_server)}/cw"
    use_s3(monkeypatch, s3_server, url)
    return url


def s3_objects(endpoint: str, url: str) -> dict[str, bytes]:
    """Every object under ``url`` (key relative to it -> bytes), read with a fresh client."""
    import s3fs

    fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=endpoint, skip_instance_cache=True)
    root = url.removeprefix("s3://").rstrip("/")
    return {p[len(root) + 1 :]: fs.cat_file(p) for p in fs.find(root)}
