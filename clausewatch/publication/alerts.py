"""Same-day alerts: one message per newly published analysis per matching subscriber."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from clausewatch.core.settings import get_settings
from clausewatch.publication.catalog import load_catalog
from clausewatch.publication.delivery import DeliveryReport, cancel_open, deliver
from clausewatch.publication.messages import alert_message
from clausewatch.publication.subscriptions import active_subscribers, matches, subscribed_since
from clausewatch.publication.targets import webhook_client


def send_same_day_alerts(session: Session) -> DeliveryReport:
    """Alert every ``alert`` subscriber about each matching analysis approved since they
    subscribed. Already-sent alerts are skipped; failed ones are retried."""
    report = DeliveryReport()
    catalog = load_catalog(session, with_changes=False)
    published = {a.draft_id for a in catalog.analyses}
    cancel_open(
        session,
        "alert",
        lambda d: all(i in published for i in d.draft_ids),
        report,
        "the analysis is no longer published",
    )
    oldest_first = sorted(catalog.analyses, key=lambda a: (a.approved_at, a.draft_id))
    with webhook_client(get_settings()) as http:
        for sub in active_subscribers(session, "alert"):
            for item in oldest_first:
                if not subscribed_since(sub, item) or not matches(sub, item):
                    continue
                deliver(
                    session,
                    sub,
                    "alert",
                    f"analysis:{item.draft_id}",
                    [item.draft_id],
                    partial(alert_message, item, sub),
                    report,
                    http=http,
                )
    return report
