"""The content of alerts and digests: webhook JSON payloads and e-mail bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clausewatch.core.settings import get_settings
from clausewatch.publication.catalog import DATASET_SCHEMA_VERSION, PublishedAnalysis
from clausewatch.publication.delivery import Message
from clausewatch.publication.feeds import absolute
from clausewatch.publication.names import clean_tree, display_name
from clausewatch.publication.render import html_env, text_env
from clausewatch.storage.models import Subscriber


def _item_payload(item: PublishedAnalysis, site_url: str) -> dict[str, Any]:
    data = item.model_dump(mode="json")
    data["url"] = absolute(site_url, item.page)
    cleaned: dict[str, Any] = clean_tree(data)
    return cleaned


def alert_message(item: PublishedAnalysis, sub: Subscriber) -> Message:
    settings = get_settings()
    url = absolute(settings.site_url, item.page)
    context = {
        "item": item,
        "url": url,
        "sub": sub,
        "site_title": settings.site_title,
        "site_url": settings.site_url,
    }
    subject = (
        f"[{settings.site_title}] {display_name(item.platform)}: {item.analysis.title} "
        f"({item.analysis.exposure.level} exposure)"
    )
    return Message(
        event="analysis.published",
        subject=subject,
        text=text_env().get_template("email/alert.txt.j2").render(**context),
        html=html_env().get_template("email/alert.html.j2").render(**context),
        payload={
            "event": "analysis.published",
            "schema_version": DATASET_SCHEMA_VERSION,
            "subscriber_id": sub.id,
            "analysis": _item_payload(item, settings.site_url),
        },
    )


def digest_message(
    items: list[PublishedAnalysis], sub: Subscriber, week: str, start: datetime, end: datetime
) -> Message:
    settings = get_settings()
    entries = [(item, absolute(settings.site_url, item.page)) for item in items]
    context = {
        "entries": entries,
        "week": week,
        "start": start,
        "end": end,
        "sub": sub,
        "site_title": settings.site_title,
        "site_url": settings.site_url,
    }
    count = len(items)
    noun = "analysis" if count == 1 else "analyses"
    return Message(
        event="digest.weekly",
        subject=f"[{settings.site_title}] Weekly digest {week}: {count} new {noun}",
        text=text_env().get_template("email/digest.txt.j2").render(**context),
        html=html_env().get_template("email/digest.html.j2").render(**context),
        payload={
            "event": "digest.weekly",
            "schema_version": DATASET_SCHEMA_VERSION,
            "subscriber_id": sub.id,
            "week": week,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "analyses": [_item_payload(item, settings.site_url) for item in items],
        },
    )
