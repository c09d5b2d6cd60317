"""The closed vocabularies stages share: draft statuses, change kinds, exposure levels.

Each is one ``StrEnum`` (its members are the strings stored in the database and written in
JSON), so a value is spelled in one place; the database refuses any other value
(``CheckConstraint``s of migration 0011, built from these enums by ``sql_in``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class DraftStatus(StrEnum):
    """Where a draft is in editorial review (``drafts.status``)."""

    PENDING = "pending"  # drafted, valid and grounded, awaiting an editor
    FLAGGED = "flagged"  # the checks found it shallow or invalid: a best effort for the editor
    APPROVED = "approved"  # published
    REJECTED = "rejected"
    REDRAFT_REQUESTED = "redraft_requested"  # an editor sent it back with instructions
    SUPERSEDED = "superseded"  # replaced by its redraft


# drafts an editor can still edit and decide
OPEN_STATUSES: tuple[DraftStatus, ...] = (DraftStatus.PENDING, DraftStatus.FLAGGED)


class ChangeKind(StrEnum):
    """How a clause changed between two versions (``changes.kind``)."""

    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    MOVED = "moved"  # same text, other place or heading trail


# the kinds that change what a document says (a moved clause says the same)
MATERIAL_KINDS: tuple[ChangeKind, ...] = (ChangeKind.ADDED, ChangeKind.REMOVED, ChangeKind.MODIFIED)


class ExposureLevel(StrEnum):
    """How much a clause exposes users or customers, lowest first."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"

    @property
    def rank(self) -> int:
        """1 for Low, 2 for Medium, 3 for High."""
        return list(ExposureLevel).index(self) + 1


def exposure_rank(level: str | None) -> int:
    """The rank of a level given as text; 0 for anything that is not a level."""
    try:
        return ExposureLevel(level).rank if level is not None else 0
    except ValueError:
        return 0


def sql_in(column: str, values: Iterable[StrEnum]) -> str:
    """``column IN ('a', 'b')``: the condition of a CheckConstraint (values are our own)."""
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted})"
