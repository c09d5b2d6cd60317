"""Property tests on the real policies: cosmetic perturbations are no change, known edits are
found as exactly those kinds."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clausewatch.clauses.align import align
from clausewatch.clauses.canonical import canonical
from clausewatch.clauses.segment import segment
from clausewatch.evals import edits
from clausewatch.schemas.clauses import ClauseSeg
from tests.conftest import POLICIES

pytestmark = pytest.mark.shared_data

FILES = sorted(str(p) for p in POLICIES.glob("*/*/*.md"))
# keep the biggest documents out of the random draws so each example stays quick
SMALL = [f for f in FILES if Path(f).stat().st_size < 120_000]

_settings = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@lru_cache(maxsize=64)
def _load(path: str) -> tuple[str, list[ClauseSeg]]:
    text = Path(path).read_text(encoding="utf-8")
    return text, segment(text, with_tokens=False)


def _found(base: list[ClauseSeg], text: str) -> list[tuple[str, str | None, str | None]]:
    alignment = align(base, segment(text, with_tokens=False))
    return sorted(
        (
            c.kind,
            canonical(c.old.text) if c.old else None,
            canonical(c.new.text) if c.new else None,
        )
        for c in alignment.changes
    )


def _expected(result: edits.EditResult) -> list[tuple[str, str | None, str | None]]:
    return sorted(
        (
            e.kind,
            canonical(e.old_text) if e.old_text else None,
            canonical(e.new_text) if e.new_text else None,
        )
        for e in result.expected
    )


@_settings
@given(
    path=st.sampled_from(SMALL),
    seed=st.integers(0, 2**32 - 1),
    kinds=st.sets(st.sampled_from(sorted(edits.PERTURBATIONS)), min_size=1),
)
def test_cosmetic_perturbations_are_not_changes(path: str, seed: int, kinds: set[str]) -> None:
    text, base = _load(path)
    perturbed = edits.perturb(text, random.Random(seed), sorted(kinds))
    assert _found(base, perturbed) == []


@_settings
@given(
    path=st.sampled_from(SMALL),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(sorted(edits.KNOWN_EDITS)),
)
def test_known_edits_are_found_as_exactly_those_changes(path: str, seed: int, kind: str) -> None:
    text, base = _load(path)
    try:
        result = edits.KNOWN_EDITS[kind](text, random.Random(seed), ())
    except edits.NoCandidate:
        return  # this document offers no clause for this edit (asserted rare below)
    assert _found(base, result.text) == _expected(result)


@_settings
@given(path=st.sampled_from(SMALL), seed=st.integers(0, 2**32 - 1))
def test_several_edits_plus_cosmetic_noise(path: str, seed: int) -> None:
    text, base = _load(path)
    rng = random.Random(seed)
    try:
        result = edits.apply_edits(text, ["modify", "one_word", "add", "remove", "move"], rng)
    except edits.NoCandidate:
        return
    noisy = edits.perturb(result.text, rng)
    assert _found(base, noisy) == _expected(result)


def test_most_documents_offer_every_edit() -> None:
    refused = 0
    for path in FILES[::4]:
        text, _ = _load(path)
        for kind, edit in edits.KNOWN_EDITS.items():
            try:
                edit(text, random.Random(kind), ())
            except edits.NoCandidate:
                refused += 1
    assert refused <= len(FILES[::4]) * len(edits.KNOWN_EDITS) // 10


EXPECTED_KIND = {
    "modify": "modified",
    "one_word": "modified",
    "add": "added",
    "remove": "removed",
    "move": "moved",
}


@pytest.mark.parametrize("kind", sorted(edits.KNOWN_EDITS))
def test_each_known_edit_on_a_fixed_document(kind: str) -> None:
    path = str(POLICIES / "claude-ai" / "privacy_policy" / "2025-08-01.md")
    text, base = _load(path)
    result = edits.KNOWN_EDITS[kind](text, random.Random(7), ())
    assert result.text != text
    assert [e.kind for e in result.expected] == [EXPECTED_KIND[kind]]
    assert _found(base, result.text) == _expected(result)


def test_one_word_change_touches_one_word() -> None:
    path = str(POLICIES / "claude-ai" / "terms_of_service" / "2025-08-01.md")
    text, _ = _load(path)
    result = edits.one_word(text, random.Random(3), ())
    (change,) = result.expected
    assert change.old_text is not None and change.new_text is not None
    old_words, new_words = change.old_text.split(), change.new_text.split()
    assert abs(len(old_words) - len(new_words)) <= 1
    assert sum(a != b for a, b in zip(old_words, new_words, strict=False)) <= 2 or (
        len(old_words) != len(new_words)
    )
