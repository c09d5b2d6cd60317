"""Remove a wrongly recorded version (e.g. an import dated 9999-12-31) and what depends on it.

History is otherwise append-only; this is the one way to take a version out. What goes:

- the version, its clauses and its changes (from its predecessor);
- the changes of the next version (they were computed against the removed one); they are
  recomputed against the previous version, so the chain stays consecutive. Clause ids of the
  versions that stay never change (the vector store, drafts and later versions refer to them);
- when the previous and the next version then have the same text (A -> B -> A without B),
  the next version is removed too: no two consecutive versions of a document are equal. The
  one after it is then re-aligned with the previous version instead;
- the drafts of the removed changes and clauses, with their audit trail. Drafts an editor
  approved (published analyses) are only removed with ``force``: without it the removal is
  refused and nothing changes.

Raw snapshots stay (content-addressed, possibly shared); the vector store follows the current
versions at the next run (or ``clausewatch index``); the site at the next ``publish``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from clausewatch.archive.store import (
    _insert_changes,
    document_versions,
    get_document,
    to_segs,
    version_clauses,
)
from clausewatch.clauses.align import align
from clausewatch.core.errors import InputError
from clausewatch.schemas.clauses import ClauseChange
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models.archive import Change, Clause, Version
from clausewatch.storage.models.claims import DraftClaim
from clausewatch.storage.models.drafts import Draft, DraftEvent

PUBLISHED_STATUSES = frozenset({DraftStatus.APPROVED})


class PublishedDependentsError(InputError):
    """Approved analyses depend on the version: removing it needs ``force``."""


@dataclass
class Removal:
    """What ``remove_version`` did (or, with ``dry_run``, would do)."""

    document: str  # platform/doc_type
    removed_versions: list[int] = field(default_factory=list)  # the asked one first
    merged: list[int] = field(default_factory=list)  # next versions equal to the previous
    realigned: int | None = None  # version whose changes were recomputed
    realigned_against: int | None = None  # ... against this (previous) version
    new_changes: int = 0
    clauses: int = 0
    changes: int = 0
    drafts: dict[str, int] = field(default_factory=dict)  # status -> drafts removed
    approved_drafts: list[int] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out = [
            f"{self.document}: {verb} version(s) {', '.join(map(str, self.removed_versions))} "
            f"with {self.clauses} clause(s) and {self.changes} change(s)"
        ]
        for vid in self.merged:
            out.append(
                f"version {vid} {'would go' if self.dry_run else 'went'} too: without the "
                "removed version its text equals the previous version's"
            )
        if self.realigned is not None:
            out.append(
                f"version {self.realigned}: changes recomputed against version "
                f"{self.realigned_against} ({self.new_changes} change(s))"
            )
        if self.drafts:
            listed = ", ".join(f"{n} {status}" for status, n in sorted(self.drafts.items()))
            out.append(f"drafts {verb}: {listed}")
        if self.approved_drafts:
            out.append(
                "approved analyses "
                + verb
                + ": "
                + ", ".join(map(str, self.approved_drafts))
                + " (run 'clausewatch publish' to take their pages down)"
            )
        return out


def _draft_closure(session: Session, change_ids: set[int], clause_ids: set[int]) -> list[Draft]:
    """Drafts of these changes or clauses, and redrafts of those (transitively)."""
    if not change_ids and not clause_ids:
        return []
    conditions = []
    if change_ids:
        conditions.append(Draft.change_id.in_(change_ids))
    if clause_ids:
        conditions.append(Draft.clause_id.in_(clause_ids))
    found = {d.id: d for d in session.scalars(select(Draft).where(or_(*conditions)))}
    frontier = set(found)
    while frontier:
        more = session.scalars(select(Draft).where(Draft.redraft_of.in_(frontier))).all()
        frontier = {d.id for d in more if d.id not in found}
        found.update({d.id: d for d in more})
    return sorted(found.values(), key=lambda d: d.id)


def _plan(
    versions: list[Version], index: int
) -> tuple[list[Version], Version | None, Version | None]:
    """(versions to remove, previous version, next version that stays)."""
    target = versions[index]
    prev = versions[index - 1] if index > 0 else None
    removed = [target]
    k = index + 1
    while prev is not None and k < len(versions) and versions[k].text_sha256 == prev.text_sha256:
        removed.append(versions[k])
        k += 1
    nxt = versions[k] if k < len(versions) else None
    return removed, prev, nxt


def _realigned(
    session: Session, prev: Version, nxt: Version
) -> tuple[list[ClauseChange], list[Clause], list[Clause]]:
    """The changes from ``prev`` to ``nxt``, with ``nxt``'s clause ids kept as they are."""
    old_rows = version_clauses(session, prev)
    new_rows = version_clauses(session, nxt)
    alignment = align(to_segs(old_rows), to_segs(new_rows))
    uid_at = {row.position: row.uid for row in new_rows}
    changes: list[ClauseChange] = []
    for ch in alignment.changes:
        if ch.new is not None and ch.new_position is not None:
            ch = ch.model_copy(
                update={"new": ch.new.model_copy(update={"id": uid_at[ch.new_position]})}
            )
        changes.append(ch)
    return changes, old_rows, new_rows


def remove_version(
    session: Session,
    platform: str,
    doc_type: str,
    version_id: int,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Removal:
    """Remove version ``version_id`` of ``platform``/``doc_type`` (see the module docstring).

    Raises InputError for an unknown document or version, PublishedDependentsError when
    approved drafts depend on what would go and ``force`` is not given. Never commits."""
    doc = get_document(session, platform, doc_type)
    if doc is None:
        raise InputError(f"no document {platform}/{doc_type}")
    versions = document_versions(session, doc)
    index = next((i for i, v in enumerate(versions) if v.id == version_id), None)
    if index is None:
        raise InputError(
            f"version {version_id} is not a version of {platform}/{doc_type} "
            f"(see 'clausewatch history {platform} {doc_type}')"
        )
    removed, prev, nxt = _plan(versions, index)
    removed_ids = {v.id for v in removed}
    result = Removal(document=f"{platform}/{doc_type}", dry_run=dry_run)
    result.removed_versions = [v.id for v in removed]
    result.merged = [v.id for v in removed[1:]]

    clause_ids = set(session.scalars(select(Clause.id).where(Clause.version_id.in_(removed_ids))))
    stale_versions = removed_ids | ({nxt.id} if nxt is not None else set())
    change_filter = or_(
        Change.new_version_id.in_(stale_versions),
        Change.old_version_id.in_(removed_ids),
        Change.old_clause_id.in_(clause_ids),
        Change.new_clause_id.in_(clause_ids),
    )
    change_ids = set(session.scalars(select(Change.id).where(change_filter)))
    drafts = _draft_closure(session, change_ids, clause_ids)
    approved = [d.id for d in drafts if d.status in PUBLISHED_STATUSES]
    result.clauses = len(clause_ids)
    result.changes = len(change_ids)
    result.drafts = dict(Counter(d.status for d in drafts))
    result.approved_drafts = approved
    if nxt is not None and prev is not None:
        result.realigned, result.realigned_against = nxt.id, prev.id
    if approved and not force:
        raise PublishedDependentsError(
            f"approved analyses depend on version {version_id} of {platform}/{doc_type} "
            f"(drafts {', '.join(map(str, approved))}); nothing was removed. Use --force to "
            "remove them too (their pages go at the next publish)"
        )
    realigned: tuple[list[ClauseChange], list[Clause], list[Clause]] | None = None
    if prev is not None and nxt is not None:
        realigned = _realigned(session, prev, nxt)
        result.new_changes = len(realigned[0])
    if dry_run:
        return result
    _delete(session, drafts, change_ids, clause_ids, removed_ids)
    if prev is not None and nxt is not None and realigned is not None:
        changes, old_rows, new_rows = realigned
        segs = to_segs(new_rows)
        _insert_changes(session, doc, prev, nxt, changes, old_rows, segs, [r.id for r in new_rows])
    session.flush()
    session.expire_all()
    return result


def _delete(
    session: Session,
    drafts: list[Draft],
    change_ids: set[int],
    clause_ids: set[int],
    version_ids: set[int],
) -> None:
    draft_ids = [d.id for d in drafts]
    if draft_ids:
        session.execute(delete(DraftEvent).where(DraftEvent.draft_id.in_(draft_ids)))
        session.execute(update(Draft).where(Draft.id.in_(draft_ids)).values(redraft_of=None))
        session.execute(delete(Draft).where(Draft.id.in_(draft_ids)))
    if change_ids:
        session.execute(delete(DraftClaim).where(DraftClaim.change_id.in_(change_ids)))
        session.execute(delete(Change).where(Change.id.in_(change_ids)))
    if clause_ids:
        session.execute(delete(Clause).where(Clause.id.in_(clause_ids)))
    session.execute(delete(Version).where(Version.id.in_(version_ids)))
    session.flush()
