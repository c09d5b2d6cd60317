"""The task workers' queue (drafting.claims) on SQLite and PostgreSQL: one claim per change,
leases that expire, and no second draft from a worker whose claim was taken over."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from drafting_support import with_change
from sqlalchemy import func, select

from clausewatch.drafting import claims
from clausewatch.drafting.service import draft_change
from clausewatch.llm.fake import FakeLLM
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft, DraftClaim
from tests.test_drafting_service import _seed, stub_retrieval

__all__ = ["stub_retrieval"]  # a fixture used below


def _queue(ids: dict[str, int]) -> list[int]:
    order = [ids["modified"], ids["added"], ids["removed"], ids["moved"]]
    with session_scope() as s:
        n = claims.enqueue(
            s, [(c, f"change {c}", float(len(order) - i)) for i, c in enumerate(order)], run_id=1
        )
    assert n == len(order)
    return order


def test_racing_workers_claim_each_change_once_highest_priority_first(db_workspace: Path) -> None:
    with session_scope() as s:
        ids = _seed(s)
    order = _queue(ids)
    taken: list[tuple[str, claims.Claim]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def worker(name: str) -> None:
        start.wait()
        while True:
            with session_scope() as s:
                claim = claims.claim_next(s, name, lease_s=60)
            if claim is None:
                return
            with lock:
                taken.append((name, claim))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(c.change_id for _, c in taken) == sorted(order)  # each once, none lost
    assert len({c.token for _, c in taken}) == len(order)
    with session_scope() as s:
        assert claims.counts(s)["claimed"] == len(order)
        assert claims.claimable_count(s) == 0

    # one worker alone takes them highest priority first
    with session_scope() as s:
        s.execute(DraftClaim.__table__.update().values(state="queued", token=None))
    seen = []
    while True:
        with session_scope() as s:
            claim = claims.claim_next(s, "solo", lease_s=60)
        if claim is None:
            break
        seen.append(claim.change_id)
    assert seen == order


def test_a_taken_over_claim_stores_no_second_draft(
    db_workspace: Path, stub_retrieval: None
) -> None:
    with session_scope() as s:
        ids = _seed(s)
    with session_scope() as s:
        claims.enqueue(s, [(ids["modified"], "modified", 1.0)], run_id=None)
    with session_scope() as s:
        first = claims.claim_next(s, "dead-worker", lease_s=3)
    assert first is not None
    with session_scope() as s:
        assert claims.claim_next(s, "other", lease_s=60) is None  # leased: nothing to take
        assert claims.renew(s, first, lease_s=1)  # expired or not, still its own
    time.sleep(1.5)
    with session_scope() as s:
        second = claims.claim_next(s, "live-worker", lease_s=60)
    assert second is not None and second.change_id == first.change_id
    assert second.token != first.token and second.attempt == 2
    with session_scope() as s:
        assert not claims.renew(s, first, lease_s=60)  # the old holder cannot renew ...

    # ... nor store its draft: the claim check runs in the transaction that stores it
    def finish_first(session, draft):  # type: ignore[no-untyped-def]
        claims.finish(session, first, draft.id)

    with pytest.raises(claims.ClaimLost), session_scope() as s:
        draft_change(s, first.change_id, llm=FakeLLM([with_change()]), on_store=finish_first)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Draft)) == 0

    def finish_second(session, draft):  # type: ignore[no-untyped-def]
        claims.finish(session, second, draft.id)

    with session_scope() as s:
        row = draft_change(
            s, second.change_id, llm=FakeLLM([with_change()]), on_store=finish_second
        )
    with session_scope() as s:
        claim_row = s.get(DraftClaim, second.change_id)
        assert claim_row is not None
        assert (claim_row.state, claim_row.draft_id, claim_row.worker) == (
            "done",
            row.id,
            "live-worker",
        )
        assert s.scalar(select(func.count()).select_from(Draft)) == 1


def test_expired_claims_go_back_to_the_queue_and_failures_are_retried(db_workspace: Path) -> None:
    with session_scope() as s:
        ids = _seed(s)
    _queue(ids)
    with session_scope() as s:
        a = claims.claim_next(s, "a", lease_s=0.2, task_run_id="run-a")
        b = claims.claim_next(s, "b", lease_s=60)
    assert a is not None and b is not None
    time.sleep(0.4)
    with session_scope() as s:
        assert claims.live_claims(s) == 1
        assert claims.requeue_expired(s) == [(a.change_id, "run-a", "a")]
        assert claims.requeue_expired(s) == []  # once
        row = s.get(DraftClaim, a.change_id)
        assert (
            row is not None and row.state == "queued" and "a stopped renewing" in (row.error or "")
        )
        assert not claims.renew(s, a, lease_s=60)

    # a retryable failure is queued again until its attempts are spent, then it fails
    with session_scope() as s:
        assert claims.release(s, b, "TransientError: down", retry=True) == "queued"
    for attempt in range(2, claims.MAX_ATTEMPTS + 1):
        with session_scope() as s:
            again = None
            while again is None or again.change_id != b.change_id:
                again = claims.claim_next(s, "b", lease_s=60)
                assert again is not None
        assert again.attempt == attempt
        with session_scope() as s:
            state = claims.release(s, again, "TransientError: down", retry=True)
        assert state == ("failed" if attempt == claims.MAX_ATTEMPTS else "queued")
    with session_scope() as s:
        assert claims.release(s, again, "late", retry=False) == "lost"  # no longer held
        # the next run queues the failed change again; a live claim is left to its worker
        live = s.scalars(select(DraftClaim).where(DraftClaim.state == "claimed")).first()
        assert live is not None
        live_id, token = live.change_id, live.token
    with session_scope() as s:
        claims.enqueue(s, [(b.change_id, "b", 9.0), (live_id, "live", 9.0)], run_id=2)
    with session_scope() as s:
        assert s.get(DraftClaim, b.change_id).state == "queued"  # type: ignore[union-attr]
        held = s.get(DraftClaim, live_id)
        assert held is not None and held.state == "claimed" and held.token == token
