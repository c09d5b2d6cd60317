"""The login limit holds under real concurrency: a burst of simultaneous wrong passwords gets
at most MAX_FAILURES of them checked, and once the limit is reached the right password in a
burst does not sign in (threads against the real app, on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_helpers import PASSWORD, add_user, page_token
from sqlalchemy import select

from clausewatch.review import accounts
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.review import LoginAttempt

BURST = 60


class CountingHasher(PasswordHasher):
    """Counts password checks (argon2 verifications), the work the limit must bound."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.checked = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.lock:
            self.checked += 1
        return super().verify(hash, password)


@pytest.fixture
def app(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    from clausewatch.core.settings import reset_settings
    from clausewatch.review.web.app import create_app

    reset_settings()
    return create_app()


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


def burst(app: FastAPI, passwords: list[str], address: str) -> list[int]:
    """POST /login for every password at the same moment, each from its own browser."""
    clients = [TestClient(app, client=(address, 40000 + i)) for i in range(len(passwords))]
    tokens = [page_token(c, "/login") for c in clients]
    start = threading.Barrier(len(passwords))

    def attempt(i: int) -> int:
        start.wait()
        resp = clients[i].post(
            "/login",
            data={"username": "erin", "password": passwords[i], "csrf_token": tokens[i]},
            follow_redirects=False,
        )
        return resp.status_code

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(attempt, range(len(passwords))))


def attempts(address: str) -> list[LoginAttempt]:
    with session_scope() as db:
        stmt = select(LoginAttempt).where(LoginAttempt.ip == address).order_by(LoginAttempt.id)
        return list(db.scalars(stmt))


@pytest.mark.slow
def test_simultaneous_wrong_passwords_never_get_more_checks_than_the_limit(
    app: FastAPI, hasher: CountingHasher
) -> None:
    add_user("erin")
    codes = burst(app, ["wrong-password"] * BURST, "10.1.1.1")
    assert sorted(set(codes)) == [401, 429], codes
    assert codes.count(401) == accounts.MAX_FAILURES
    assert hasher.checked == accounts.MAX_FAILURES
    rows = attempts("10.1.1.1")
    assert [r.success for r in rows] == [False] * accounts.MAX_FAILURES  # none left pending
    # the limit is reached: the right password inside the next burst does not sign in
    codes = burst(app, ["wrong-password"] * 20 + [PASSWORD] + ["wrong-password"] * 20, "10.1.1.1")
    assert set(codes) == {429}, codes
    assert hasher.checked == accounts.MAX_FAILURES
    assert len(attempts("10.1.1.1")) == accounts.MAX_FAILURES


@pytest.mark.slow
def test_the_right_password_in_a_burst_signs_in_only_within_the_limit(
    app: FastAPI, hasher: CountingHasher
) -> None:
    add_user("erin")
    passwords = ["wrong-password"] * BURST
    passwords[BURST // 2] = PASSWORD
    codes = burst(app, passwords, "10.2.2.2")
    rows = attempts("10.2.2.2")
    ok = [i for i, r in enumerate(rows) if r.success]
    assert codes.count(303) == len(ok) <= 1
    assert None not in [r.success for r in rows]
    if ok:  # it was reserved among the first MAX_FAILURES; after it, MAX_FAILURES more at most
        assert ok[0] < accounts.MAX_FAILURES
        assert len(rows) <= ok[0] + 1 + accounts.MAX_FAILURES
    else:
        assert len(rows) == accounts.MAX_FAILURES
    assert hasher.checked == len(rows) == codes.count(401) + codes.count(303)
