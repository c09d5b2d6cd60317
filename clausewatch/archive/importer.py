"""Backfill history from a tree laid out as ``<platform>/<doc_type>/<YYYY-MM-DD>.md``.

Each document's files are recorded oldest first, each in its own transaction, with the file
name's date as the version date. Symbolic links are followed only while they stay inside
the imported folder (a link out of it is refused, not read). Re-importing adds nothing
(same date and text: skipped).
A file dated in the future (beyond a day) or before 1990 is rejected, the others imported.
A file dated before a document's latest recorded version with a text not already recorded
there is rejected (``OutOfOrderError``): the history is append-only so that clause ids and
changes that later stages already used never shift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from clausewatch.archive.confine import OutsideRootError, is_within, read_confined, real
from clausewatch.archive.normalize import to_markdown
from clausewatch.archive.snapshots import store_snapshot
from clausewatch.archive.store import OutOfOrderError, get_or_create_document, record_version
from clausewatch.core.errors import ClausewatchError, InputError
from clausewatch.core.settings import get_settings
from clausewatch.storage.models.base import utcnow

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
    root: Path  # the imported folder (real path): the file must resolve inside it

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
    refused: list[tuple[str, str]] = field(default_factory=list)  # links out of the folder


@dataclass
class ScanResult:
    docs: dict[tuple[str, str], list[ImportFile]]  # per (platform, doc_type), oldest first
    ignored: list[tuple[str, str]]  # (entry, reason): not named like a document
    refused: list[tuple[str, str]]  # (entry, reason): a symbolic link out of the folder


def _outside(entry: Path, base: Path) -> tuple[str, str] | None:
    if is_within(entry, base):
        return None
    return (str(entry), f"symbolic link to {real(entry)}, outside the imported folder {base}")


def scan_tree(root: Path) -> ScanResult:
    """Files per (platform, doc_type), oldest first; entries ignored or refused, with the
    reason. Symbolic links are followed only while they stay inside ``root``."""
    if not root.is_dir():
        raise InputError(f"not a directory: {root}")
    base = real(root)
    result = ScanResult({}, [], [])

    def subdirs(folder: Path) -> list[Path]:
        found = []
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            outside = _outside(entry, base)
            if outside is not None:
                result.refused.append(outside)
                continue
            found.append(entry)
        return found

    for pdir in subdirs(root):
        if not _PLATFORM.match(pdir.name):
            result.ignored.append((str(pdir), "platform folder is not a slug (a-z, 0-9, -)"))
            continue
        for ddir in subdirs(pdir):
            if not _DOC_TYPE.match(ddir.name):
                result.ignored.append((str(ddir), "doc_type folder is not a slug (a-z, 0-9, _)"))
                continue
            files: list[ImportFile] = []
            for f in sorted(ddir.iterdir()):
                if f.name.startswith(".") or not f.is_file():
                    continue
                m = _DATE_FILE.match(f.name)
                if not m:
                    result.ignored.append((str(f), "name is not <YYYY-MM-DD>.md"))
                    continue
                outside = _outside(f, base)
                if outside is not None:
                    result.refused.append(outside)
                    continue
                try:
                    date = datetime.strptime(m.group(1), "%Y-%m-%d")
                except ValueError:
                    result.ignored.append((str(f), f"invalid date {m.group(1)}"))
                    continue
                files.append(ImportFile(pdir.name, ddir.name, date, f, base))
            if files:
                result.docs[(pdir.name, ddir.name)] = sorted(files, key=lambda x: x.date)
    return result


class VersionDateError(InputError):
    """A version date that cannot be right: in the future, or before any tracked policy."""


EARLIEST_VERSION_DATE = datetime(1990, 1, 1)
FUTURE_TOLERANCE = timedelta(days=1)  # file names carry a local date; UTC may lag a day


def check_version_date(date: datetime, now: datetime | None = None) -> None:
    """VersionDateError unless ``EARLIEST_VERSION_DATE <= date <= now + FUTURE_TOLERANCE``.

    A version dated in the future would become the latest for good: every fetch until then
    is refused as out of order."""
    now = now or utcnow()
    if date > now + FUTURE_TOLERANCE:
        raise VersionDateError(
            f"dated {date:%Y-%m-%d}, in the future (now {now:%Y-%m-%d %H:%M} UTC; "
            f"at most {FUTURE_TOLERANCE.days} day ahead is accepted)"
        )
    if date < EARLIEST_VERSION_DATE:
        raise VersionDateError(
            f"dated {date:%Y-%m-%d}, before {EARLIEST_VERSION_DATE:%Y-%m-%d}: not a plausible "
            "policy version date"
        )


def import_file(session: Session, item: ImportFile, now: datetime | None = None) -> bool:
    """Record one file; True if it added a version."""
    check_version_date(item.date, now)
    cap = get_settings().fetch_max_bytes
    body = read_confined(item.path, item.root, "the imported folder", cap)
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
    (outcome: added | unchanged | rejected | refused | failed)."""
    if sessions is None:
        from clausewatch.storage.db import session_scope

        sessions = session_scope
    scan = scan_tree(root)
    summary = ImportSummary(documents=len(scan.docs), ignored=scan.ignored, refused=scan.refused)
    summary.files = sum(len(v) for v in scan.docs.values())
    if on_start is not None:
        on_start(summary.files)
    for items in scan.docs.values():
        for item in items:
            outcome = "failed"
            try:
                with sessions() as session:
                    added = import_file(session, item)
                outcome = "added" if added else "unchanged"
            except OutsideRootError as exc:  # a link swapped in after the scan
                outcome = "refused"
                summary.refused.append((str(item.path), str(exc)))
            except (OutOfOrderError, VersionDateError) as exc:
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
