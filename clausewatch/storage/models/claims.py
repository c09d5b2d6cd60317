"""Draft claims: which change a task worker is drafting, under a lease (``drafting.claims``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clausewatch.storage.models.base import Base, one_of, utcnow


class ClaimState(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class DraftClaim(Base):
    """One change queued for the task workers (``clausewatch worker``), at most one row each.

    state: queued (waiting for a worker) | claimed (a worker drafts it: ``token`` and
    ``lease_expires_at``) | done (``draft_id``) | failed (``error``). A claimed row whose lease
    expired (its worker died) can be claimed again; the token says who holds it, so a worker
    that lost its claim can neither renew it nor store a draft under it.
    """

    __tablename__ = "draft_claims"
    __table_args__ = (one_of("state", ClaimState),)

    change_id: Mapped[int] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    priority: Mapped[float] = mapped_column(Float, default=0.0)  # higher: drafted first
    label: Mapped[str] = mapped_column(String(300), default="")
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the run that queued it
    token: Mapped[str | None] = mapped_column(String(36), default=None)
    worker: Mapped[str | None] = mapped_column(String(300), default=None)  # host-pid
    task_run_id: Mapped[str | None] = mapped_column(String(36), default=None)  # Prefect's
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims taken so far
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    draft_id: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
