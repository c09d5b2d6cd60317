"""Server-side sessions of the review app: revocable whatever the cookie says.

Signing in creates a ``review_sessions`` row and hands back a random token for the (signed)
cookie; the row keeps only the token's SHA-256. Every request looks the token up: a missing
row (logout, password change, user removal, expiry) means signed out. ``last_seen_at`` moves
at most once a minute, and a session unused for ``max_age`` has expired.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clausewatch.review.errors import NotFoundError
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.models.review import ReviewSession, User

TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 200  # a cookie value longer than any token we issue is not looked up


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_name: str) -> str:
    """A new session of ``user_name``; returns the token for the cookie."""
    user_id = session.scalar(select(User.id).where(User.name == user_name))
    if user_id is None:
        raise NotFoundError(f"no user {user_name!r}")
    token = secrets.token_urlsafe(32)
    session.add(ReviewSession(token_hash=_digest(token), user_id=user_id))
    session.flush()
    return token


def current(session: Session, token: object, max_age: timedelta) -> User | None:
    """The user signed in with ``token``, or None (unknown, ended or expired)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    row = session.execute(
        select(ReviewSession, User)
        .join(User, User.id == ReviewSession.user_id)
        .where(ReviewSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    record, user = row.tuple()
    now = utcnow()
    if record.last_seen_at < now - max_age:
        session.execute(delete(ReviewSession).where(ReviewSession.id == record.id))
        return None
    if record.last_seen_at < now - TOUCH_EVERY:
        session.execute(
            update(ReviewSession).where(ReviewSession.id == record.id).values(last_seen_at=now)
        )
    return user


def end(session: Session, token: object) -> None:
    """End one session (logout); unknown tokens are ignored."""
    if isinstance(token, str) and token and len(token) <= MAX_TOKEN:
        session.execute(delete(ReviewSession).where(ReviewSession.token_hash == _digest(token)))


def end_all(session: Session, user_name: str, keep: object = None) -> int:
    """End every session of ``user_name`` but the one of token ``keep``; returns how many."""
    user_id = select(User.id).where(User.name == user_name).scalar_subquery()
    stmt = delete(ReviewSession).where(ReviewSession.user_id == user_id)
    if isinstance(keep, str) and keep:
        stmt = stmt.where(ReviewSession.token_hash != _digest(keep))
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def prune(session: Session, max_age: timedelta) -> int:
    """Delete sessions unused for ``max_age``; returns how many."""
    result = session.execute(
        delete(ReviewSession).where(ReviewSession.last_seen_at < utcnow() - max_age)
    )
    return int(getattr(result, "rowcount", 0) or 0)
