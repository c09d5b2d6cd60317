"""The static site: provision pages with every section (escaped), timelines, topics, feeds,
the dataset and its schema, accessibility basics, and byte-identical rebuilds."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import jsonschema
import pytest
from markupsafe import escape
from publication_support import HOSTILE, MIDDLE_TEXT, UNAPPROVED_STATUSES, all_text, marker, seed

from clausewatch.core.errors import InputError
from clausewatch.publication.catalog import load_catalog
from clausewatch.publication.site import build_site
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Draft


@pytest.fixture
def site(db_workspace: Path, tmp_path: Path) -> Path:
    with session_scope() as session:
        seed(session)
    out = tmp_path / "site"
    with session_scope() as session:
        report = build_site(session, out)
    assert report.analyses == 3 and report.problems == []
    return out


def _provision(out: Path, platform: str) -> Path:
    pages = [p for p in (out / "platforms" / platform).rglob("*.html") if p.name != "index.html"]
    assert len(pages) == 1, pages
    return pages[0]


def _analysis_of(platform: str) -> dict[str, Any]:
    with session_scope() as session:
        draft = session.query(Draft).filter_by(platform=platform, status="approved").one()
        assert draft.analysis is not None
        return draft.analysis


def test_provision_page_has_every_section_escaped(site: Path) -> None:
    page = _provision(site, "nimbus-ai").read_text()
    a = _analysis_of("nimbus-ai")
    for heading in (
        "Summary",
        "Key point",
        "Interpretive note",
        "What this means for you",
        "How other platforms handle this",
        "The provision",
        "What changed",
        "Compliance analysis",
        "Regulatory landscape",
        "Exposure",
        "Jurisdiction flags",
        "Contract and vendor implications",
        "Compliance considerations",
        "Monitoring",
        "About this analysis",
    ):
        assert f">{heading}</h" in page, heading
    texts = [
        a["title"],
        a["summary"],
        a["key_point"],
        a["interpretive_note"],
        a["what_this_means"],
        a["excerpt"],
        a["exposure"]["rationale"],
        a["contract_vendor_implications"],
        a["change"]["before"],
        a["change"]["after"],
        a["change"]["summary"],
        *a["compliance_considerations"],
    ]
    texts += [c["excerpt"] for c in a["comparisons"]] + [c["note"] for c in a["comparisons"]]
    texts += [r["provision_id"] for r in a["regulatory_landscape"]]
    texts += [r["title"] for r in a["regulatory_landscape"]]
    texts += [r["relevance"] for r in a["regulatory_landscape"]]
    texts += [f["jurisdiction"] for f in a["jurisdiction_flags"]]
    texts += [f["note"] for f in a["jurisdiction_flags"]]
    for text in texts:
        assert str(escape(text)) in page, text
    # the hostile clause and title are escaped, never live markup
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "<b>without</b>" not in page and "&lt;b&gt;without&lt;/b&gt;" in page
    # source: platform + document + version date
    assert "Excerpt from Nimbus AI's Privacy Policy, version of" in page
    assert "1 March 2026" in page
    assert "High exposure" in page
    # monitoring line: 3 versions = changed twice since the first
    assert "This document has changed 2 times since 2 September 2025." in page
    # disclaimer in our own words
    assert "not a legal determination" in page


def test_comparisons_link_to_published_pages(site: Path) -> None:
    page = _provision(site, "nimbus-ai").read_text()
    quill = _provision(site, "quillstone")
    helix = _provision(site, "helix-labs")
    assert f'href="../../quillstone/terms-of-service/{quill.name}"' in page
    assert f'href="../../helix-labs/privacy-policy/{helix.name}"' in page


def test_no_script_or_raw_markup_anywhere(site: Path) -> None:
    for name, text in all_text(site).items():
        if name.endswith((".html", ".atom", ".json")):
            assert "<script" not in text.lower(), name


def test_unapproved_drafts_appear_nowhere(site: Path) -> None:
    files = all_text(site)
    assert len(files) > 20
    for status in UNAPPROVED_STATUSES:
        for name, text in files.items():
            assert marker(status) not in text, (status, name)
    with session_scope() as session:
        catalog = load_catalog(session)
    assert {a.platform for a in catalog.analyses} == {"nimbus-ai", "quillstone", "helix-labs"}
    assert len(catalog.analyses) == 3


def test_timeline_lists_versions_changes_and_analyses(site: Path) -> None:
    page = (site / "platforms/nimbus-ai/privacy-policy/index.html").read_text()
    for date in ("2 September 2025", "1 December 2025", "1 March 2026"):
        assert date in page
    assert page.count('<li id="change-') == 2
    assert "First version archived." in page
    assert (
        '<del><span class="sr-only">removed: </span>and</del> <ins><span class="sr-only">'
        "added: </span>&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp;</ins>"
    ) in page
    assert str(escape(HOSTILE)) in page
    assert "Nimbus AI &lt;script&gt;trains&lt;/script&gt; on prompts &amp; files" in page
    assert "This document has changed 2 times since 2 September 2025." in page
    # documents without analyses still get a timeline
    quiet = (site / "platforms/quillstone/terms-of-service/index.html").read_text()
    assert "has not changed since we started tracking it on 4 November 2025" in quiet


def test_topic_and_index_pages(site: Path) -> None:
    topic = (site / "topics/training-use.html").read_text()
    assert "<h1>What 2 AI platforms say about training on your data</h1>" in topic
    assert "What Nimbus AI says" in topic and "What Quillstone says" in topic
    retention = (site / "topics/data-retention.html").read_text()
    assert "What 1 AI platform says about how long they keep your data" in retention
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://clausewatch.example/topics/training-use.html</loc>" in sitemap
    assert "Sitemap: https://clausewatch.example/sitemap.xml" in (site / "robots.txt").read_text()
    index = (site / "index.html").read_text()
    assert "Latest policy change analyses" in index
    assert "What 2 AI platforms say about training on your data" in index
    assert (site / "platforms/helix-labs/index.html").exists()
    assert "Helix Labs" in (site / "platforms/index.html").read_text()


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tags: set[str] = set()
        self.ids: list[str] = []
        self.imgs_without_alt = 0
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.add(tag)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        element_id = attributes.get("id")
        if element_id:
            self.ids.append(element_id)
        if tag == "img" and "alt" not in attributes:
            self.imgs_without_alt += 1
        if tag == "html":
            self.html_lang = attributes.get("lang")


def test_pages_are_valid_and_accessible(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 10
    for path in pages:
        text = path.read_text()
        html5lib.HTMLParser(strict=True).parse(text)  # raises on any parse error
        outline = _Outline()
        outline.feed(text)
        assert outline.html_lang == "en", path
        assert {"header", "nav", "main", "footer"} <= outline.tags, path
        assert outline.headings[0] == 1 and outline.headings.count(1) == 1, path
        for before, after in zip(outline.headings, outline.headings[1:], strict=False):
            assert after <= before + 1, (path, outline.headings)
        assert outline.imgs_without_alt == 0, path
        assert len(outline.ids) == len(set(outline.ids)), path
        assert '<meta name="viewport"' in text
        assert (
            "http://" not in text.split("<body>")[0] and "https://" not in text.split("<body>")[0]
        )
    css = (site / "assets/style.css").read_text()
    assert "@media" in css and "url(" not in css


def test_feeds_parse(site: Path) -> None:
    feed = feedparser.parse((site / "feeds/all.atom").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    titles = [e.title for e in feed.entries]
    assert titles == [
        "Helix Labs: Helix Labs deletes conversation logs after 30 days",
        "Quillstone: Quillstone requires opt-in before training",
        "Nimbus AI: Nimbus AI <script>trains</script> on prompts & files",
    ]
    nimbus = feed.entries[2]
    assert nimbus.link.startswith("https://clausewatch.example/platforms/nimbus-ai/")
    assert {t.term for t in nimbus.tags} == {"training-use", "user-choice"}
    assert "<script>" not in nimbus.content[0].value
    for path, count in (
        ("feeds/platforms/nimbus-ai.atom", 1),
        ("feeds/documents/nimbus-ai--privacy-policy.atom", 1),
        ("feeds/documents/quillstone--terms-of-service.atom", 1),
        ("feeds/topics/training-use.atom", 2),
        ("feeds/topics/data-retention.atom", 1),
    ):
        parsed = feedparser.parse((site / path).read_bytes())
        assert parsed.bozo == 0, path
        assert len(parsed.entries) == count, path
        assert parsed.feed.title


def test_dataset_validates_against_its_schema(site: Path) -> None:
    data = json.loads((site / "data/dataset.json").read_text())
    schema = json.loads((site / "data/schema/dataset-1.0.json").read_text())
    assert schema["version"] == data["schema_version"] == "1.0"
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(data)
    assert [a["draft_id"] for a in data["analyses"]] == sorted(
        a["draft_id"] for a in data["analyses"]
    )
    assert len(data["analyses"]) == 3
    nimbus = next(a for a in data["analyses"] if a["platform"] == "nimbus-ai")
    assert nimbus["analysis"]["excerpt"] == HOSTILE
    assert nimbus["source"]["version_date"] == "2026-03-01T00:00:00Z"
    assert {d["platform"] for d in data["documents"]} == {"nimbus-ai", "quillstone", "helix-labs"}
    # the schema is not vacuous: a broken dataset is rejected
    nimbus["analysis"]["exposure"]["level"] = "Extreme"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_rebuild_is_byte_identical_and_rewrites_nothing(site: Path) -> None:
    old = 1_000_000_000
    for p in site.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(old, old))
    before = _snapshot(site)
    with session_scope() as session:
        report = build_site(session, site)
    assert (report.written, report.removed) == (0, 0)
    assert report.unchanged == len(before) - 1  # everything but the manifest
    assert _snapshot(site) == before


def test_rebuild_writes_changes_and_removes_stale_pages(site: Path) -> None:
    helix = _provision(site, "helix-labs")
    with session_scope() as session:
        draft = session.query(Draft).filter_by(platform="helix-labs", status="approved").one()
        draft.status = "superseded"
    with session_scope() as session:
        report = build_site(session, site)
    assert str(helix.relative_to(site)) in report.removed_paths
    assert not helix.exists()
    assert not (site / "topics/data-retention.html").exists()
    assert not (site / "feeds/topics/data-retention.atom").exists()
    assert "index.html" in report.written_paths
    assert "Helix Labs deletes" not in (site / "data/dataset.json").read_text()
    # the timeline of the document stays, and comparisons now link to it
    assert (site / "platforms/helix-labs/privacy-policy/index.html").exists()
    nimbus = _provision(site, "nimbus-ai").read_text()
    assert 'href="../../helix-labs/privacy-policy/index.html">Helix Labs</a>' in nimbus
    assert helix.name not in (site / "sitemap.xml").read_text()


def test_refuses_a_foreign_non_empty_directory(db_workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with session_scope() as session, pytest.raises(InputError):
        build_site(session, out)
    assert (out / "notes.txt").read_text() == "keep me"


def test_invalid_approved_analysis_is_reported_not_published(
    db_workspace: Path, tmp_path: Path
) -> None:
    with session_scope() as session:
        seeded = seed(session)
        broken = session.get(Draft, seeded.quill.id)
        assert broken is not None
        broken.analysis = {"title": "half an analysis"}
    with session_scope() as session:
        report = build_site(session, tmp_path / "site")
    assert report.analyses == 2
    assert len(report.problems) == 1 and f"draft {seeded.quill.id}" in report.problems[0]
    assert "half an analysis" not in "".join(all_text(tmp_path / "site").values())


def test_control_characters_are_dropped_from_pages_and_feeds(
    db_workspace: Path, tmp_path: Path
) -> None:
    with session_scope() as session:
        seeded = seed(session)
        draft = session.get(Draft, seeded.nimbus.id)
        assert draft is not None
        analysis = dict(draft.analysis or {})
        analysis["title"] = "Bell\x07 and escape\x1b title"
        analysis["summary"] = "Nul\x00 vertical\x0b tab and C1\x85 summary."
        draft.analysis = analysis
    out = tmp_path / "site"
    with session_scope() as session:
        assert build_site(session, out).analyses == 3
    page = _provision(out, "nimbus-ai").read_text()
    html5lib.HTMLParser(strict=True).parse(page)
    assert "Bell and escape title" in page and "Nul vertical tab and C1 summary." in page
    feed = feedparser.parse((out / "feeds/all.atom").read_bytes())
    assert feed.bozo == 0
    assert "Nimbus AI: Bell and escape title" in [e.title for e in feed.entries]


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_dropped_from_pages_feeds_dataset_and_payloads(
    db_workspace: Path, tmp_path: Path
) -> None:
    """A right-to-left override in policy text or model output makes published text read
    differently from what it says ("Trojan Source"): no writer lets one through."""
    from clausewatch.publication.messages import alert_message
    from clausewatch.storage.models import Subscriber

    hidden = "".join(f"{c}x" for c in BIDI_CONTROLS)
    with session_scope() as session:
        seeded = seed(session)
        draft = session.get(Draft, seeded.nimbus.id)
        assert draft is not None
        analysis = dict(draft.analysis or {})
        analysis["title"] = "Opt \u202eout\u202c of training"
        analysis["summary"] = f"Summary {hidden} ends."
        analysis["key_point"] = "Isolated \u2066text\u2069 here."
        analysis["compliance_considerations"] = [f"Check {hidden}."]
        draft.analysis = analysis
    out = tmp_path / "site"
    with session_scope() as session:
        assert build_site(session, out).analyses == 3
    texts = all_text(out)
    assert "data/dataset.json" in texts and "feeds/all.atom" in texts
    for path, text in texts.items():
        found = sorted({f"U+{ord(c):04X}" for c in text if c in BIDI_CONTROLS})
        assert not found, f"{path} carries {found}"
    page = _provision(out, "nimbus-ai").read_text()
    assert "Opt out of training" in page and "Isolated text here." in page
    dataset = json.loads(texts["data/dataset.json"])
    titles = [a["analysis"]["title"] for a in dataset["analyses"]]
    assert "Opt out of training" in titles

    with session_scope() as session:
        item = next(a for a in load_catalog(session).analyses if a.draft_id == seeded.nimbus.id)
        sub = Subscriber(id=1, channel="webhook", target="https://example.org/", mode="alert")
        message = alert_message(item, sub)
    blob = json.dumps(message.payload, ensure_ascii=False) + message.text + message.html
    assert not [c for c in blob if c in BIDI_CONTROLS]
    assert message.payload["analysis"]["analysis"]["title"] == "Opt out of training"


def test_bad_site_url_or_output_path_is_a_clear_error(
    db_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.core.errors import ConfigError
    from clausewatch.core.settings import reset_settings

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with session_scope() as session, pytest.raises(InputError, match="cannot write the site"):
        build_site(session, blocker / "site")
    monkeypatch.setenv("CLAUSEWATCH_SITE_URL", "clausewatch.example")
    reset_settings()
    with session_scope() as session, pytest.raises(ConfigError, match="SITE_URL"):
        build_site(session, tmp_path / "site")


def test_change_section_falls_back_to_the_archive(db_workspace: Path, tmp_path: Path) -> None:
    with session_scope() as session:
        seeded = seed(session)
        draft = session.get(Draft, seeded.nimbus.id)
        assert draft is not None
        draft.analysis = {**(draft.analysis or {}), "change": None}
    with session_scope() as session:
        build_site(session, tmp_path / "site")
    page = _provision(tmp_path / "site", "nimbus-ai").read_text()
    assert (
        '<strong class="change-kind">Modified</strong> clause, as recorded in our archive.' in page
    )
    assert str(escape(MIDDLE_TEXT)) in page  # "before" from the archived clause
    assert '<ins><span class="sr-only">added: </span>&lt;script&gt;' in page
    html5lib.HTMLParser(strict=True).parse(page)
