"""Backfill history from a tree laid out as ``<platform>/<doc_type>/<YYYY-MM-DD>.md``.

Each document's files are recorded oldest first, each in its own transaction, with the file
name's date as the version date. Re-importing adds nothing (same date and text: skipped).
A file dated before a document's latest recorded version with a text not already recorded
there is rejected (``OutOfOrderError``): the history is append-only so that clause ids and
changes that later stages already used never shift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from archive.normalize import to_markdown
from archive.snapshots import store_snapshot
from archive.store import OutOfOrderError, get_or_create_document, record_version
from clausewatch.errors import ClausewatchError, InputError
from clausewatch.settings import get_settings

SessionFactory = Callable[[], AbstractContextManager[Session]]

_DATE_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(md|markdown|txt|html?|pdf)$")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_DOC_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_CONTENT_TYPES = {
    "md": "text/markdown",
    "markdown": "text/markdown",
    "txt": "text/plain",
    "html": "text/html",
    "htm": "text/html",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class ImportFile:
    platform: str
    doc_type: str
    date: datetime
    path: Path

    @property
    def label(self) -> str:
        return f"{self.platform}/{self.doc_type}/{self.date:%Y-%m-%d}"


@dataclass
class ImportSummary:
    documents: int = 0
    files: int = 0
    added: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)


def scan_tree(root: Path) -> tuple[dict[tuple[str, str], list[ImportFile]], list[tuple[str, str]]]:
    """Files per (platform, doc_type), oldest first, and entries ignored with the reason."""
    if not root.is_dir():
        raise InputError(f"not a directory: {root}")
    docs: dict[tuple[str, str], list[ImportFile]] = {}
    ignored: list[tuple[str, str]] = []
    for pdir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not _PLATFORM.match(pdir.name):
            ignored.append((str(pdir), "platform folder is not a slug (a-z, 0-9, -)"))
            continue
        for ddir in sorted(d for d in pdir.iterdir() if d.is_dir() and not d.name.startswith(".")):
            if not _DOC_TYPE.match(ddir.name):
                ignored.append((str(ddir), "doc_type folder is not a slug (a-z, 0-9, _)"))
                continue
            files: list[ImportFile] = []
            for f in sorted(ddir.iterdir()):
                if f.name.startswith(".") or not f.is_file():
                    continue
                m = _DATE_FILE.match(f.name)
                if not m:
                    ignored.append((str(f), "name is not <YYYY-MM-DD>.md"))
                    continue
                try:
                    date = datetime.strptime(m.group(1), "%Y-%m-%d")
                except ValueError:
                    ignored.append((str(f), f"invalid date {m.group(1)}"))
                    continue
                files.append(ImportFile(pdir.name, ddir.name, date, f))
            if files:
                docs[(pdir.name, ddir.name)] = sorted(files, key=lambda x: x.date)
    return docs, ignored


def import_file(session: Session, item: ImportFile) -> bool:
    """Record one file; True if it added a version."""
    cap = get_settings().fetch_max_bytes
    size = item.path.stat().st_size
    if size > cap:
        raise InputError(f"{item.path} is {size} bytes, over the size cap of {cap} bytes")
    body = item.path.read_bytes()
    suffix = item.path.suffix.lower().lstrip(".")
    content_type = _CONTENT_TYPES.get(suffix, "text/plain")
    markdown = to_markdown(body, content_type=content_type, location=str(item.path))
    doc = get_or_create_document(session, item.platform, item.doc_type)
    sha = store_snapshot(session, body, content_type)
    version = record_version(session, doc, markdown, item.date, snapshot_sha=sha, source="import")
    return version is not None


def import_tree(
    root: Path,
    sessions: SessionFactory | None = None,
    *,
    on_file: Callable[[ImportFile, str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every document under ``root``; ``on_file(item, outcome)`` after each file
    (outcome: added | unchanged | rejected | failed)."""
    if sessions is None:
        from storage.db import session_scope

        sessions = session_scope
    docs, ignored = scan_tree(root)
    summary = ImportSummary(documents=len(docs), ignored=ignored)
    summary.files = sum(len(v) for v in docs.values())
    if on_start is not None:
        on_start(summary.files)
    for items in docs.values():
        for item in items:
            outcome = "failed"
            try:
                with sessions() as session:
                    added = import_file(session, item)
                outcome = "added" if added else "unchanged"
            except OutOfOrderError as exc:
                outcome = "rejected"
                summary.rejected.append((str(item.path), str(exc)))
            except ClausewatchError as exc:
                summary.failed.append((str(item.path), str(exc)))
            except OSError as exc:
                summary.failed.append((str(item.path), f"cannot read: {exc.strerror or exc}"))
            if outcome == "added":
                summary.added += 1
            elif outcome == "unchanged":
                summary.unchanged += 1
            if on_file is not None:
                on_file(item, outcome)
    return summary
