"""Alignment of two versions: added, removed, modified (word diff), moved; nothing cosmetic."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from clausewatch.clauses.align import align
from clausewatch.clauses.segment import segment
from tests.conftest import POLICIES

OLD = """# Terms

Last updated: January 1, 2025

## 1. Accounts

You must be 16 or older to use the service.

We may suspend accounts that break these terms.

You are responsible for your password.

## 2. Data

We keep logs for 30 days.

We never sell your personal data.

Contact us at the address below.

## 3. Payments

Fees are charged monthly in advance.

Refunds are given at our discretion.
"""


REFUNDS = "Refunds are given at our discretion."


def _diff(old: str, new: str) -> list[tuple[str, str | None, str | None]]:
    alignment = align(segment(old, with_tokens=False), segment(new, with_tokens=False))
    return [
        (c.kind, c.old.text if c.old else None, c.new.text if c.new else None)
        for c in alignment.changes
    ]


def test_identical_and_cosmetic_versions_have_no_changes() -> None:
    assert _diff(OLD, OLD) == []
    cosmetic = (
        OLD.replace("Last updated: January 1, 2025", "Last updated: June 9, 2026")
        .replace("## 1. Accounts", "## 4. Accounts")
        .replace("We may suspend", "We *may*  suspend")
        .replace("30 days.", "30\ndays.")
        .replace("your personal data", "your [personal data](https://x.example/p)")
    )
    assert _diff(OLD, cosmetic) == []


def test_one_word_changes_are_modifications_with_a_word_diff() -> None:
    new = (
        OLD.replace("30 days", "90 days")
        .replace("We never sell", "We sell")
        .replace("We may suspend", "We will suspend")
    )
    alignment = align(segment(OLD), segment(new))
    kinds = [c.kind for c in alignment.changes]
    assert kinds == ["modified", "modified", "modified"]
    logs = alignment.changes[1]
    assert logs.word_diff is not None
    assert [(op.op, op.text) for op in logs.word_diff] == [
        ("equal", "We keep logs for"),
        ("delete", "30"),
        ("insert", "90"),
        ("equal", "days."),
    ]
    assert logs.similarity is not None and 0.5 < logs.similarity < 1
    assert logs.old is not None and logs.new is not None
    assert logs.new.id == logs.old.id  # identity kept across versions


def test_added_removed_and_moved() -> None:
    new = (
        OLD.replace("Contact us at the address below.\n\n", "")
        .replace(
            "You are responsible for your password.\n",
            "You are responsible for your password.\n\nWe may share data with advertisers.\n",
        )
        .replace("Refunds are given at our discretion.\n", "")
        .replace(
            "## 1. Accounts\n",
            "## 1. Accounts\n\nRefunds are given at our discretion.\n",
        )
    )
    changes = _diff(OLD, new)
    assert sorted(changes, key=str) == sorted(
        [
            (
                "moved",
                "Refunds are given at our discretion.",
                "Refunds are given at our discretion.",
            ),
            ("added", None, "We may share data with advertisers."),
            ("removed", "Contact us at the address below.", None),
        ],
        key=str,
    )


def test_renamed_heading_moves_nothing_and_reordered_clause_moves() -> None:
    renamed = OLD.replace("## 2. Data", "## 2. Your data")
    assert _diff(OLD, renamed) == []
    swapped = OLD.replace(
        "We keep logs for 30 days.\n\nWe never sell your personal data.\n\n"
        "Contact us at the address below.",
        "We never sell your personal data.\n\nContact us at the address below.\n\n"
        "We keep logs for 30 days.",
    )
    assert _diff(OLD, swapped) == [
        ("moved", "We keep logs for 30 days.", "We keep logs for 30 days.")
    ]


def test_new_clauses_inherit_ids_and_stay_unique() -> None:
    old = segment(OLD)
    new_text = OLD.replace("30 days", "45 days") + "\nFees are charged monthly in advance.\n"
    alignment = align(old, segment(new_text))
    old_ids = {c.text: c.id for c in old}
    by_text = {c.text: c.id for c in alignment.clauses}
    assert by_text["We keep logs for 45 days."] == old_ids["We keep logs for 30 days."]
    assert len({c.id for c in alignment.clauses}) == len(alignment.clauses)
    assert alignment.counts() == {"added": 1, "removed": 0, "modified": 1, "moved": 0}


def test_a_rewritten_text_is_removed_and_added() -> None:
    changes = _diff("# A\n\nWe sell data.\n", "# A\n\nCookies help us remember you.\n")
    assert [kind for kind, _, _ in changes] == ["removed", "added"]


def _documents() -> dict[Path, list[Path]]:
    docs: dict[Path, list[Path]] = defaultdict(list)
    for path in sorted(POLICIES.glob("*/*/*.md")):
        docs[path.parent].append(path)
    return docs


@pytest.mark.shared_data
@pytest.mark.slow
def test_every_consecutive_real_pair_diffs_and_self_diffs_are_empty() -> None:
    pairs = 0
    for versions in _documents().values():
        segs = [segment(p.read_text(encoding="utf-8"), with_tokens=False) for p in versions]
        for seg in segs:
            assert align(seg, seg).changes == []
        for old, new in itertools.pairwise(segs):
            alignment = align(old, new)
            pairs += 1
            ids = [c.id for c in alignment.clauses]
            assert len(set(ids)) == len(ids)
            assert len(alignment.clauses) == len(new)
            counts = alignment.counts()
            # every new clause is either unchanged, modified, moved or added
            assert alignment.unchanged + counts["modified"] + counts["moved"] + counts[
                "added"
            ] <= len(new)
            for change in alignment.changes:
                assert (change.old is None) == (change.kind == "added")
                assert (change.new is None) == (change.kind == "removed")
                if change.kind == "modified":
                    assert change.word_diff
    assert pairs >= 190


def test_a_clause_changing_section_does_not_make_its_neighbours_move() -> None:
    old = (
        "# Terms\n\n## Data\n\nWe keep logs for 30 days.\n\nWe never sell data.\n\n"
        "## Payments\n\nFees are monthly.\n\nRefunds at our discretion.\n"
    )
    new = (
        "# Terms\n\n## Data\n\nWe keep logs for 90 days.\n\nRefunds at our discretion.\n\n"
        "## Payments\n\nFees are monthly.\n\nWe may sell data to partners.\n"
    )
    alignment = align(segment(old, with_tokens=False), segment(new, with_tokens=False))
    got = [(c.kind, c.moved, c.new.text if c.new else None) for c in alignment.changes]
    assert got == [
        ("modified", False, "We keep logs for 90 days."),
        ("moved", True, "Refunds at our discretion."),
        ("modified", True, "We may sell data to partners."),
    ]
    assert alignment.unchanged == 1


def test_clause_rewritten_in_its_slot_is_modified_not_removed_and_added() -> None:
    from clausewatch.clauses.align import align
    from clausewatch.clauses.segment import segment

    before = (
        "# Policy\n\n## Use\n\nWe use data to run the service.\n\n"
        "We do not use your conversations to train our models.\n\n"
        "## Retention\n\nWe keep logs for 30 days.\n"
    )
    after = (
        "# Policy\n\n## Use\n\nWe use data to run the service.\n\n"
        "We may use your conversations, including Inputs and Outputs, to train and improve "
        "our models and share them with research partners unless you opt out in Settings.\n\n"
        "## Retention\n\nWe keep logs for 30 days.\n"
    )
    result = align(segment(before), segment(after))
    assert [c.kind for c in result.changes] == ["modified"]
    change = result.changes[0]
    assert change.old is not None and change.new is not None
    assert change.new.id == change.old.id  # the clause keeps its identity
    assert change.similarity is not None and change.similarity < 0.5


def test_unrelated_clause_in_the_same_slot_stays_removed_and_added() -> None:
    from clausewatch.clauses.align import align
    from clausewatch.clauses.segment import segment

    before = "# P\n\n## A\n\nAlpha one.\n\nPayments are charged monthly in advance.\n\nOmega.\n"
    after = "# P\n\n## A\n\nAlpha one.\n\nChildren under thirteen may not register.\n\nOmega.\n"
    kinds = sorted(c.kind for c in align(segment(before), segment(after)).changes)
    assert kinds == ["added", "removed"]


_DIGEST_SCRIPT = """
import hashlib, sys
from pathlib import Path
from clausewatch.clauses.align import align
from clausewatch.clauses.segment import segment
h = hashlib.sha256()
for old, new in zip(sys.argv[1::2], sys.argv[2::2]):
    a = segment(Path(old).read_text(encoding="utf-8"), with_tokens=False)
    b = segment(Path(new).read_text(encoding="utf-8"), with_tokens=False)
    h.update(align(a, b).model_dump_json().encode())
print(h.hexdigest())
"""


@pytest.mark.shared_data
def test_alignment_does_not_depend_on_the_hash_seed() -> None:
    """Ties between equally good candidates break the same way in every process (these pairs
    came out differently under PYTHONHASHSEED 1-4 when candidates were gathered from sets)."""
    import os
    import subprocess
    import sys

    pairs = [
        POLICIES / "cursor/terms_of_service/2025-04-19.md",
        POLICIES / "cursor/terms_of_service/2025-06-14.md",
        POLICIES / "llama-api/privacy_policy/2025-09-19.md",
        POLICIES / "llama-api/privacy_policy/2025-11-21.md",
        POLICIES / "xai/privacy_policy/" / _previous(POLICIES / "xai/privacy_policy", "2025-02-14"),
        POLICIES / "xai/privacy_policy/2025-02-14.md",
        POLICIES
        / "lovable/privacy_policy/"
        / _previous(POLICIES / "lovable/privacy_policy", "2026-04-14"),
        POLICIES / "lovable/privacy_policy/2026-04-14.md",
    ]
    repo = Path(__file__).resolve().parent.parent
    digests = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, *map(str, pairs)],
            capture_output=True,
            text=True,
            check=True,
            cwd=repo,
            env=env,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def _previous(folder: Path, date: str) -> str:
    names = sorted(p.name for p in folder.glob("*.md"))
    return names[names.index(f"{date}.md") - 1]
