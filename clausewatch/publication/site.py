"""The static site: provision pages, document timelines, platform and topic pages, an index,
the JSON dataset and the Atom feeds, written so that an unchanged rebuild rewrites nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

from sqlalchemy.orm import Session

from clausewatch.core.errors import ConfigError, InputError
from clausewatch.core.settings import get_settings
from clausewatch.publication.catalog import (
    DATASET_SCHEMA_VERSION,
    Catalog,
    PublishedAnalysis,
    PublishedDocument,
    load_catalog,
    platform_page,
    topic_page,
)
from clausewatch.publication.dataset import DATASET_PATH, SCHEMA_PATH, dataset_bytes, schema_bytes
from clausewatch.publication.feeds import (
    absolute,
    all_feed_path,
    build_feeds,
    document_feed_path,
    platform_feed_path,
    topic_feed_path,
)
from clausewatch.publication.names import category_title, display_name, human_date, topic_phrase
from clausewatch.publication.render import STATIC, html_env
from clausewatch.publication.writer import BuildReport, write_tree
from clausewatch.storage.files import StorageError

__all__ = ["BuildReport", "build_site", "monitoring_line", "render_site"]


def monitoring_line(doc: PublishedDocument) -> str:
    if doc.first_seen is None:
        return "No version of this document has been archived yet."
    since = human_date(doc.first_seen)
    if doc.change_count == 0:
        return f"This document has not changed since we started tracking it on {since}."
    times = "time" if doc.change_count == 1 else "times"
    return f"This document has changed {doc.change_count} {times} since {since}."


@dataclass
class _Site:
    catalog: Catalog
    site_title: str
    files: dict[str, bytes]

    def render(self, template: str, page: str, **context: Any) -> None:
        context.setdefault("feeds", [("All analyses", all_feed_path())])
        context.setdefault("breadcrumbs", [])
        context.setdefault("description", "")
        html = (
            html_env()
            .get_template(f"site/{template}")
            .render(page=page, site_title=self.site_title, **context)
        )
        self.files[page] = html.encode("utf-8")


def _topic_title(category: str, platform_count: int) -> str:
    noun = "AI platform says" if platform_count == 1 else "AI platforms say"
    return f"What {platform_count} {noun} about {topic_phrase(category)}"


def _topic_description(category: str, platform_count: int) -> str:
    who = "1 AI platform's" if platform_count == 1 else f"{platform_count} AI platforms'"
    return (
        f"What {who} privacy policies and terms say about {topic_phrase(category)}, "
        "compared provision by provision."
    )


def _by_category(catalog: Catalog) -> dict[str, list[PublishedAnalysis]]:
    groups: dict[str, list[PublishedAnalysis]] = defaultdict(list)
    for item in catalog.analyses:
        for cat in item.analysis.categories:
            groups[cat].append(item)
    return dict(sorted(groups.items()))


def _platform_groups(items: list[PublishedAnalysis]) -> list[tuple[str, list[PublishedAnalysis]]]:
    groups: dict[str, list[PublishedAnalysis]] = defaultdict(list)
    for item in items:
        groups[item.platform].append(item)
    return [(display_name(p), groups[p]) for p in sorted(groups)]


def _provision_pages(site: _Site, topics: dict[str, str]) -> None:
    changes = {
        change.change_id: change
        for doc in site.catalog.documents
        for version in doc.versions
        for change in version.changes
    }
    for item in site.catalog.analyses:
        doc = site.catalog.document(item.platform, item.doc_type)
        assert doc is not None
        doc_feed = document_feed_path(item.platform, item.doc_type)
        site.render(
            "provision.html.j2",
            item.page,
            title=item.analysis.title,
            description=item.analysis.summary,
            item=item,
            archive_change=changes.get(item.change_id) if item.change_id is not None else None,
            platform_page=platform_page(item.platform),
            topic_pages=topics,
            monitoring_line=monitoring_line(doc),
            document_feed=doc_feed,
            feeds=[(f"{doc.platform_name} {doc.document_name}", doc_feed)],
            breadcrumbs=[
                (doc.platform_name, platform_page(item.platform)),
                (doc.document_name, doc.page),
            ],
        )


def _document_pages(site: _Site) -> None:
    by_id = site.catalog.by_id()
    for doc in site.catalog.documents:
        doc_feed = document_feed_path(doc.platform, doc.doc_type)
        analyses = sorted(
            (by_id[i] for i in doc.analyses),
            key=lambda a: (a.approved_at, a.draft_id),
            reverse=True,
        )
        site.render(
            "document.html.j2",
            doc.page,
            title=f"{doc.platform_name} {doc.document_name}",
            description=f"Every archived version of {doc.platform_name}'s {doc.document_name}, "
            "every clause that changed, and our analyses.",
            doc=doc,
            analyses=analyses,
            analyses_by_id=by_id,
            monitoring_line=monitoring_line(doc),
            document_feed=doc_feed,
            feeds=[(f"{doc.platform_name} {doc.document_name}", doc_feed)],
            breadcrumbs=[(doc.platform_name, platform_page(doc.platform))],
        )


def _platform_pages(site: _Site) -> None:
    rows = []
    for platform in site.catalog.platforms():
        name = display_name(platform)
        docs = [d for d in site.catalog.documents if d.platform == platform]
        items = [a for a in site.catalog.analyses if a.platform == platform]
        feed = platform_feed_path(platform)
        site.render(
            "platform.html.j2",
            platform_page(platform),
            title=name,
            description=f"{name}'s privacy policy and terms: archived versions, clause changes "
            "and analyses.",
            platform_name=name,
            documents=[(d, monitoring_line(d)) for d in docs],
            analyses=items,
            platform_feed=feed,
            feeds=[(name, feed)],
            breadcrumbs=[("Platforms", "platforms/index.html")],
        )
        rows.append((name, platform_page(platform), len(docs), len(items)))
    site.render(
        "platforms.html.j2",
        "platforms/index.html",
        title="AI platforms we monitor",
        description="Every AI platform whose policies and terms we archive and analyse.",
        rows=rows,
    )


def _topic_pages(site: _Site, groups: dict[str, list[PublishedAnalysis]]) -> list[Any]:
    listing = []
    for cat, items in groups.items():
        per_platform = _platform_groups(items)
        title = _topic_title(cat, len(per_platform))
        feed = topic_feed_path(cat)
        site.render(
            "topic.html.j2",
            topic_page(cat),
            title=title,
            description=_topic_description(cat, len(per_platform)),
            groups=per_platform,
            topic_feed=feed,
            feeds=[(category_title(cat), feed)],
            breadcrumbs=[("Topics", "topics/index.html")],
        )
        listing.append((title, topic_page(cat), len(items)))
    site.render(
        "topics.html.j2",
        "topics/index.html",
        title="Topics",
        description="Compare what AI platforms say about training, retention, sharing, "
        "arbitration, liability and more.",
        topics=listing,
    )
    return listing


def _sitemap(site_url: str, pages: list[str]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        *(f"<url><loc>{xml_escape(absolute(site_url, page))}</loc></url>" for page in pages),
        "</urlset>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_site(catalog: Catalog, site_url: str, site_title: str) -> dict[str, bytes]:
    """Every file of the site, path (relative to the site root) -> bytes."""
    site = _Site(catalog=catalog, site_title=site_title, files={})
    groups = _by_category(catalog)
    topics = {cat: topic_page(cat) for cat in groups}
    _provision_pages(site, topics)
    _document_pages(site)
    _platform_pages(site)
    listing = _topic_pages(site, groups)
    site.render(
        "index.html.j2",
        "index.html",
        title="AI platform policy changes, clause by clause",
        description="Editor-approved analyses of changes to AI platforms' privacy policies and "
        "terms of service, with regulatory mapping and cross-platform comparisons.",
        latest=catalog.analyses[:20],
        topics=listing,
        platforms=[(display_name(p), platform_page(p)) for p in catalog.platforms()],
        platform_count=len(catalog.platforms()),
        schema_path=SCHEMA_PATH,
        schema_version=DATASET_SCHEMA_VERSION,
    )
    site.render(
        "about.html.j2",
        "about.html",
        title="Methodology",
        description="How clausewatch archives policies, detects clause changes and drafts "
        "analyses that editors approve.",
    )
    files = site.files
    files["sitemap.xml"] = _sitemap(site_url, sorted(p for p in files if p.endswith(".html")))
    files["robots.txt"] = (
        f"User-agent: *\nAllow: /\nSitemap: {absolute(site_url, 'sitemap.xml')}\n".encode()
    )
    files[DATASET_PATH] = dataset_bytes(catalog, site_url)
    files[SCHEMA_PATH] = schema_bytes(site_url)
    files.update(build_feeds(catalog, site_url, site_title))
    for asset in ("style.css", "logo.svg"):
        files[f"assets/{asset}"] = (STATIC / asset).read_bytes()
    return files


def build_site(session: Session, out_dir: Path | str) -> BuildReport:
    """Build the site from approved analyses into ``out_dir`` (a folder or a storage URL such
    as ``s3://bucket/site``); unchanged files are not touched and files of pages that no
    longer exist are removed."""
    settings = get_settings()
    parts = urlsplit(settings.site_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"CLAUSEWATCH_SITE_URL must be an absolute http(s) URL: {parts.geturl()!r}"
        )
    catalog = load_catalog(session)
    files = render_site(catalog, settings.site_url, settings.site_title)
    try:
        report = write_tree(out_dir, files)
    except StorageError as exc:
        if exc.retryable:
            raise
        raise InputError(f"cannot write the site to {out_dir}: {exc}") from exc
    report.analyses = len(catalog.analyses)
    report.problems = list(catalog.problems)
    return report
