"""What a draft was made from (``Draft.context``): written by drafting, read by review and by
the grounding checks re-run after editors' edits.

``DraftContextRecord`` is the one shape. Rows stored before it carried a ``version`` (the
same fields, written by ``DraftContext.to_record`` since drafting began, or ``{}`` / a demo
note) are read by ``read_context``, which also accepts the key names the review page used
to look for, drops list items it cannot read (saying so in ``retrieval_notes``) and never
raises: an old row is shown, not refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from clausewatch.schemas.retrieval import Comparable, RegulationCandidate
from clausewatch.schemas.vocabulary import ChangeKind

CONTEXT_VERSION: Final = 1
M = TypeVar("M", bound=BaseModel)


class ClauseRecord(BaseModel):
    """The clause the draft analyses (its text is what excerpts must quote)."""

    uid: str = ""
    text: str
    path: list[str] = Field(default_factory=list)
    platform: str = ""
    doc_type: str = ""


class ChangeRecord(BaseModel):
    """The change drafted: the changed sentences quoted and the whole texts."""

    kind: ChangeKind
    before: str | None = None  # the changed sentences before (ChangeInfo.before)
    after: str | None = None
    old_text: str | None = None  # the whole clause before
    new_text: str | None = None


class DraftContextRecord(BaseModel):
    version: Literal[1] = CONTEXT_VERSION
    clause: ClauseRecord | None = None  # None: a demo draft (or a row from before contexts)
    change: ChangeRecord | None = None
    comparables: list[Comparable] = Field(default_factory=list)
    regulations: list[RegulationCandidate] = Field(default_factory=list)
    category_hint: list[str] = Field(default_factory=list)
    examples: list[int] = Field(default_factory=list)  # approved drafts shown as examples
    redraft_of: int | None = None
    retrieval_notes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)  # why the checks flagged the draft
    best_effort: bool = False  # flagged, with the best effort kept for the editor
    demo: bool = False  # written by us for the sample (``clausewatch demo``), no retrieval
    note: str | None = None


def read_context(raw: Any) -> DraftContextRecord:
    """The record of a stored ``Draft.context``, whichever version wrote it."""
    if isinstance(raw, Mapping) and raw.get("version") == CONTEXT_VERSION:
        try:
            return DraftContextRecord.model_validate(raw)
        except ValidationError:
            pass  # hand-edited or damaged: read it as tolerantly as an old row
    return _from_unversioned(raw if isinstance(raw, Mapping) else {})


# ---- rows written before the record had a version -----------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _OldComparable(_Lenient):
    platform: str = ""
    doc_type: str = ""
    clause_id: str = Field(validation_alias=AliasChoices("clause_id", "id", "uid"))
    text: str = Field(validation_alias=AliasChoices("text", "excerpt"))
    score: float
    version_date: int | None = None
    path: list[str] = Field(default_factory=list)


class _OldRegulation(_Lenient):
    id: str = Field(validation_alias=AliasChoices("id", "provision_id"))
    title: str = ""
    score: float
    obligations: str = Field("", validation_alias=AliasChoices("obligations", "text"))


class _OldClause(_Lenient):
    uid: str = ""
    text: str = Field(validation_alias=AliasChoices("text", "clause_text"))
    path: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("path", "heading_trail")
    )
    platform: str = ""
    doc_type: str = ""


class _OldChange(_Lenient):
    kind: ChangeKind
    before: str | None = None
    after: str | None = None
    old_text: str | None = Field(
        None,
        validation_alias=AliasChoices("old_text", "clause_before", "before_text", "previous_text"),
    )
    new_text: str | None = Field(
        None, validation_alias=AliasChoices("new_text", "clause_after", "after_text")
    )


_COMPARABLE_KEYS = ("comparables", "comparable_provisions", "similar", "retrieved_provisions")
_REGULATION_KEYS = (
    "regulations",
    "regulation_candidates",
    "regulatory_candidates",
    "retrieved_regulations",
)


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.get(key) not in (None, "", [], {}):
            return data[key]
    return None


def _items(raw: Any, model: type[M], what: str, notes: list[str]) -> list[M]:
    if isinstance(raw, Mapping):  # grouped by platform
        raw = [item for group in raw.values() if isinstance(group, list) for item in group]
    if not isinstance(raw, list):
        return []
    out: list[M] = []
    for item in raw:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    if len(out) < len(raw):
        notes.append(f"{len(raw) - len(out)} stored {what} of an unreadable shape left out")
    return out


def _one(raw: Any, model: type[M]) -> M | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _strings(raw: Any) -> list[str]:
    return [str(v) for v in raw if isinstance(v, str)] if isinstance(raw, list) else []


def _from_unversioned(ctx: Mapping[str, Any]) -> DraftContextRecord:
    notes = _strings(ctx.get("retrieval_notes"))
    comparables = _items(_first(ctx, _COMPARABLE_KEYS), _OldComparable, "comparables", notes)
    regulations = _items(_first(ctx, _REGULATION_KEYS), _OldRegulation, "regulations", notes)
    change_raw = ctx.get("change") if isinstance(ctx.get("change"), Mapping) else ctx.get("diff")
    if isinstance(change_raw, Mapping) and "kind" not in change_raw and "kind" in ctx:
        change_raw = {**change_raw, "kind": ctx["kind"]}
    change = _one(change_raw, _OldChange)
    clause = _one(ctx.get("clause"), _OldClause)
    redraft_of = ctx.get("redraft_of")
    return DraftContextRecord(
        clause=ClauseRecord(**clause.model_dump()) if clause is not None else None,
        change=ChangeRecord(**change.model_dump()) if change is not None else None,
        comparables=[Comparable(**c.model_dump()) for c in comparables],
        regulations=[RegulationCandidate(**r.model_dump()) for r in regulations],
        category_hint=_strings(ctx.get("category_hint")),
        examples=[e for e in ctx.get("examples") or [] if isinstance(e, int)]
        if isinstance(ctx.get("examples"), list)
        else [],
        redraft_of=redraft_of if isinstance(redraft_of, int) else None,
        retrieval_notes=notes,
        errors=_strings(ctx.get("errors")),
        best_effort=ctx.get("best_effort") is True,
        demo=ctx.get("demo") is True,
        note=ctx.get("note") if isinstance(ctx.get("note"), str) else None,
    )
