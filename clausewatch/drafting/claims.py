"""The queue of changes for task workers, in the database: each change is claimed once.

A monitoring run queues the changes it wants drafted (``enqueue``); a task worker takes the
highest-priority one with ``claim_next`` — a conditional UPDATE (on PostgreSQL after a
``SELECT ... FOR UPDATE SKIP LOCKED``, so workers never wait on each other's rows) that sets a
fresh claim token and a lease. The worker renews the lease while it drafts (``renew``) and
stores the draft in the same transaction that marks the claim done (``finish``): a worker
whose claim was taken over after its lease expired cannot store a second draft. A worker that
dies simply stops renewing: once its lease expires, the change can be claimed again.

Times are naive UTC from the machine's clock (``utcnow``), like every other timestamp here:
machines that share a database must keep their clocks in sync (NTP), within a small part of
the lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Update
from sqlalchemy.sql.elements import ColumnElement

from clausewatch.storage.models import DraftClaim
from clausewatch.storage.models.base import utcnow
from clausewatch.storage.models.claims import ClaimState

QUEUED, CLAIMED, DONE, FAILED = (s.value for s in ClaimState)
MAX_ATTEMPTS = 3  # claims of one change before a retryable failure becomes final
_CANDIDATES = 8  # rows read per claim attempt (SQLite: others may take them first)


class ClaimLost(RuntimeError):
    """The claim was taken over (its lease had expired): the draft must not be stored."""


@dataclass(frozen=True)
class Claim:
    change_id: int
    token: str
    label: str
    attempt: int


def _update() -> Update:
    """An UPDATE of claims that leaves loaded objects alone (callers re-read what they need)."""
    return update(DraftClaim).execution_options(synchronize_session=False)


def worker_id() -> str:
    """``host-pid``: who holds a claim."""
    return f"{socket.gethostname()}-{os.getpid()}"[:300]


def _claimable(now: object) -> ColumnElement[bool]:
    return or_(
        DraftClaim.state == QUEUED,
        and_(DraftClaim.state == CLAIMED, DraftClaim.lease_expires_at < now),
    )


def enqueue(session: Session, items: Iterable[tuple[int, str, float]], run_id: int | None) -> int:
    """Queue (change id, label, priority) for the workers; returns how many are claimable now.

    A change already queued gets the new priority; one being drafted (live lease) is left to
    its worker; a failed or finished one (whose draft is gone, since only undrafted changes
    are planned) is queued again.
    """
    now = utcnow()
    for change_id, label, priority in items:
        fields = {"priority": priority, "label": label[:300], "run_id": run_id}
        row = session.get(DraftClaim, change_id)
        if row is None:
            session.add(DraftClaim(change_id=change_id, state=QUEUED, queued_at=now, **fields))
            session.flush()
            continue
        session.execute(
            _update()
            .where(DraftClaim.change_id == change_id, DraftClaim.state.in_((FAILED, DONE)))
            .values(state=QUEUED, token=None, queued_at=now, attempts=0, error=None, **fields)
        )
        session.execute(
            _update()
            .where(DraftClaim.change_id == change_id, DraftClaim.state == QUEUED)
            .values(**fields)
        )
    session.flush()
    return claimable_count(session)


def claimable_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(DraftClaim).where(_claimable(utcnow())))
        or 0
    )


def claim_next(
    session: Session, worker: str, lease_s: float, task_run_id: str | None = None
) -> Claim | None:
    """Take the highest-priority claimable change (queued, or claimed with an expired lease)
    for ``worker``; ``None`` when there is none. Commits."""
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(20):  # SQLite: another worker may take every candidate first
        now = utcnow()
        query = (
            select(DraftClaim.change_id)
            .where(_claimable(now))
            .order_by(DraftClaim.priority.desc(), DraftClaim.queued_at, DraftClaim.change_id)
            .limit(1 if postgres else _CANDIDATES)
        )
        if postgres:
            query = query.with_for_update(skip_locked=True)
        candidates = list(session.scalars(query))
        if not candidates:
            session.commit()
            return None
        for change_id in candidates:
            token = str(uuid.uuid4())
            taken = session.execute(
                _update()
                .where(DraftClaim.change_id == change_id, _claimable(now))
                .values(
                    state=CLAIMED,
                    token=token,
                    worker=worker,
                    task_run_id=task_run_id,
                    attempts=DraftClaim.attempts + 1,
                    claimed_at=now,
                    lease_expires_at=now + timedelta(seconds=lease_s),
                    error=None,
                )
            )
            if getattr(taken, "rowcount", 0) == 1:
                label, attempts = session.execute(
                    select(DraftClaim.label, DraftClaim.attempts).where(
                        DraftClaim.change_id == change_id
                    )
                ).one()
                session.commit()
                return Claim(change_id, token, label, attempts)
        session.commit()
    return None


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(
        DraftClaim.change_id == claim.change_id,
        DraftClaim.token == claim.token,
        DraftClaim.state == CLAIMED,
    )


def renew(session: Session, claim: Claim, lease_s: float) -> bool:
    """Extend the lease; False when the claim is no longer this worker's."""
    result = session.execute(
        _update().where(_held(claim)).values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    return getattr(result, "rowcount", 0) == 1


def finish(session: Session, claim: Claim, draft_id: int) -> None:
    """Mark the claim done with its draft, in the caller's transaction (the one that stores
    the draft); raises ``ClaimLost`` when another worker took it over."""
    result = session.execute(
        _update()
        .where(_held(claim))
        .values(state=DONE, draft_id=draft_id, finished_at=utcnow(), token=None)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ClaimLost(f"change {claim.change_id}: the claim was taken over by another worker")


def release(session: Session, claim: Claim, error: str, *, retry: bool) -> str:
    """Give the claim back after a failure: queued again (``retry`` and attempts left) or
    failed. Returns the new state (unchanged when the claim was no longer held)."""
    state = QUEUED if retry and claim.attempt < MAX_ATTEMPTS else FAILED
    result = session.execute(
        _update()
        .where(_held(claim))
        .values(
            state=state,
            token=None,
            lease_expires_at=None,
            error=error[:4000],
            finished_at=utcnow() if state == FAILED else None,
        )
    )
    return state if getattr(result, "rowcount", 0) == 1 else "lost"


def requeue_expired(
    session: Session, change_ids: Iterable[int] | None = None
) -> list[tuple[int, str | None, str | None]]:
    """Put claims whose lease expired back in the queue (their worker stopped renewing: it
    died or lost the database). Returns (change id, Prefect task run id, worker) of each."""
    now = utcnow()
    where = [DraftClaim.state == CLAIMED, DraftClaim.lease_expires_at < now]
    if change_ids is not None:
        where.append(DraftClaim.change_id.in_(list(change_ids)))
    rows = session.execute(
        select(
            DraftClaim.change_id, DraftClaim.task_run_id, DraftClaim.worker, DraftClaim.token
        ).where(*where)
    ).all()
    out = []
    for change_id, task_run_id, worker, token in rows:
        result = session.execute(
            _update()
            .where(
                DraftClaim.change_id == change_id,
                DraftClaim.token == token,
                DraftClaim.state == CLAIMED,
                DraftClaim.lease_expires_at < now,
            )
            .values(
                state=QUEUED,
                token=None,
                lease_expires_at=None,
                error=f"lease expired: {worker} stopped renewing its claim",
            )
        )
        if getattr(result, "rowcount", 0) == 1:
            out.append((change_id, task_run_id, worker))
    session.flush()
    return out


def live_claims(session: Session) -> int:
    """Claims held under a lease that has not expired (drafts in progress somewhere)."""
    now = utcnow()
    return int(
        session.scalar(
            select(func.count())
            .select_from(DraftClaim)
            .where(DraftClaim.state == CLAIMED, DraftClaim.lease_expires_at >= now)
        )
        or 0
    )


def rows(session: Session, change_ids: Iterable[int]) -> list[DraftClaim]:
    ids = list(change_ids)
    if not ids:
        return []
    return list(session.scalars(select(DraftClaim).where(DraftClaim.change_id.in_(ids))))


def counts(session: Session) -> dict[str, int]:
    """Claims per state (``expired``: claimed, lease over), for status displays."""
    out = {QUEUED: 0, CLAIMED: 0, "expired": 0, DONE: 0, FAILED: 0}
    for state, n in session.execute(
        select(DraftClaim.state, func.count()).group_by(DraftClaim.state)
    ):
        out[str(state)] = int(n)
    out["expired"] = int(
        session.scalar(
            select(func.count())
            .select_from(DraftClaim)
            .where(DraftClaim.state == CLAIMED, DraftClaim.lease_expires_at < utcnow())
        )
        or 0
    )
    out[CLAIMED] -= out["expired"]
    return out
