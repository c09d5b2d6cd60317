"""Labelled data: our examples, the CLAUDETTE layout, approved drafts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clausewatch.classifier.data import (
    load_approved_drafts,
    load_claudette,
    load_examples,
    parse_tags,
)
from clausewatch.core.errors import InputError
from clausewatch.schemas.taxonomy import CATEGORIES, UNFAIR_TOS_SLUGS
from tests.classifier_support import write_claudette


def test_parse_tags_keeps_levels_2_and_3_of_the_eight_categories() -> None:
    assert parse_tags("ch2 ter3") == {"unilateral-change", "termination"}
    assert parse_tags("j1 law1 ltd1") == set()  # clearly fair: not a label
    assert parse_tags("pinc2 countrym") == set()  # not among the eight
    assert parse_tags("a2 j3") == {"arbitration", "jurisdiction"}
    assert parse_tags("") == set()


def test_load_claudette(tmp_path: Path) -> None:
    data = load_claudette(write_claudette(tmp_path))
    assert len(data) == 18
    assert set(data.groups) == {"Alpha", "Beta", "Gamma"}
    assert data.labels[data.texts.index("The courts of Ohio have exclusive jurisdiction.")] == set()
    arb = data.texts.index("Any dispute will be resolved by binding arbitration in Denver.")
    assert data.labels[arb] == {"arbitration", "jurisdiction"}
    assert all(a == frozenset(UNFAIR_TOS_SLUGS) for a in data.annotated)


def test_claudette_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="CLAUDETTE layout"):
        load_claudette(tmp_path)
    root = write_claudette(tmp_path / "x")
    (root / "tags" / "en" / "original" / "Alpha.txt").unlink()
    with pytest.raises(InputError, match="missing tags file"):
        load_claudette(root)
    root = write_claudette(tmp_path / "y")
    (root / "tags" / "en" / "original" / "Beta.txt").write_text("\n".join(["ch2"] * 30))
    with pytest.raises(InputError, match="30 tag lines but 6 sentences"):
        load_claudette(root)


def test_shipped_examples_cover_every_slug() -> None:
    data = load_examples()
    counts = Counter(label for labels in data.labels for label in labels)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 8
    assert sum(1 for labels in data.labels if not labels) >= 20  # "none" sentences
    assert len(set(data.texts)) == len(data.texts)


def test_bad_example_file(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("weather:\n  - It rains.\n")
    with pytest.raises(InputError, match="unknown taxonomy slug 'weather'"):
        load_examples(tmp_path)
    (tmp_path / "x.yaml").write_text("children: not a list\n")
    with pytest.raises(InputError, match="expected a list"):
        load_examples(tmp_path)


def test_approved_drafts_become_examples(workspace: Path) -> None:
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.drafts import Draft

    def draft(status: str, text: str, cats: list[str], n: int) -> Draft:
        return Draft(
            input_hash=f"h{n}",
            clause_uid=f"u{n}",
            platform="exampleco",
            doc_type="privacy_policy",
            status=status,
            analysis={"categories": cats, "excerpt": text},
            prompt_id="p",
            prompt_version="1",
            rendered_prompt="",
            model="m",
            backend="fake",
        )

    with session_scope() as session:
        session.add(draft("approved", "We keep logs for a year.", ["data-retention"], 1))
        session.add(draft("pending", "We sell data.", ["data-sharing"], 2))
        session.add(draft("approved", "Odd.", ["not-a-slug"], 3))
    data = load_approved_drafts()
    assert data.texts == ["We keep logs for a year."]
    assert data.labels == [frozenset({"data-retention"})]
    assert data.annotated[0] == frozenset(CATEGORIES)


def test_user_data_alone_defines_the_labels_it_annotates(tmp_path: Path) -> None:
    from clausewatch.classifier.train import defer_to

    user = load_claudette(write_claudette(tmp_path))
    extra = defer_to(user, load_examples())
    owned = set(UNFAIR_TOS_SLUGS)
    assert all(not (a & owned) for a in extra.annotated)
    assert all(not (labels & owned) for labels in extra.labels)
    assert any("children" in labels for labels in extra.labels)
    # with no user data the examples keep every label
    from clausewatch.classifier.data import LabelledSet

    assert len(defer_to(LabelledSet(), load_examples())) == len(load_examples())
