"""What editors change, per clause category: the fields they edit most, to improve the
playbooks, prompts and rubrics where drafts fall short."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.storage.models.drafts import Draft, DraftEvent


def edited_fields_by_category(session: Session) -> dict[str, list[tuple[str, int]]]:
    """category -> [(field, edits)], most edited first; a draft counts under each of its
    categories (as drafted, i.e. before the editor's own category edits)."""
    rows = session.execute(
        select(DraftEvent.draft_id, DraftEvent.field, DraftEvent.before)
        .where(DraftEvent.action == "edit", DraftEvent.field.is_not(None))
        .order_by(DraftEvent.id)
    ).all()
    if not rows:
        return {}
    ids = {r.draft_id for r in rows}
    categories: dict[int, list[str]] = {}
    for draft in session.scalars(select(Draft).where(Draft.id.in_(ids))):
        categories[draft.id] = list((draft.analysis or {}).get("categories") or [])
    for r in rows:  # the categories as drafted, when the editor changed them
        if r.field == "categories" and isinstance(r.before, list) and r.draft_id in categories:
            categories[r.draft_id] = [str(c) for c in r.before]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        for slug in categories.get(r.draft_id) or ["(none)"]:
            counts[slug][str(r.field)] += 1
    return {
        slug: counter.most_common()
        for slug, counter in sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))
    }
