"""Server-side sessions: logout, a password change and a user's removal end them for good,
even for a copy of the cookie kept from before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_helpers import PASSWORD, add_user, login, page_token
from sqlalchemy import func, select, update

from clausewatch.review import accounts
from clausewatch.review.web.security import SESSION_COOKIE
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.models.review import ReviewSession


@pytest.fixture
def app(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    from clausewatch.core.settings import reset_settings
    from clausewatch.review.web.app import create_app

    monkeypatch.setenv("CLAUSEWATCH_REVIEW_RUN_REDRAFTS", "false")
    reset_settings()
    return create_app()


def signed_in(app: FastAPI, name: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app)
    login(client, name, password)
    assert client.get("/queue", follow_redirects=False).status_code == 200
    return client


def replay(app: FastAPI, cookie: str) -> TestClient:
    """A new client holding a copy of a session cookie (as an attacker who kept it would)."""
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def is_signed_in(client: TestClient) -> bool:
    resp = client.get("/queue", follow_redirects=False)
    assert resp.status_code in (200, 303)
    api = client.get("/api/drafts")
    assert (resp.status_code == 200) == (api.status_code == 200)
    return resp.status_code == 200


def live_sessions() -> int:
    with session_scope() as db:
        return int(db.scalar(select(func.count()).select_from(ReviewSession)) or 0)


def test_logout_ends_the_session_on_the_server(app: FastAPI) -> None:
    add_user("erin")
    client = signed_in(app, "erin")
    other = signed_in(app, "erin")  # a second device of the same user
    kept = client.cookies[SESSION_COOKIE]
    assert is_signed_in(replay(app, kept))
    resp = client.post("/logout", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    assert not is_signed_in(client)
    assert not is_signed_in(replay(app, kept))  # the copy kept from before logout opens nothing
    assert is_signed_in(other)  # logout ends this session, not the user's other ones
    assert live_sessions() == 1


def test_a_password_change_ends_the_users_other_sessions(app: FastAPI) -> None:
    from typer.testing import CliRunner

    from clausewatch.cli import app as cli

    add_user("root", "admin")
    add_user("erin")
    admin = signed_in(app, "root")
    erin = signed_in(app, "erin")
    kept = erin.cookies[SESSION_COOKIE]
    second_root = signed_in(app, "root")
    # by an admin in the app: all of erin's sessions end
    token = page_token(admin, "/admin/users")
    admin.post("/admin/users/erin/password", data={"csrf_token": token, "password": "new pw 123"})
    assert not is_signed_in(erin) and not is_signed_in(replay(app, kept))
    # one's own password: this session goes on, the others end
    admin.post("/admin/users/root/password", data={"csrf_token": token, "password": "new pw 456"})
    assert is_signed_in(admin) and not is_signed_in(second_root)
    # from the CLI: every session of the user ends
    erin = signed_in(app, "erin", "new pw 123")
    done = CliRunner().invoke(cli, ["users", "passwd", "erin"], input="cli pw 789\n")
    assert done.exit_code == 0, done.output
    assert not is_signed_in(erin)
    assert is_signed_in(admin)


def test_removing_a_user_ends_their_sessions(app: FastAPI) -> None:
    add_user("root", "admin")
    add_user("erin")
    admin = signed_in(app, "root")
    erin = signed_in(app, "erin")
    kept = erin.cookies[SESSION_COOKIE]
    token = page_token(admin, "/admin/users")
    admin.post("/admin/users/erin/remove", data={"csrf_token": token})
    assert not is_signed_in(erin)
    # a new account of the same name and password is not the old session's
    add_user("erin")
    assert not is_signed_in(replay(app, kept))
    assert live_sessions() == 1


def test_an_unused_session_expires_on_the_server(app: FastAPI) -> None:
    add_user("erin")
    client = signed_in(app, "erin")
    kept = client.cookies[SESSION_COOKIE]
    with session_scope() as db:
        db.execute(update(ReviewSession).values(last_seen_at=utcnow() - timedelta(hours=13)))
    assert not is_signed_in(replay(app, kept))
    assert live_sessions() == 0


def test_sessions_are_pruned_and_set_password_keeps_only_the_named_session(
    app: FastAPI,
) -> None:
    from clausewatch.review import sessions

    add_user("erin")
    with session_scope() as db:
        first = sessions.start(db, "erin")
        second = sessions.start(db, "erin")
    with session_scope() as db:
        accounts.set_password(db, "erin", "another pw", keep_session=second)
    with session_scope() as db:
        assert sessions.current(db, first, timedelta(hours=1)) is None
        user = sessions.current(db, second, timedelta(hours=1))
        assert user is not None and user.name == "erin"
        assert sessions.current(db, "x" * 500, timedelta(hours=1)) is None
        assert sessions.prune(db, timedelta(hours=1)) == 0
        db.execute(update(ReviewSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
        assert sessions.prune(db, timedelta(hours=1)) == 1
