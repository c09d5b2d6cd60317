"""Clauses and clause-level changes (the contracts of ``segment`` and ``diff``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from clausewatch.schemas.vocabulary import ChangeKind


class ClauseSeg(BaseModel):
    """A clause of one document text. ``id`` is deterministic for a text, and inherited
    from its predecessor once aligned to an earlier version."""

    id: str
    path: list[str] = Field(default_factory=list)
    text: str
    tokens: int = 0
    position: int = 0
    kind: Literal["paragraph", "list_item", "table_row", "heading"] = "paragraph"


class ClauseRef(BaseModel):
    id: str
    path: list[str]
    text: str


class WordOp(BaseModel):
    """One run of a word-level diff: equal, insert or delete."""

    op: Literal["equal", "insert", "delete"]
    text: str


class ClauseChange(BaseModel):
    kind: ChangeKind
    old: ClauseRef | None = None
    new: ClauseRef | None = None
    similarity: float | None = None
    word_diff: list[WordOp] | None = None
    old_position: int | None = None
    new_position: int | None = None
    # a modified clause that also changed place or heading trail (always true for "moved")
    moved: bool = False


class Alignment(BaseModel):
    """Two versions aligned clause by clause.

    ``changes`` are in reading order of the new version (removed clauses where they used to
    be). ``clauses`` are the new version's clauses, each carrying its predecessor's id when it
    was matched to one (stable identity across versions).
    """

    changes: list[ClauseChange] = Field(default_factory=list)
    clauses: list[ClauseSeg] = Field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        """Number of changes of each kind (every kind present, zero when none)."""
        result = {str(kind): 0 for kind in ChangeKind}
        for change in self.changes:
            result[change.kind] += 1
        return result
