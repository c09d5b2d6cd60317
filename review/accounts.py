"""Accounts of the review app: argon2 password hashes, roles, rate-limited authentication.

Failed logins are stored in ``login_attempts`` so the limit (``MAX_FAILURES`` per user name and
client address within ``WINDOW``) survives restarts and holds across worker processes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from review.errors import NotFoundError, RateLimitedError, ReviewError
from storage.models.base import utcnow
from storage.models.review import LoginAttempt, User

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
    stamp: str = ""  # changes with the password: sessions signed before a change end


def _account(user: User) -> Account:
    stamp = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return Account(user.name, user.role, user.created_at, user.last_login_at, stamp)


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
    return _account(user)


def set_password(session: Session, name: str, password: str) -> None:
    validate_password(password)
    user = _get(session, name)
    user.password_hash = _hasher.hash(password)
    session.flush()


def list_users(session: Session) -> list[Account]:
    return [_account(u) for u in session.scalars(select(User).order_by(User.name))]


def get_user(session: Session, name: str) -> Account | None:
    user = session.scalar(select(User).where(User.name == name))
    return _account(user) if user is not None else None


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
    session.delete(user)
    session.flush()


def _recent_failures(session: Session, name: str, ip: str, now: datetime) -> list[datetime]:
    """Failures for (name, ip) inside the window and after the last success."""
    since = now - WINDOW
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(True),
            LoginAttempt.at >= since,
        )
    )
    if last_ok is not None:
        since = max(since, last_ok)
    rows = session.scalars(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username == name,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
        )
        .order_by(LoginAttempt.at)
    )
    return list(rows)


def authenticate(session: Session, name: str, password: str, ip: str) -> Account | None:
    """Check a password: the account, or None when wrong (the attempt is recorded, so the
    caller must commit). Raises RateLimitedError, without checking, when over the limit."""
    name = name.strip()[:100]
    ip = (ip or "unknown")[:64]
    now = utcnow()
    failures = _recent_failures(session, name, ip, now)
    if len(failures) >= MAX_FAILURES:
        retry = int((failures[-MAX_FAILURES] + WINDOW - now).total_seconds())
        raise RateLimitedError(max(retry, 1))
    user = session.scalar(select(User).where(User.name == name)) if name else None
    ok = False
    try:
        if user is None:
            _hasher.verify(_DUMMY_HASH, password + "\0never")
        else:
            ok = _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    session.add(LoginAttempt(username=name, ip=ip, at=now, success=ok))
    if not ok or user is None:
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    session.flush()
    return _account(user)


def prune_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete login attempts older than ``older_than``; returns how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
