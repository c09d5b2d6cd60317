"""Regulation full texts: the front matter is read by python-frontmatter."""

from __future__ import annotations

from pathlib import Path

from clausewatch.regulations.fulltext import read_chunks


def test_front_matter_gives_the_title_and_a_broken_header_is_dropped(tmp_path: Path) -> None:
    articles = tmp_path / "gdpr" / "articles"
    articles.mkdir(parents=True)
    body = "# Article 5 - Principles\n\n1. Personal data shall be processed lawfully.\n"
    (articles / "article_005.md").write_text(
        "---\ntitle: 'Principles relating to processing.'\narticle: 5\n---\n" + body
    )
    (articles / "article_006.md").write_text(
        "---\ntitle: [unclosed\n---\n# Article 6 - Lawfulness\n\nProcessing shall be lawful.\n"
    )
    (articles / "article_007.md").write_text("# Article 7 - Consent\n\nConsent shall be given.\n")
    chunks = {c.provision_id: c for c in read_chunks(tmp_path)}
    assert chunks["gdpr:5"].title == "Principles relating to processing"
    assert chunks["gdpr:5"].text == "1. Personal data shall be processed lawfully."
    # a header that is not YAML is dropped, not read as text; the heading gives the title
    assert chunks["gdpr:6"].title == "Lawfulness"
    assert chunks["gdpr:6"].text == "Processing shall be lawful."
    assert chunks["gdpr:7"].title == "Consent"
