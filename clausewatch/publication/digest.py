"""Weekly digests: one message per subscriber per ISO week (Monday to Sunday, UTC).

A run sends the digest of the last complete week before ``now``; digests of earlier weeks that
failed are retried. A week with nothing new for a subscriber sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.settings import get_settings
from clausewatch.publication.catalog import Catalog, PublishedAnalysis, load_catalog
from clausewatch.publication.delivery import OPEN_STATUSES, DeliveryReport, cancel_open, deliver
from clausewatch.publication.messages import digest_message
from clausewatch.publication.subscriptions import active_subscribers, matches
from clausewatch.publication.targets import webhook_client
from clausewatch.storage.models import Delivery, Subscriber


def week_window(now: datetime) -> tuple[str, datetime, datetime]:
    """(``YYYY-Www``, start, end) of the last complete ISO week before ``now``."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    this_monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = this_monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}", start, this_monday


def _window_of(key: str) -> tuple[str, datetime, datetime]:
    start = datetime.strptime(key + "-1", "%G-W%V-%u").replace(tzinfo=UTC)
    return key, start, start + timedelta(days=7)


def _items(
    catalog: Catalog, sub: Subscriber, start: datetime, end: datetime
) -> list[PublishedAnalysis]:
    chosen = [a for a in catalog.analyses if start <= a.approved_at < end and matches(sub, a)]
    return sorted(chosen, key=lambda a: (a.approved_at, a.draft_id))


def _send(
    session: Session,
    catalog: Catalog,
    sub: Subscriber,
    window: tuple[str, datetime, datetime],
    report: DeliveryReport,
    http: httpx.Client,
) -> None:
    key, start, end = window
    items = _items(catalog, sub, start, end)
    if not items:
        return
    last_day = end - timedelta(days=1)
    deliver(
        session,
        sub,
        "digest",
        f"week:{key}",
        [a.draft_id for a in items],
        lambda: digest_message(items, sub, key, start, last_day),
        report,
        detail={"week": key, "start": start.isoformat(), "end": end.isoformat()},
        http=http,
    )


def send_weekly_digest(session: Session, now: datetime | None = None) -> DeliveryReport:
    """Send each ``digest`` subscriber the digest of the last complete week (and retry
    earlier weeks' digests that failed)."""
    report = DeliveryReport()
    catalog = load_catalog(session, with_changes=False)
    current = week_window(now or datetime.now(UTC))
    published = {a.draft_id for a in catalog.analyses}
    cancel_open(
        session,
        "digest",
        lambda d: any(i in published for i in d.draft_ids),
        report,
        "none of the digest's analyses is still published",
    )
    with webhook_client(get_settings()) as http:
        for sub in active_subscribers(session, "digest"):
            created = sub.created_at.replace(tzinfo=UTC)
            outstanding = session.scalars(
                select(Delivery.item_key).where(
                    Delivery.subscriber_id == sub.id,
                    Delivery.kind == "digest",
                    Delivery.status.in_(OPEN_STATUSES),
                    Delivery.item_key != f"week:{current[0]}",
                )
            ).all()
            for item_key in sorted(outstanding):
                week = _window_of(item_key.removeprefix("week:"))
                _send(session, catalog, sub, week, report, http)
            if created < current[2]:
                _send(session, catalog, sub, current, report, http)
    return report
