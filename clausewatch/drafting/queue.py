"""Which changes are open: waiting for their draft.

One definition for every reader: the monitor drafts exactly these (``flows.tasks.plan_drafts``)
and ``clausewatch status`` counts them. A change with a draft in any status is not open (its
review shows in the drafts by status); a demo draft (``clausewatch demo``) does not count, since
a run drafts the same change with the model.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clausewatch.archive.store import recent_version_ids
from clausewatch.core.settings import get_settings
from clausewatch.drafting.demo import DEMO_BACKEND
from clausewatch.schemas.vocabulary import MATERIAL_KINDS
from clausewatch.storage.models import Change, Draft


def open_changes(session: Session, per_document: int | None = None) -> Select[int]:
    """Ids of the material changes (added, removed, modified) of each document's newest
    ``per_document`` versions (default ``settings.draft_recent_versions``, so a backfilled
    history does not queue thousands of drafts) against an earlier version (the clauses of a
    first version are not changes), that have no draft but a demo one."""
    if per_document is None:
        per_document = get_settings().draft_recent_versions
    drafted = select(Draft.change_id).where(
        Draft.change_id.is_not(None), Draft.backend != DEMO_BACKEND
    )
    return select(Change.id).where(
        Change.old_version_id.is_not(None),
        Change.new_version_id.in_(recent_version_ids(session, per_document)),
        Change.kind.in_(MATERIAL_KINDS),
        Change.id.not_in(drafted),
    )
