"""Segmentation: paragraphs, list items and table rows with heading trails and stable ids."""

from __future__ import annotations

import pytest

from clausewatch.clauses.canonical import canonical, is_date_line
from clausewatch.clauses.segment import segment
from tests.conftest import POLICIES

DOC = """Privacy Policy
==============

Last updated: March 3, 2025

We collect data you give us,
wrapped over two lines.

1\\. What we collect
-------------------

* **Account data:** your name and [email](https://example.com/a).
  * nested item about *cookies*
* second item

  with a second

### Sharing

| Recipient | Purpose |
| --- | --- |
| Processors | Hosting <br> support |
| Advertisers | Ads |

#### Last Updated: May 5, 2023

> A quoted paragraph.

![](https://example.com/pixel.png)

We collect data you give us, wrapped over two lines.
"""


SHARING = ["Privacy Policy", "1. What we collect", "Sharing"]


def test_clauses_paths_and_kinds() -> None:
    clauses = segment(DOC)
    got = [(c.kind, c.path, c.text) for c in clauses]
    assert got == [
        ("paragraph", ["Privacy Policy"], "Last updated: March 3, 2025"),
        ("paragraph", ["Privacy Policy"], "We collect data you give us, wrapped over two lines."),
        (
            "list_item",
            ["Privacy Policy", "1. What we collect"],
            "**Account data:** your name and [email](https://example.com/a).",
        ),
        ("list_item", ["Privacy Policy", "1. What we collect"], "nested item about *cookies*"),
        (
            "list_item",
            ["Privacy Policy", "1. What we collect"],
            "second item\n\nwith a second",
        ),
        ("table_row", ["Privacy Policy", "1. What we collect", "Sharing"], "Recipient | Purpose"),
        (
            "table_row",
            ["Privacy Policy", "1. What we collect", "Sharing"],
            "Processors | Hosting <br> support",
        ),
        ("table_row", ["Privacy Policy", "1. What we collect", "Sharing"], "Advertisers | Ads"),
        # a "Last updated" heading is kept as a clause, not as a heading
        (
            "paragraph",
            ["Privacy Policy", "1. What we collect", "Sharing"],
            "Last Updated: May 5, 2023",
        ),
        ("paragraph", ["Privacy Policy", "1. What we collect", "Sharing"], "A quoted paragraph."),
        (
            "paragraph",
            ["Privacy Policy", "1. What we collect", "Sharing"],
            "We collect data you give us, wrapped over two lines.",
        ),
    ]
    assert [c.position for c in clauses] == list(range(len(clauses)))
    assert all(c.tokens > 0 for c in clauses)


def test_ids_are_content_derived_and_repeats_are_suffixed() -> None:
    clauses = segment(DOC)
    first, repeat = clauses[1], clauses[-1]
    assert first.id.startswith("c") and len(first.id) == 13
    assert repeat.id == first.id + "-2"
    assert len({c.id for c in clauses}) == len(clauses)
    # the same text elsewhere, with cosmetic differences, gets the same id
    other = segment("# Other\n\nWe  collect data you give us, wrapped over *two* lines.\n")
    assert other[0].id == first.id
    assert [c.id for c in segment(DOC)] == [c.id for c in clauses]


def test_without_tokens_and_empty_input() -> None:
    assert all(c.tokens == 0 for c in segment(DOC, with_tokens=False))
    assert segment("") == []
    assert segment("# Only a heading\n\n---\n") == []


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("We  may\nshare it.", "We may share it."),
        ("“Services” — the site", '"Services" - the site'),
        ("**Data** _we_ keep", "Data we keep"),
        ("see [our notice](https://a.example/x)", "see [our notice](https://b.example/y)"),
        ("1\\. Collection", "2. Collection"),
        ("(a) the user", "(b) the user"),
        ("Terms &amp; rules", "Terms & rules"),
    ],
)
def test_cosmetic_differences_share_a_canonical_form(left: str, right: str) -> None:
    assert canonical(left) == canonical(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("We may share it.", "We will share it."),
        ("We share it.", "We do not share it."),
        ("kept for 30 days", "kept for 60 days"),
        ("16 or older", "18 or older"),
        ("user_id", "userid"),
    ],
)
def test_meaningful_differences_stay(left: str, right: str) -> None:
    assert canonical(left) != canonical(right)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Last updated: March 3, 2025", True),
        ("**Last Updated:** August 23, 2025", True),
        ("Effective May 1, 2025[Previous Version](https://x.example/a)", True),
        ("Effective April 2nd 2024", True),
        ("Last Modified: 3/25/2025", True),
        ("**🗓 Effective Date: September 15, 2022**", True),
        ('"**Effective Date**" refers to the last date of signature of the Agreement.', False),
        ("We updated our practices on March 3, 2025 to share more data with partners.", False),
    ],
)
def test_date_lines(line: str, expected: bool) -> None:
    assert is_date_line(line) is expected


@pytest.mark.shared_data
def test_every_real_policy_segments() -> None:
    files = sorted(POLICIES.glob("*/*/*.md"))
    assert len(files) >= 200
    for path in files:
        clauses = segment(path.read_text(encoding="utf-8"), with_tokens=False)
        assert clauses, path
        assert len({c.id for c in clauses}) == len(clauses), path
        assert all(canonical(c.text) for c in clauses), path
