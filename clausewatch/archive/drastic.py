"""A drastic change: most clauses of the latest version gone at once.

A page that shrank to a stub, a language or A/B variant, a wall that slipped past the markers:
each loses most of the document's clauses in one fetch. Such a text is recorded as a version
only when a later fetch brings it again (``archive.track``); the thresholds are data
(``walls.yaml``, ``drastic_change``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from clausewatch.archive.walls import DrasticRule, load_walls
from clausewatch.clauses.canonical import canonical
from clausewatch.clauses.segment import segment


@dataclass(frozen=True)
class DrasticChange:
    old_clauses: int
    kept: int
    new_clauses: int

    def describe(self) -> str:
        return (
            f"drastic change: {self.kept} of the latest version's {self.old_clauses} clauses are "
            f"still there ({self.new_clauses} clause(s) now); recorded only if a later fetch "
            "brings the same text"
        )


def drastic_change(
    old_clauses: Sequence[str], new_markdown: str, rule: DrasticRule | None = None
) -> DrasticChange | None:
    """How drastic the change from ``old_clauses`` (the latest version's clause texts) to
    ``new_markdown`` is, or None when it is an ordinary change."""
    rule = rule or load_walls().drastic_change
    old = [c for c in (canonical(t) for t in old_clauses) if c]
    if len(old) < rule.min_clauses:
        return None
    new = [c for c in (canonical(s.text) for s in segment(new_markdown, with_tokens=False)) if c]
    exact = set(new)
    enough = rule.max_kept * len(old)  # more kept than this: an ordinary change
    kept = sum(1 for text in old if text in exact)
    for text in (t for t in old if t not in exact):
        if kept > enough:
            break
        if process.extractOne(text, new, scorer=fuzz.ratio, score_cutoff=rule.similarity):
            kept += 1
    if kept > enough:
        return None
    return DrasticChange(old_clauses=len(old), kept=kept, new_clauses=len(new))
