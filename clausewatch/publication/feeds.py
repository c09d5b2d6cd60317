"""Atom feeds (feedgen): site-wide, per platform, per document and per category."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from clausewatch.publication.catalog import Catalog, PublishedAnalysis
from clausewatch.publication.names import (
    category_title,
    clean_text,
    display_name,
    slugify,
    topic_phrase,
)

# An empty feed still needs an <updated>; a fixed date keeps rebuilds byte-identical.
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)
FEED_LIMIT = 100


def all_feed_path() -> str:
    return "feeds/all.atom"


def platform_feed_path(platform: str) -> str:
    return f"feeds/platforms/{slugify(platform)}.atom"


def document_feed_path(platform: str, doc_type: str) -> str:
    return f"feeds/documents/{slugify(platform)}--{slugify(doc_type)}.atom"


def topic_feed_path(category: str) -> str:
    return f"feeds/topics/{slugify(category)}.atom"


def absolute(site_url: str, path: str) -> str:
    return site_url.rstrip("/") + "/" + path


def _tag(site_url: str, what: str) -> str:
    host = urlsplit(site_url).hostname or "clausewatch"
    return f"tag:{host},2026:{what}"


def _entry_html(item: PublishedAnalysis) -> str:
    from clausewatch.publication.render import html_env

    return html_env().get_template("site/feed_entry.html.j2").render(item=item)


def render_feed(
    site_url: str,
    feed_path: str,
    title: str,
    subtitle: str,
    page: str,
    items: Iterable[PublishedAnalysis],
) -> bytes:
    chosen = sorted(items, key=lambda a: (a.approved_at, a.draft_id), reverse=True)[:FEED_LIMIT]
    fg = FeedGenerator()
    fg.id(_tag(site_url, feed_path))
    fg.title(clean_text(title))
    fg.subtitle(clean_text(subtitle))
    fg.author({"name": "clausewatch editors"})
    fg.link(href=absolute(site_url, feed_path), rel="self", type="application/atom+xml")
    fg.link(href=absolute(site_url, page), rel="alternate", type="text/html")
    fg.language("en")
    fg.updated(chosen[0].approved_at if chosen else EMPTY_FEED_UPDATED)
    for item in chosen:
        a = item.analysis
        entry = fg.add_entry(order="append")
        entry.id(_tag(site_url, f"analysis:{item.draft_id}"))
        entry.title(clean_text(f"{display_name(item.platform)}: {a.title}"))
        entry.link(href=absolute(site_url, item.page), rel="alternate", type="text/html")
        entry.published(item.approved_at)
        entry.updated(item.approved_at)
        entry.summary(clean_text(a.summary))
        entry.content(_entry_html(item), type="html")
        for cat in a.categories:
            entry.category(term=cat, label=category_title(cat))
    data: bytes = fg.atom_str(pretty=True)
    return data


def build_feeds(catalog: Catalog, site_url: str, site_title: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    out[all_feed_path()] = render_feed(
        site_url,
        all_feed_path(),
        f"{site_title}: every published analysis",
        "Editor-approved analyses of changes to AI platforms' policies and terms.",
        "index.html",
        catalog.analyses,
    )
    by_platform: dict[str, list[PublishedAnalysis]] = defaultdict(list)
    by_category: dict[str, list[PublishedAnalysis]] = defaultdict(list)
    cat: str
    by_document: dict[tuple[str, str], list[PublishedAnalysis]] = defaultdict(list)
    for item in catalog.analyses:
        by_platform[item.platform].append(item)
        by_document[(item.platform, item.doc_type)].append(item)
        for cat in item.analysis.categories:
            by_category[cat].append(item)
    for platform in catalog.platforms():
        name = display_name(platform)
        path = platform_feed_path(platform)
        out[path] = render_feed(
            site_url,
            path,
            f"{site_title}: {name}",
            f"Analyses of changes to {name}'s policies and terms.",
            f"platforms/{slugify(platform)}/index.html",
            by_platform.get(platform, []),
        )
    for doc in catalog.documents:
        path = document_feed_path(doc.platform, doc.doc_type)
        out[path] = render_feed(
            site_url,
            path,
            f"{site_title}: {doc.platform_name} {doc.document_name}",
            f"Analyses of changes to {doc.platform_name}'s {doc.document_name}.",
            doc.page,
            by_document.get((doc.platform, doc.doc_type), []),
        )
    for cat, items in sorted(by_category.items()):
        path = topic_feed_path(cat)
        out[path] = render_feed(
            site_url,
            path,
            f"{site_title}: {category_title(cat)}",
            f"What AI platforms say about {topic_phrase(cat)}.",
            f"topics/{slugify(cat)}.html",
            items,
        )
    return out
