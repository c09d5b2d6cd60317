"""LLM calls, drafts of analyses with their audit trail, and monitoring runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clausewatch.schemas.analysis_versions import current_version
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models.base import Base, enum_type, one_of, utcnow


class LLMCall(Base):
    """Every call to a language model, successful or not."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    backend: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    prompt_id: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str] = mapped_column(String(40))
    cache_key: Mapped[str] = mapped_column(String(64), index=True)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(20))  # ok | invalid | error
    error: Mapped[str | None] = mapped_column(Text, default=None)
    response: Mapped[str | None] = mapped_column(Text, default=None)


# ``Draft.backend`` of the demo analyses the clausewatch team wrote for the sample (not a model's)
DEMO_BACKEND = "demo"


class Draft(Base):
    """A drafted ProvisionAnalysis waiting for (or past) editorial review.

    ``status`` is a ``DraftStatus``; ``lock_version`` implements optimistic locking for
    concurrent editors.
    """

    __tablename__ = "drafts"
    __table_args__ = (one_of("status", DraftStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    input_hash: Mapped[str] = mapped_column(String(64), unique=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), default=None)
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"), default=None)
    clause_uid: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(100), index=True)
    doc_type: Mapped[str] = mapped_column(String(50))
    status: Mapped[DraftStatus] = mapped_column(
        enum_type(DraftStatus, 30), default=DraftStatus.PENDING, index=True
    )
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # the ProvisionAnalysis version ``analysis`` was written with (schemas.analysis_versions)
    analysis_version: Mapped[int] = mapped_column(
        Integer, default=current_version, server_default="1"
    )
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # comparables, regs
    prompt_id: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str] = mapped_column(String(40))
    rendered_prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    redraft_of: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), default=None)
    redraft_instructions: Mapped[str | None] = mapped_column(Text, default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    events: Mapped[list[DraftEvent]] = relationship(
        back_populates="draft", order_by="DraftEvent.id"
    )


class DraftEvent(Base):
    """Audit trail: every edit (field before/after), decision and redraft request."""

    __tablename__ = "draft_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))  # drafted|edit|approve|reject|redraft|...
    field: Mapped[str | None] = mapped_column(String(100), default=None)
    before: Mapped[Any] = mapped_column(JSON, default=None)
    after: Mapped[Any] = mapped_column(JSON, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    draft: Mapped[Draft] = relationship(back_populates="events")


class Run(Base):
    """One monitoring run (or publish/digest run) and its outcome."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|ok|partial|failed
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RunLock(Base):
    """Who holds a run lock (``storage.runlock``), so a second process can say who it waits for.

    The lock itself is a PostgreSQL advisory lock or, on SQLite, a file lock next to the
    database; this row only describes the holder and is overwritten by the next holder when
    a killed process left it behind.
    """

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    pid: Mapped[int] = mapped_column()
    host: Mapped[str] = mapped_column(String(255))
    command: Mapped[str] = mapped_column(String(200), default="")
    since: Mapped[datetime] = mapped_column(default=utcnow)
