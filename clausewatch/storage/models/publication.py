"""Subscribers and the record of every alert and digest delivered (or attempted) to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clausewatch.schemas.vocabulary import ExposureLevel
from clausewatch.storage.models.base import Base, enum_type, one_of, utcnow


class Subscriber(Base):
    """Someone who watches platforms and/or categories.

    ``mode``: ``alert`` (same-day, one message per published analysis) or ``digest`` (weekly).
    ``channel``: ``webhook`` (``target`` is the URL, ``secret`` signs the body) or ``email``
    (``target`` is the address). Empty ``platforms`` / ``categories`` mean "any";
    ``min_exposure`` (Low | Medium | High) keeps only analyses at or above that level.
    """

    __tablename__ = "subscribers"
    __table_args__ = (one_of("min_exposure", ExposureLevel),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(20))  # webhook | email
    target: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    mode: Mapped[str] = mapped_column(String(20), default="alert")  # alert | digest
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_exposure: Mapped[ExposureLevel | None] = mapped_column(
        enum_type(ExposureLevel, 10), default=None
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


class Delivery(Base):
    """One alert or digest for one subscriber; (subscriber, kind, item_key) is sent at most once.

    status: ``pending`` (claimed, being sent) | ``sent`` | ``failed`` (retried by the next run)
    | ``gave_up`` (failed in ``delivery_max_runs`` runs) | ``cancelled`` (its analyses were
    unpublished before it could be sent). ``attempts`` counts every HTTP / SMTP
    attempt across runs, ``runs`` the runs that tried it.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "kind", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # alert | digest
    item_key: Mapped[str] = mapped_column(String(100))  # "draft:<id>" | "week:<YYYY-Www>"
    draft_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    subscriber: Mapped[Subscriber] = relationship(back_populates="deliveries")
