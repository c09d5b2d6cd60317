"""A chroma server's credentials, headers, tenant and database (vectorstore.server).

``chroma run`` (chromadb 1.5.9) checks no credentials itself: a server that needs a token is
one behind a proxy that checks it (Chroma's advice for 1.x), or Chroma Cloud. The tests put a
real ``chroma run`` behind such a proxy, which refuses requests without the token (401) and
records the headers that reached it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from vectorstore_helpers import CountingEmbedder, chroma_server

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings, reset_settings
from clausewatch.vectorstore.server import DEFAULT_DATABASE, DEFAULT_TENANT, server_options
from clausewatch.vectorstore.store import forget_clients, open_store

TOKEN = "s3cret-token"


def _settings(**values: Any) -> Settings:
    return Settings(chroma_url="http://chroma.example:8000", **values)


def test_token_and_headers_become_request_headers() -> None:
    assert server_options(_settings()).headers == {}
    bearer = server_options(_settings(chroma_token=SecretStr(TOKEN)))
    assert bearer.headers == {"Authorization": f"Bearer {TOKEN}"}
    plain = server_options(
        _settings(
            chroma_token=SecretStr(TOKEN),
            chroma_token_header="X-Chroma-Token",
            chroma_headers=SecretStr('{"X-Api-Key": "k1", "CF-Access-Client-Id": "c2"}'),
        )
    )
    assert plain.headers == {
        "X-Api-Key": "k1",
        "CF-Access-Client-Id": "c2",
        "X-Chroma-Token": TOKEN,
    }
    assert (plain.tenant, plain.database) == (DEFAULT_TENANT, DEFAULT_DATABASE)
    placed = server_options(_settings(chroma_tenant="acme", chroma_database="clausewatch"))
    assert (placed.tenant, placed.database) == ("acme", "clausewatch")
    assert placed.cache_key() != plain.cache_key()
    assert TOKEN not in plain.cache_key()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"chroma_headers": SecretStr("X-Api-Key: k")}, "must be a JSON object"),
        ({"chroma_headers": SecretStr('{"X-Api-Key": 1}')}, "values are strings"),
        ({"chroma_headers": SecretStr('{"Bad Name": "v"}')}, "not a valid HTTP header"),
        ({"chroma_headers": SecretStr('{"X-A": "v\\r\\nX-B: w"}')}, "line break"),
        (
            {
                "chroma_token": SecretStr(TOKEN),
                "chroma_headers": SecretStr('{"authorization": "Basic x"}'),
            },
            "keep one of them",
        ),
    ],
)
def test_bad_header_settings_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        server_options(_settings(**values))


def test_server_options_need_a_server() -> None:
    with pytest.raises(ConfigError, match="CLAUSEWATCH_CHROMA_TENANT applies to a chroma server"):
        server_options(Settings(chroma_tenant="acme"))
    with pytest.raises(ConfigError, match="CLAUSEWATCH_CHROMA_TOKEN applies"):
        server_options(Settings(chroma_token=SecretStr(TOKEN)))


@contextmanager
def token_proxy(upstream: str, header: str, expected: str) -> Iterator[tuple[str, list[Any]]]:
    """A reverse proxy to ``upstream`` that answers 401 unless ``header`` is ``expected``;
    yields its URL and the headers of every request it received."""
    seen: list[Any] = []

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            seen.append(dict(self.headers.items()))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.headers.get(header) != expected:
                payload = b'{"error": "Unauthorized", "message": "token required"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in {"host", "content-length", "connection"}
            }
            reply = httpx.request(
                self.command, upstream + self.path, content=body, headers=headers, timeout=60
            )
            self.send_response(reply.status_code)
            for key, value in reply.headers.items():
                if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-auth")) as url:
        yield url


def _open(monkeypatch: pytest.MonkeyPatch, base: str | None = None, **env: str) -> Any:
    forget_clients()
    for name, value in env.items():
        monkeypatch.setenv(f"CLAUSEWATCH_CHROMA_{name.upper()}", value)
    reset_settings()
    return open_store(base or f"auth-{uuid.uuid4().hex[:8]}", embedder=CountingEmbedder())


@pytest.mark.slow
def test_a_token_guarded_chroma_server(
    workspace: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with token_proxy(chroma_url, "Authorization", f"Bearer {TOKEN}") as (url, seen):
        with pytest.raises(ConfigError, match=r"refused the request \(HTTP 401\)"):
            _open(monkeypatch, url=url)
        store = _open(monkeypatch, url=url, token=TOKEN)
        store.upsert(["a"], ["Disputes go to binding arbitration."], [{"platform": "p"}])
        assert store.count() == 1
        assert store.query("arbitration", k=1)[0].id == "a"
        forget_clients()
    with_token = [h for h in seen if h.get("Authorization") == f"Bearer {TOKEN}"]
    assert len(with_token) >= 4  # every request of the store carried it
    assert len(seen) - len(with_token) >= 1  # the refused first attempt


@pytest.mark.slow
def test_x_chroma_token_extra_headers_tenant_and_database(
    workspace: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(chroma_url.rsplit(":", 1)[1])
    direct = chromadb.HttpClient(host="127.0.0.1", port=port)
    tenant = f"acme{uuid.uuid4().hex[:6]}"
    admin = chromadb.AdminClient(
        ChromaSettings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host="127.0.0.1",
            chroma_server_http_port=port,
            anonymized_telemetry=False,
        )
    )
    admin.create_tenant(tenant)
    with token_proxy(chroma_url, "X-Chroma-Token", TOKEN) as (url, seen):
        store = _open(
            monkeypatch,
            url=url,
            token=TOKEN,
            token_header="X-Chroma-Token",
            headers='{"X-Gateway-Key": "g1"}',
            tenant=tenant,
            database="clausewatch",  # does not exist yet: created
        )
        store.upsert(["a"], ["We keep chats for 30 days."], [{"platform": "p"}])
        again = _open(monkeypatch, store.base_name)  # same settings: the database exists
        assert again.count() == 1
        forget_clients()
    assert seen and all(h.get("X-Chroma-Token") == TOKEN for h in seen)
    assert all(h.get("X-Gateway-Key") == "g1" for h in seen)
    assert not any("Authorization" in h for h in seen)
    # the collection lives in that tenant's database, not in the default one
    placed = chromadb.HttpClient(host="127.0.0.1", port=port, tenant=tenant, database="clausewatch")
    assert store.name in [c.name for c in placed.list_collections()]
    assert store.name not in [c.name for c in direct.list_collections()]

    monkeypatch.setenv("CLAUSEWATCH_CHROMA_TENANT", "no-such-tenant")
    with pytest.raises(Exception, match="tenant"):
        _open(monkeypatch, url=chroma_url)
    forget_clients()
