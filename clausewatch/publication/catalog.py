"""Everything that is published, read from the database in one place.

:func:`load_catalog` is the only code of this package that reads drafts, and it reads only
those whose status is ``approved``. Pages, the dataset, feeds, alerts and digests are all
built from its result, so an unapproved analysis cannot reach any of them.

The pydantic models here are also the contract of the public JSON dataset (its JSON Schema
is generated from them, see :mod:`publication.dataset`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from clausewatch.drafting.demo import demo_title, is_demo
from clausewatch.publication.names import display_name, slugify
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.analysis_versions import read_analysis
from clausewatch.schemas.clauses import WordOp
from clausewatch.schemas.vocabulary import DraftStatus
from clausewatch.storage.models import Change, Clause, Document, Draft, Version

PUBLISHED_STATUS = DraftStatus.APPROVED
DATASET_SCHEMA_VERSION: Literal["1.0"] = "1.0"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SourceRef(BaseModel):
    """Where the quoted clause comes from: platform, document and the version's date."""

    platform: str
    platform_name: str
    doc_type: str
    document_name: str
    version_date: datetime | None = None
    document_url: str | None = None


class PublishedAnalysis(BaseModel):
    """An approved ProvisionAnalysis with the facts needed to place it on the site."""

    id: str = Field(description="stable identifier, 'analysis-<draft id>'")
    draft_id: int
    platform: str
    doc_type: str
    clause_uid: str
    change_id: int | None = None
    approved_at: datetime
    page: str = Field(description="path of the provision page, relative to the site root")
    document_page: str
    source: SourceRef
    comparison_pages: list[str | None] = Field(
        default_factory=list,
        description="per comparison: the page it links to (provision or timeline), or null",
    )
    analysis: ProvisionAnalysis
    demo: bool = Field(
        default=False,
        description="a demo analysis written by the clausewatch team for the shipped sample, "
        "not drafted by a model (its title starts with [DEMO])",
    )


class TimelineChange(BaseModel):
    change_id: int
    kind: str
    clause_uid: str
    heading: list[str] = Field(default_factory=list)
    before: str | None = None
    after: str | None = None
    word_diff: list[WordOp] | None = Field(
        default=None, description="word-level diff of a modified clause (equal/insert/delete)"
    )
    analyses: list[str] = Field(default_factory=list, description="ids of published analyses")


class TimelineVersion(BaseModel):
    version_id: int
    version_date: datetime
    changes: list[TimelineChange] = Field(default_factory=list)


class PublishedDocument(BaseModel):
    platform: str
    platform_name: str
    doc_type: str
    document_name: str
    url: str | None = None
    page: str
    first_seen: datetime | None = None
    change_count: int = Field(description="versions recorded after the first one")
    versions: list[TimelineVersion] = Field(default_factory=list)
    analyses: list[str] = Field(default_factory=list)


class Dataset(BaseModel):
    """The public dataset: every published analysis and every tracked document's timeline."""

    schema_version: Literal["1.0"] = DATASET_SCHEMA_VERSION
    site_url: str
    updated: datetime | None = Field(
        default=None, description="when the newest published analysis was approved"
    )
    platforms: list[str] = Field(default_factory=list)
    documents: list[PublishedDocument] = Field(default_factory=list)
    analyses: list[PublishedAnalysis] = Field(default_factory=list)


@dataclass
class Catalog:
    """The published material, ordered deterministically."""

    documents: list[PublishedDocument]
    analyses: list[PublishedAnalysis]  # newest approval first
    problems: list[str] = field(default_factory=list)  # approved drafts that could not be shown
    _documents_by_key: dict[tuple[str, str], PublishedDocument] = field(
        default_factory=dict, repr=False
    )

    def by_id(self) -> dict[str, PublishedAnalysis]:
        return {a.id: a for a in self.analyses}

    def platforms(self) -> list[str]:
        names = {d.platform for d in self.documents} | {a.platform for a in self.analyses}
        return sorted(names)

    def document(self, platform: str, doc_type: str) -> PublishedDocument | None:
        if not self._documents_by_key:
            self._documents_by_key = {(d.platform, d.doc_type): d for d in self.documents}
        return self._documents_by_key.get((platform, doc_type))


def platform_page(platform: str) -> str:
    return f"platforms/{slugify(platform)}/index.html"


def document_page(platform: str, doc_type: str) -> str:
    return f"platforms/{slugify(platform)}/{slugify(doc_type)}/index.html"


def provision_page(platform: str, doc_type: str, draft_id: int, title: str) -> str:
    return (
        f"platforms/{slugify(platform)}/{slugify(doc_type)}/"
        f"{draft_id}-{slugify(title, max_length=60)}.html"
    )


def topic_page(category: str) -> str:
    return f"topics/{slugify(category)}.html"


def _approved_drafts(session: Session) -> list[Draft]:
    stmt = select(Draft).where(Draft.status == PUBLISHED_STATUS).order_by(Draft.id)
    return list(session.scalars(stmt))


def _documents(
    session: Session, with_changes: bool = True
) -> dict[tuple[str, str], PublishedDocument]:
    docs: dict[tuple[str, str], PublishedDocument] = {}
    id_to_key: dict[int, tuple[str, str]] = {}
    for doc in session.scalars(select(Document).order_by(Document.platform, Document.doc_type)):
        key = (doc.platform, doc.doc_type)
        id_to_key[doc.id] = key
        docs[key] = PublishedDocument(
            platform=doc.platform,
            platform_name=display_name(doc.platform),
            doc_type=doc.doc_type,
            document_name=display_name(doc.doc_type),
            url=doc.url,
            page=document_page(doc.platform, doc.doc_type),
            change_count=0,
        )
    versions: dict[int, TimelineVersion] = {}
    rows = session.execute(
        select(Version.id, Version.document_id, Version.version_date).order_by(
            Version.document_id, Version.version_date, Version.id
        )
    )
    for version_id, document_id, version_date in rows:
        doc_key = id_to_key.get(document_id)
        if doc_key is None:
            continue
        tv = TimelineVersion(version_id=version_id, version_date=_utc(version_date))
        versions[version_id] = tv
        docs[doc_key].versions.append(tv)
    if with_changes:
        _add_changes(session, versions)
    for published in docs.values():
        if published.versions:
            published.first_seen = published.versions[0].version_date
            published.change_count = len(published.versions) - 1
    return docs


def _add_changes(session: Session, versions: dict[int, TimelineVersion]) -> None:
    old, new = aliased(Clause), aliased(Clause)
    changes = session.execute(
        select(Change, old.text, old.path, new.text, new.path)
        .outerjoin(old, Change.old_clause_id == old.id)
        .outerjoin(new, Change.new_clause_id == new.id)
        .order_by(Change.new_version_id, Change.id)
    )
    for change, old_text, old_path, new_text, new_path in changes:
        tv_or_none = versions.get(change.new_version_id)
        if tv_or_none is None:
            continue
        tv_or_none.changes.append(
            TimelineChange(
                change_id=change.id,
                kind=change.kind,
                clause_uid=change.clause_uid,
                heading=list(new_path or old_path or []),
                before=old_text,
                after=new_text,
                word_diff=_word_diff(change.detail),
            )
        )


def _word_diff(detail: object) -> list[WordOp] | None:
    """The archive's word diff, if it is there and well-formed (else the page shows texts)."""
    if not isinstance(detail, dict) or not isinstance(detail.get("word_diff"), list):
        return None
    try:
        return [WordOp.model_validate(op) for op in detail["word_diff"]]
    except ValidationError:
        return None


def _source_dates(session: Session, drafts: list[Draft]) -> dict[int, datetime]:
    """Draft id -> date of the version its clause belongs to."""
    clause_ids = {d.clause_id for d in drafts if d.clause_id is not None}
    change_ids = {d.change_id for d in drafts if d.change_id is not None}
    by_clause: dict[int, datetime] = {}
    if clause_ids:
        for cid, vdate in session.execute(
            select(Clause.id, Version.version_date)
            .join(Version, Clause.version_id == Version.id)
            .where(Clause.id.in_(clause_ids))
        ):
            by_clause[cid] = vdate
    by_change: dict[int, datetime] = {}
    if change_ids:
        for chid, vdate in session.execute(
            select(Change.id, Version.version_date)
            .join(Version, Change.new_version_id == Version.id)
            .where(Change.id.in_(change_ids))
        ):
            by_change[chid] = vdate
    out: dict[int, datetime] = {}
    for d in drafts:
        found = by_clause.get(d.clause_id) if d.clause_id is not None else None
        if found is None and d.change_id is not None:
            found = by_change.get(d.change_id)
        if found is not None:
            out[d.id] = found
    return out


def _clause_documents(session: Session, uids: set[str]) -> dict[str, tuple[str, str]]:
    """Clause uid -> (platform, doc_type) of the newest version that holds it."""
    if not uids:
        return {}
    rows = session.execute(
        select(Clause.uid, Document.platform, Document.doc_type)
        .join(Version, Clause.version_id == Version.id)
        .join(Document, Version.document_id == Document.id)
        .where(Clause.uid.in_(uids))
        .order_by(Version.version_date)
    )
    return {uid: (platform, doc_type) for uid, platform, doc_type in rows}


def _analysis(draft: Draft) -> ProvisionAnalysis:
    if not draft.analysis:
        raise ValueError("no analysis")
    analysis = read_analysis(draft.analysis, draft.analysis_version)
    if is_demo(draft.backend):  # the demo mark is in the title wherever the title goes
        title = demo_title(analysis.title[:190], draft.backend)
        analysis = analysis.model_copy(update={"title": title})
    return analysis


def load_catalog(session: Session, with_changes: bool = True) -> Catalog:
    """Read every approved analysis and every document timeline (``with_changes=False``
    leaves out the clause changes, which alerts and digests do not need)."""
    docs = _documents(session, with_changes)
    drafts = _approved_drafts(session)
    dates = _source_dates(session, drafts)
    problems: list[str] = []
    analyses: list[PublishedAnalysis] = []
    for draft in drafts:
        try:
            analysis = _analysis(draft)
        except (ValidationError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            problems.append(f"draft {draft.id}: approved analysis is not valid ({first})")
            continue
        key = (draft.platform, draft.doc_type)
        if key not in docs:
            docs[key] = PublishedDocument(
                platform=draft.platform,
                platform_name=display_name(draft.platform),
                doc_type=draft.doc_type,
                document_name=display_name(draft.doc_type),
                page=document_page(draft.platform, draft.doc_type),
                change_count=0,
            )
        doc = docs[key]
        approved_at = _utc(draft.decided_at or draft.updated_at or draft.created_at)
        assert approved_at is not None
        analyses.append(
            PublishedAnalysis(
                id=f"analysis-{draft.id}",
                draft_id=draft.id,
                platform=draft.platform,
                doc_type=draft.doc_type,
                clause_uid=draft.clause_uid,
                change_id=draft.change_id,
                approved_at=approved_at,
                page=provision_page(draft.platform, draft.doc_type, draft.id, analysis.title),
                document_page=doc.page,
                source=SourceRef(
                    platform=draft.platform,
                    platform_name=doc.platform_name,
                    doc_type=draft.doc_type,
                    document_name=doc.document_name,
                    version_date=_utc(dates.get(draft.id)),
                    document_url=doc.url,
                ),
                analysis=analysis,
                demo=is_demo(draft.backend),
            )
        )
    _link(session, docs, analyses)
    analyses.sort(key=lambda a: (a.approved_at, a.draft_id), reverse=True)
    documents = sorted(docs.values(), key=lambda d: (d.platform, d.doc_type))
    return Catalog(documents=documents, analyses=analyses, problems=problems)


def _link(
    session: Session,
    docs: dict[tuple[str, str], PublishedDocument],
    analyses: list[PublishedAnalysis],
) -> None:
    """Attach analyses to their document and change; resolve comparison links."""
    newest_by_uid: dict[tuple[str, str], PublishedAnalysis] = {}
    for a in sorted(analyses, key=lambda a: (a.approved_at, a.draft_id)):
        newest_by_uid[(a.platform, a.clause_uid)] = a
        docs[(a.platform, a.doc_type)].analyses.append(a.id)
    by_change: dict[int, list[str]] = defaultdict(list)
    for a in analyses:
        if a.change_id is not None:
            by_change[a.change_id].append(a.id)
    for doc in docs.values():
        doc.analyses.sort(key=lambda i: int(i.split("-")[1]))
        for version in doc.versions:
            for change in version.changes:
                change.analyses = sorted(by_change.get(change.change_id, []))
    wanted = {c.clause_id for a in analyses for c in a.analysis.comparisons}
    clause_docs = _clause_documents(session, wanted)
    platform_docs = {platform for platform, _ in docs}
    for a in analyses:
        pages: list[str | None] = []
        for comp in a.analysis.comparisons:
            target = newest_by_uid.get((comp.platform, comp.clause_id))
            if target is not None:
                pages.append(target.page)
            elif comp.clause_id in clause_docs:
                pages.append(document_page(*clause_docs[comp.clause_id]))
            elif comp.platform in platform_docs:
                pages.append(platform_page(comp.platform))
            else:
                pages.append(None)
        a.comparison_pages = pages
