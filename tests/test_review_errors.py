"""Error responses of the review app: ids beyond the database's range, security headers on every
error (500 included), and the bound on the whole request body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_helpers import add_user, login, page_token, seed_draft

from clausewatch.review import service
from clausewatch.review.web.security import HEADERS
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.review import LoginAttempt

HUGE_IDS = ("99999999999999999999", str(2**63), str(2**31), "-99999999999999999999")


@pytest.fixture
def app(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    from clausewatch.core.settings import reset_settings
    from clausewatch.review.web.app import create_app

    monkeypatch.setenv("CLAUSEWATCH_REVIEW_RUN_REDRAFTS", "false")
    reset_settings()
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # a 500 comes back as a response (as a browser sees it), not as an exception in the test
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_secured(resp: object) -> None:
    headers = resp.headers
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (name, resp.status_code)
    assert headers.get("cache-control") == "no-store"


def test_draft_ids_beyond_the_database_range_are_not_found(client: TestClient) -> None:
    with session_scope() as db:
        draft_id = seed_draft(db)
    add_user("erin")
    login(client, "erin")
    token = page_token(client)
    for huge in HUGE_IDS:
        for path in (f"/drafts/{huge}", f"/api/drafts/{huge}", f"/drafts/{huge}/audit.json"):
            resp = client.get(path)
            assert resp.status_code == 404, (path, resp.status_code)
            assert_secured(resp)
        for action in ("approve", "reject", "redraft", "edit"):
            resp = client.post(
                f"/drafts/{huge}/{action}",
                data={"csrf_token": token, "lock_version": "1", "text": "why"},
            )
            assert resp.status_code == 404, (huge, action, resp.status_code)
            assert_secured(resp)
    # a version number beyond the range is a stale copy, not a crash
    for action in ("approve", "edit"):
        resp = client.post(
            f"/drafts/{draft_id}/{action}",
            data={"csrf_token": token, "lock_version": HUGE_IDS[0], "title": "New title"},
        )
        assert resp.status_code in (400, 409), (action, resp.status_code)
        assert_secured(resp)
    with session_scope() as db:
        draft = service.get_draft(db, draft_id)
        assert draft.status == "pending" and draft.lock_version == 1


def test_every_error_response_carries_the_security_headers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user("erin")
    assert_secured(client.get("/no/such/page"))  # 404
    assert client.put("/login").status_code == 405
    assert_secured(client.put("/login"))
    login(client, "erin")
    invalid = client.get("/drafts/not-a-number")
    assert invalid.status_code == 422
    assert_secured(invalid)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals /etc/clausewatch")

    monkeypatch.setattr(service, "list_drafts", broken)
    crashed = client.get("/queue")
    assert crashed.status_code == 500
    assert_secured(crashed)
    assert "secret internals" not in crashed.text and "Traceback" not in crashed.text
    api = client.get("/api/drafts")
    assert api.status_code == 500 and api.json() == {"detail": "internal error"}
    assert_secured(api)


def _attempts() -> int:
    from sqlalchemy import func, select

    with session_scope() as db:
        return int(db.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


def test_the_whole_request_body_is_bounded_before_parsing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.core.settings import get_settings

    limit = get_settings().review_max_body_bytes
    assert limit == 1024 * 1024  # the documented default
    add_user("erin")
    token = page_token(client, "/login")
    # many fields, each below starlette's per-field limit, together over the whole-body bound
    fields = {f"pad{i}": "x" * 60_000 for i in range(40)}
    form = {"username": "erin", "password": "wrong-password", "csrf_token": token, **fields}
    urlencoded = client.post("/login", data=form)
    assert urlencoded.status_code == 413
    assert_secured(urlencoded)
    # multipart: a file part (starlette bounds no file part) far over the bound
    multipart = client.post(
        "/login",
        data={"username": "erin", "password": "wrong-password", "csrf_token": token},
        files={"upload": ("big.bin", b"\0" * (3 * limit), "application/octet-stream")},
    )
    assert multipart.status_code == 413
    assert_secured(multipart)

    # a declared length over the bound is refused before a byte of the body is read
    sent: list[int] = []

    def body(chunks: int) -> Iterator[bytes]:
        yield f"csrf_token={token}&username=erin&password=wrong-password&pad=".encode()
        for _ in range(chunks):
            sent.append(1)
            yield b"x" * 65_536

    declared = client.post(
        "/login",
        content=body(48),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(3 * limit),
        },
    )
    assert declared.status_code == 413 and sent == []
    assert_secured(declared)
    # no length (chunked): the bytes are counted as they come
    streamed = client.post(
        "/login", content=body(48), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert_secured(streamed)
    assert _attempts() == 0  # none of them reached the password check
    # a normal form still works
    ok = client.post(
        "/login", data={"username": "erin", "password": "wrong-password", "csrf_token": token}
    )
    assert ok.status_code == 401 and _attempts() == 1


def test_the_body_bound_is_a_setting(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clausewatch.core.settings import reset_settings
    from clausewatch.review.web.app import create_app

    monkeypatch.setenv("CLAUSEWATCH_REVIEW_MAX_BODY_BYTES", "2000")
    reset_settings()
    client = TestClient(create_app())
    token = page_token(client, "/login")
    small = {"username": "x", "password": "y", "csrf_token": token}
    assert client.post("/login", data=small).status_code == 401
    big = client.post("/login", data={**small, "pad": "p" * 2000})
    assert big.status_code == 413


def test_a_streamed_body_is_cut_as_soon_as_it_passes_the_bound() -> None:
    """BodyLimit on its own: an endless chunked upload is read only up to the bound."""
    import anyio
    from starlette.requests import Request
    from starlette.types import Message, Receive, Scope, Send

    from clausewatch.review.web.middleware import BodyLimit

    pulled = 0

    async def endless() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def reader(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()  # reads until the client stops: never, here

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/login", "headers": []}
    anyio.run(BodyLimit(reader, limit=10_000), scope, endless, send)
    assert pulled == 11  # 11 000 bytes: the first chunk past the bound
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
