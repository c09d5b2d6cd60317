"""Delivery health for ``clausewatch status``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clausewatch.publication.subscriptions import redact_target
from clausewatch.storage.models import Delivery, Subscriber


def delivery_status(session: Session) -> dict[str, Any]:
    """Counts of deliveries by status, subscribers by mode, and the failing subscribers."""
    by_status = {
        status: count
        for status, count in session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
    }
    subscribers = {
        mode: count
        for mode, count in session.execute(
            select(Subscriber.mode, func.count())
            .where(Subscriber.active.is_(True))
            .group_by(Subscriber.mode)
        )
    }
    failing: list[dict[str, Any]] = []
    rows = session.execute(
        select(Delivery, Subscriber)
        .join(Subscriber, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.status.in_(("failed", "gave_up")))
        .order_by(Subscriber.id, Delivery.last_attempt_at.desc(), Delivery.id.desc())
    )
    seen: dict[int, dict[str, Any]] = {}
    for delivery, sub in rows:
        entry = seen.get(sub.id)
        if entry is None:
            entry = {
                "subscriber_id": sub.id,
                "name": sub.name,
                "channel": sub.channel,
                "target": redact_target(sub),
                "failed": 0,
                "gave_up": 0,
                "last_error": delivery.last_error,
                "last_attempt_at": (
                    delivery.last_attempt_at.isoformat() if delivery.last_attempt_at else None
                ),
            }
            seen[sub.id] = entry
            failing.append(entry)
        entry[delivery.status] += 1
    return {
        "deliveries": {
            s: by_status.get(s, 0) for s in ("sent", "failed", "pending", "gave_up", "cancelled")
        },
        "subscribers": {m: subscribers.get(m, 0) for m in ("alert", "digest")},
        "failing_subscribers": failing,
    }
