"""Record-then-send delivery of one alert or digest to one subscriber.

Each (subscriber, kind, item_key) has one ``deliveries`` row. It is claimed (``pending``) and
committed before sending, so a rerun never sends a ``sent`` item again; a ``failed`` item is
tried again by later runs until ``delivery_max_runs`` runs have failed (then ``gave_up``).
A crash between sending and recording leaves ``pending``, which the next run retries: delivery
is at-least-once for that window and exactly-once otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clausewatch.core.errors import ClausewatchError
from clausewatch.core.settings import Settings, get_settings
from clausewatch.publication.mailer import build_email, send_email
from clausewatch.publication.targets import check_email, check_webhook_url, webhook_client
from clausewatch.publication.webhook import DeliveryFailed, post_webhook
from clausewatch.storage.models import Delivery, Subscriber
from clausewatch.storage.models.base import utcnow

OPEN_STATUSES = ("pending", "failed")


@dataclass
class Message:
    """One message in every form a channel needs."""

    event: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any]


class DeliveryReport(BaseModel):
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    already_sent: int = 0
    cancelled: int = 0
    errors: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "gave_up": self.gave_up,
            "already_sent": self.already_sent,
            "cancelled": self.cancelled,
        }


def _send(
    settings: Settings,
    sub: Subscriber,
    delivery: Delivery,
    message: Message,
    http: httpx.Client | None,
) -> int:
    if sub.channel == "webhook":
        payload = {**message.payload, "delivery_id": delivery.id}
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:  # vetted again now: the address may have changed since the subscriber was added
            url = check_webhook_url(sub.target, allow_private=settings.allow_private_addresses)
        except ClausewatchError as exc:
            raise DeliveryFailed(f"webhook {type(exc).__name__}: {exc}", 0) from exc
        with ExitStack() as stack:
            client = http or stack.enter_context(webhook_client(settings))
            return post_webhook(
                url,
                sub.secret or "",
                body,
                event=message.event,
                delivery_id=str(delivery.id),
                attempts=settings.delivery_attempts,
                backoff_s=settings.delivery_backoff_s,
                user_agent=settings.user_agent,
                client=client,
            )
    if sub.channel == "email":
        try:  # rows written before targets were validated whole may hold a list
            address, _name = check_email(sub.target)
        except ClausewatchError as exc:
            raise DeliveryFailed(str(exc), 0) from exc
        msg = build_email(settings, address, message.subject, message.text, message.html)
        return send_email(settings, msg, address)
    raise DeliveryFailed(f"unknown channel {sub.channel!r}", 0)


def _claim(
    session: Session, sub: Subscriber, kind: str, item_key: str, draft_ids: list[int]
) -> Delivery | None:
    """The row to send now, or None when it was sent, abandoned or claimed concurrently."""
    existing = session.scalar(
        select(Delivery).where(
            Delivery.subscriber_id == sub.id, Delivery.kind == kind, Delivery.item_key == item_key
        )
    )
    if existing is not None:
        return existing if existing.status in OPEN_STATUSES else None
    delivery = Delivery(
        subscriber_id=sub.id, kind=kind, item_key=item_key, draft_ids=draft_ids, status="pending"
    )
    session.add(delivery)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return delivery


def deliver(
    session: Session,
    sub: Subscriber,
    kind: str,
    item_key: str,
    draft_ids: list[int],
    build: Callable[[], Message],
    report: DeliveryReport,
    detail: dict[str, Any] | None = None,
    http: httpx.Client | None = None,
) -> None:
    """Send one alert/digest unless it was already sent; record the outcome either way."""
    settings = get_settings()
    delivery = _claim(session, sub, kind, item_key, draft_ids)
    if delivery is None:
        report.already_sent += 1
        return
    delivery.draft_ids = list(draft_ids)
    if detail:
        delivery.detail = detail
    delivery.runs += 1
    delivery.last_attempt_at = utcnow()
    try:
        try:
            message = build()
        except Exception as exc:  # a composing bug must not stop the other subscribers
            raise DeliveryFailed(f"could not compose the message: {exc!r}", 0) from exc
        delivery.attempts += _send(settings, sub, delivery, message, http)
    except DeliveryFailed as exc:
        delivery.attempts += exc.attempts
        delivery.last_error = str(exc)[:2000]
        if delivery.runs >= settings.delivery_max_runs:
            delivery.status = "gave_up"
            report.gave_up += 1
        else:
            delivery.status = "failed"
            report.failed += 1
        report.errors.append(f"subscriber {sub.id} {kind} {item_key}: {exc}")
    else:
        delivery.status = "sent"
        delivery.sent_at = utcnow()
        delivery.last_error = None
        report.sent += 1
    session.commit()


def cancel_open(
    session: Session,
    kind: str,
    keep: Callable[[Delivery], bool],
    report: DeliveryReport,
    reason: str,
) -> None:
    """Close open deliveries of ``kind`` that ``keep`` rejects (their content was unpublished),
    so they are neither retried nor reported as failing forever."""
    rows = session.scalars(
        select(Delivery).where(Delivery.kind == kind, Delivery.status.in_(OPEN_STATUSES))
    ).all()
    for delivery in rows:
        if not keep(delivery):
            delivery.status = "cancelled"
            delivery.last_error = reason
            report.cancelled += 1
    session.commit()
