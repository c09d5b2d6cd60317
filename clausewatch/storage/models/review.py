"""Review app accounts, their signed-in sessions, and login attempts (rate limiting survives
restarts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clausewatch.storage.models.base import Base, utcnow


class User(Base):
    """An account of the review app. role: editor | admin (admins also review)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="editor")
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class ReviewSession(Base):
    """A signed-in session: the cookie carries a random token, this row its SHA-256. Deleting
    the row ends the session (logout, password change, user removal), whatever the cookie."""

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    """Every login attempt, by user name and client address, for rate limiting and audit.

    The row is written (``success`` NULL: pending) before the password is checked, so that
    concurrent attempts count each other; it then records the outcome."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_ip_at", "username", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool | None] = mapped_column(Boolean, default=None)
