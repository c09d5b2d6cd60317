"""Accounts of the review app: argon2 password hashes, roles, rate-limited authentication.

Login attempts are stored in ``login_attempts`` so the limit (``MAX_FAILURES`` per user name
and client address within ``WINDOW``) survives restarts and holds across worker processes. An
attempt is reserved (its row written, pending) and committed before its password is checked,
in one statement that counts the attempts already there (under a PostgreSQL advisory lock;
SQLite runs writes one at a time): however many arrive at once, at most ``MAX_FAILURES`` are
ever checked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Integer,
    String,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from clausewatch.review import sessions
from clausewatch.review.errors import NotFoundError, RateLimitedError, ReviewError
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.models.review import LoginAttempt, User

Role = Literal["editor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
DECIDING_ROLES: tuple[str, ...] = ("editor", "admin")  # may edit drafts and take decisions
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")

_hasher = PasswordHasher()
# verified when the user name is unknown, so both paths cost one argon2 verification
_DUMMY_HASH = _hasher.hash("clausewatch-dummy-password")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None


def account_of(user: User) -> Account:
    return Account(user.name, user.role, user.created_at, user.last_login_at)


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ReviewError("user name must be 1-100 characters: letters, digits, '.', '_', '@', '-'")
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ReviewError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ReviewError(f"password must be at most {MAX_PASSWORD} characters")
    return password


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ReviewError(f"role must be one of {', '.join(ROLES)}")
    return role


def add_user(session: Session, name: str, password: str, role: str = "editor") -> Account:
    validate_name(name)
    validate_role(role)
    validate_password(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ReviewError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return account_of(user)


def set_password(
    session: Session, name: str, password: str, keep_session: str | None = None
) -> None:
    """Change a password; every session of the user ends, but the one of ``keep_session``."""
    validate_password(password)
    user = _get(session, name)
    user.password_hash = _hasher.hash(password)
    session.flush()
    sessions.end_all(session, name, keep=keep_session)


def list_users(session: Session) -> list[Account]:
    return [account_of(u) for u in session.scalars(select(User).order_by(User.name))]


def get_user(session: Session, name: str) -> Account | None:
    user = session.scalar(select(User).where(User.name == name))
    return account_of(user) if user is not None else None


def decider(session: Session, name: str) -> Account:
    """The account that takes a review decision: an existing user whose role may decide."""
    account = get_user(session, name)
    if account is None:
        raise NotFoundError(f"no user {name!r}")
    if account.role not in DECIDING_ROLES:
        raise ReviewError(f"user {name!r} is {account.role!r}; deciding needs editor or admin")
    return account


def _get(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"no user {name!r}")
    return user


def remove_user(session: Session, name: str) -> None:
    user = _get(session, name)
    if user.role == "admin":
        admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
        if (admins or 0) <= 1:
            raise ReviewError("cannot remove the last admin")
    sessions.end_all(session, name)  # the foreign key cascades too; not every database enforces
    session.delete(user)
    session.flush()


def _not_success() -> ColumnElement[bool]:
    return or_(LoginAttempt.success.is_(False), LoginAttempt.success.is_(None))


def _counted(name: str, ip: str, since: datetime) -> ColumnElement[bool]:
    """Failed or pending attempts of (name, ip) inside the window and after the last success."""
    last_ok = (
        select(func.coalesce(func.max(LoginAttempt.id), 0))
        .where(
            LoginAttempt.username == name,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(True),
            LoginAttempt.at >= since,
        )
        .scalar_subquery()
    )
    return (
        (LoginAttempt.username == name)
        & (LoginAttempt.ip == ip)
        & _not_success()
        & (LoginAttempt.at >= since)
        & (LoginAttempt.id > last_ok)
    )


def _lock_key(name: str, ip: str) -> int:
    digest = hashlib.sha256(f"clausewatch-login\0{name}\0{ip}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _reserve(session: Session, name: str, ip: str, now: datetime) -> int | None:
    """Write a pending attempt unless the limit is reached, atomically; commit; its id or None.

    Count and insert are one statement. On PostgreSQL an advisory lock per (name, ip), held
    to the commit, orders concurrent reservations (each statement then sees the rows of the
    ones before it); SQLite takes its write lock before the statement reads anything.
    """
    since = now - WINDOW
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(name, ip))))
    used = select(func.count()).select_from(LoginAttempt).where(_counted(name, ip, since))
    row = select(
        literal(name, String()),
        literal(ip, String()),
        literal(now),
        null(),
    ).where(used.scalar_subquery() < literal(MAX_FAILURES, Integer()))
    stmt = (
        insert(LoginAttempt)
        .from_select(["username", "ip", "at", "success"], row)
        .returning(LoginAttempt.id)
    )
    attempt_id = session.scalar(stmt)
    session.commit()  # visible to every other attempt before this one is checked
    return attempt_id


def _retry_after(session: Session, name: str, ip: str, now: datetime) -> int:
    times = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(_counted(name, ip, now - WINDOW))
            .order_by(LoginAttempt.id)
        )
    )
    if len(times) < MAX_FAILURES:
        return 1
    return max(int((times[-MAX_FAILURES] + WINDOW - now).total_seconds()), 1)


def authenticate(session: Session, name: str, password: str, ip: str) -> Account | None:
    """Check a password: the account, or None when wrong. Raises RateLimitedError, without
    checking, when the limit is reached. Commits ``session`` (the attempt is reserved before
    the check); the caller commits the outcome."""
    name = name.strip()[:100]
    ip = (ip or "unknown")[:64]
    now = utcnow()
    attempt_id = _reserve(session, name, ip, now)
    if attempt_id is None:
        raise RateLimitedError(_retry_after(session, name, ip, now))
    user = session.scalar(select(User).where(User.name == name)) if name else None
    ok = False
    try:
        if user is None:
            _hasher.verify(_DUMMY_HASH, password + "\0never")
        else:
            ok = _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=ok))
    if not ok or user is None:
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    session.flush()
    return account_of(user)


def prune_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete login attempts older than ``older_than``; returns how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
