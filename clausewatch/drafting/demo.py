"""Demo drafts: the shipped sample's changes with analyses written by us, for trying the review
workflow without waiting for a model (``clausewatch demo``).

A demo draft is a ``Draft`` whose ``backend`` is ``demo``; that mark travels with it: the review
queue, the CLI, pages, feeds, alerts and the dataset all show it (``is_demo``, ``demo_title``).
Demo drafts never count as the draft of their change (``clausewatch run`` drafts it with the
model), never serve as examples for a model, and never give an alert its change line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import SAMPLE_SOURCES
from clausewatch.schemas.analysis import Provenance, ProvisionAnalysis
from clausewatch.schemas.draft_context import DraftContextRecord
from clausewatch.schemas.vocabulary import ChangeKind, DraftStatus
from clausewatch.storage.models import Change, Clause, Document, Draft, DraftEvent, Version
from clausewatch.storage.models.drafts import DEMO_BACKEND as DEMO_BACKEND  # re-exported

DEMO_MODEL = "demo analysis written by the clausewatch team"
DEMO_PROMPT_ID = "demo"
DEMO_PROMPT_VERSION = "1"
DEMO_LABEL = "DEMO"
DEMO_NOTE = (
    "Demo analysis written by the clausewatch team for the shipped sample; not drafted by a "
    "model. Run `clausewatch run` for real drafts."
)
ANALYSES_FILE = SAMPLE_SOURCES.parent / "demo" / "analyses.yaml"


def is_demo(backend: str | None) -> bool:
    return backend == DEMO_BACKEND


def demo_title(title: str, backend: str | None) -> str:
    """The title as shown anywhere: a demo draft's always starts with the demo mark."""
    if not is_demo(backend) or title.startswith(f"[{DEMO_LABEL}]"):
        return title
    return f"[{DEMO_LABEL}] {title}"


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    doc_type: str
    kind: ChangeKind
    text: str  # a phrase of the clause (after the change; before it for a removal)


class DemoEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Match
    analysis: dict[str, Any]  # ProvisionAnalysis without excerpt, change and provenance


class DemoFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    analyses: list[DemoEntry]


def load_entries(path: Path = ANALYSES_FILE) -> list[DemoEntry]:
    try:
        return DemoFile.model_validate(yaml.safe_load(path.read_text("utf-8"))).analyses
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"demo analyses {path}: {exc}") from exc


def build_analysis(
    entry: DemoEntry, change: Change, old: Clause | None, new: Clause | None
) -> ProvisionAnalysis:
    """The entry's analysis with the excerpt and the change taken from the clause itself."""
    data = dict(entry.analysis)
    summary = data.pop("change_summary", None) or f"Clause {change.kind}."
    subject = new or old
    assert subject is not None
    data["excerpt"] = subject.text
    data["change"] = {
        "kind": change.kind,
        "before": old.text if old else None,
        "after": new.text if new else None,
        "summary": summary,
    }
    data["provenance"] = Provenance(
        model=DEMO_MODEL,
        backend=DEMO_BACKEND,
        prompt_id=DEMO_PROMPT_ID,
        prompt_version=DEMO_PROMPT_VERSION,
    ).model_dump(mode="json")
    return ProvisionAnalysis.model_validate(data)


@dataclass
class DemoResult:
    queued: list[int] = field(default_factory=list)  # new demo draft ids
    existing: int = 0  # changes that already had a demo draft
    unmatched: list[str] = field(default_factory=list)  # entries that found no change


def _candidates(session: Session) -> list[tuple[Change, Document, Clause | None, Clause | None]]:
    rows = session.execute(
        select(Change, Document)
        .join(Document, Document.id == Change.document_id)
        .join(Version, Version.id == Change.new_version_id)
        .where(Change.old_version_id.is_not(None))
        .order_by(Version.version_date.desc(), Change.id)
    ).all()
    out = []
    for change, doc in rows:
        old = session.get(Clause, change.old_clause_id) if change.old_clause_id else None
        new = session.get(Clause, change.new_clause_id) if change.new_clause_id else None
        out.append((change, doc, old, new))
    return out


def queue_demo_drafts(session: Session, entries: list[DemoEntry] | None = None) -> DemoResult:
    """A ``pending`` demo draft for each change an entry matches (once per change)."""
    entries = load_entries() if entries is None else entries
    candidates = _candidates(session)
    result = DemoResult()
    for entry in entries:
        m = entry.match
        found = [
            (change, old, new)
            for change, doc, old, new in candidates
            if (doc.platform, doc.doc_type, change.kind) == (m.platform, m.doc_type, m.kind)
            and m.text in _text(new or old)
        ]
        if not found:
            result.unmatched.append(f"{m.platform}/{m.doc_type} {m.kind}: {m.text!r}")
            continue
        change, old, new = found[0]
        input_hash = _hash(change.id)
        if session.scalar(select(Draft.id).where(Draft.input_hash == input_hash)) is not None:
            result.existing += 1
            continue
        analysis = build_analysis(entry, change, old, new)
        subject = new or old
        assert subject is not None
        draft = Draft(
            input_hash=input_hash,
            change_id=change.id,
            clause_id=subject.id,
            clause_uid=change.clause_uid,
            platform=m.platform,
            doc_type=m.doc_type,
            status=DraftStatus.PENDING,
            analysis=analysis.model_dump(mode="json"),
            context=DraftContextRecord(demo=True, note=DEMO_NOTE).model_dump(mode="json"),
            prompt_id=DEMO_PROMPT_ID,
            prompt_version=DEMO_PROMPT_VERSION,
            rendered_prompt="",
            model=DEMO_MODEL,
            backend=DEMO_BACKEND,
            attempts=[],
        )
        session.add(draft)
        session.flush()
        session.add(
            DraftEvent(
                draft_id=draft.id,
                actor="clausewatch",
                action="drafted",
                field="status",
                before=None,
                after=DraftStatus.PENDING,
                note=DEMO_NOTE,
            )
        )
        result.queued.append(draft.id)
    return result


def _text(clause: Clause | None) -> str:
    return clause.text if clause is not None else ""


def _hash(change_id: int) -> str:
    """The demo draft's input hash: one per change, never equal to a model draft's."""
    return hashlib.sha256(f"demo|change:{change_id}".encode()).hexdigest()


def load_sample(session_factory: Any = None) -> tuple[int, int]:
    """Import the sample's history and track its live pages (no model, no Prefect):
    returns (versions imported, new versions tracked)."""
    from clausewatch.archive.declarations import declared_history, load_sources
    from clausewatch.archive.importer import import_tree
    from clausewatch.archive.track import track_all

    history = declared_history(SAMPLE_SOURCES)  # the sample's ``history:`` option
    imported = import_tree(history, session_factory).added if history else 0
    outcomes = track_all(load_sources(SAMPLE_SOURCES), session_factory)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise ConfigError(f"could not read the sample: {failed[0].reason}")
    return imported, sum(o.status == "new" for o in outcomes)
