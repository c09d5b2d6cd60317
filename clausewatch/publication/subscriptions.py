"""Subscribers: who watches which platforms and categories, how, and how often."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.core.settings import get_settings
from clausewatch.publication.catalog import PublishedAnalysis
from clausewatch.publication.names import exposure_at_least
from clausewatch.publication.targets import check_email, check_new_webhook
from clausewatch.schemas.taxonomy import CATEGORIES
from clausewatch.schemas.vocabulary import ExposureLevel
from clausewatch.storage.models import Subscriber

CHANNELS = ("webhook", "email")
MODES = ("alert", "digest")


def _check_target(channel: str, target: str, on_warning: Callable[[str], None]) -> str:
    if channel == "webhook":
        allow = get_settings().allow_private_addresses
        url, warning = check_new_webhook(target, allow_private=allow)
        if warning:
            on_warning(f"warning: {warning}")
        return url
    address, _name = check_email(target)
    return address


def _check_categories(categories: Iterable[str]) -> list[str]:
    chosen = sorted({c.strip() for c in categories if c.strip()})
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        raise InputError(
            f"unknown categories {', '.join(unknown)}; use the taxonomy slugs "
            f"({', '.join(CATEGORIES[:4])}, ...)"
        )
    return chosen


def add_subscriber(
    session: Session,
    *,
    channel: str,
    target: str,
    mode: str = "alert",
    platforms: Iterable[str] = (),
    categories: Iterable[str] = (),
    min_exposure: str | None = None,
    name: str = "",
    secret: str | None = None,
    on_warning: Callable[[str], None] = lambda _line: None,
) -> Subscriber:
    """Validate and store a subscriber. A webhook without a secret gets a random one; its URL
    must pass the SSRF guard. An e-mail target is one address (a display name given with it
    becomes the subscriber's name unless ``name`` is set)."""
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}")
    if min_exposure is not None and min_exposure not in tuple(ExposureLevel):
        raise InputError(f"minimum exposure must be one of {', '.join(ExposureLevel)}")
    if channel == "webhook":
        secret = secret or secrets.token_hex(32)
        if len(secret) < 16:
            raise InputError("webhook secret must be at least 16 characters")
    else:
        secret = None
    if channel == "email" and not name.strip():
        name = check_email(target)[1]
    sub = Subscriber(
        name=name.strip()[:200],
        channel=channel,
        target=_check_target(channel, target, on_warning),
        secret=secret,
        mode=mode,
        platforms=sorted({p.strip() for p in platforms if p.strip()}),
        categories=_check_categories(categories),
        min_exposure=ExposureLevel(min_exposure) if min_exposure is not None else None,
        active=True,
    )
    session.add(sub)
    session.flush()
    return sub


def list_subscribers(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).order_by(Subscriber.id)))


def remove_subscriber(session: Session, subscriber_id: int) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id)
    if sub is None:
        raise InputError(f"no subscriber with id {subscriber_id}")
    session.delete(sub)
    session.flush()
    return sub


def active_subscribers(session: Session, mode: str) -> list[Subscriber]:
    stmt = (
        select(Subscriber)
        .where(Subscriber.active.is_(True), Subscriber.mode == mode)
        .order_by(Subscriber.id)
    )
    return list(session.scalars(stmt))


def matches(sub: Subscriber, item: PublishedAnalysis) -> bool:
    """Platforms and categories are each "any" when empty; both must match when set."""
    if sub.platforms and item.platform not in sub.platforms:
        return False
    if sub.categories and not set(sub.categories) & set(item.analysis.categories):
        return False
    return exposure_at_least(item.analysis.exposure.level, sub.min_exposure)


def subscribed_since(sub: Subscriber, item: PublishedAnalysis) -> bool:
    """Alerts cover analyses approved after the subscription started."""
    created = (
        sub.created_at.replace(tzinfo=UTC) if sub.created_at.tzinfo is None else sub.created_at
    )
    return item.approved_at >= created


def describe(sub: Subscriber) -> str:
    what = []
    what.append("platforms " + ", ".join(sub.platforms) if sub.platforms else "all platforms")
    if sub.categories:
        what.append("categories " + ", ".join(sub.categories))
    if sub.min_exposure:
        what.append(f"exposure >= {sub.min_exposure}")
    return "; ".join(what)


def redact_target(sub: Subscriber) -> str:
    """A webhook URL may carry a token in its path or query: show scheme and host only."""
    if sub.channel == "webhook":
        parts = urlsplit(sub.target)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}/…"
    return sub.target
