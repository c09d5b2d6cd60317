"""Raw snapshots, content-addressed: ``<snapshots_dir>/ab/cd/abcd...`` by sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.core.settings import get_settings
from clausewatch.core.workspace import make_private_dirs
from clausewatch.storage.models.archive import Snapshot


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot_path(sha: str, root: Path | None = None) -> Path:
    root = root or get_settings().snapshots_dir
    return root / sha[:2] / sha[2:4] / sha


def write_blob(body: bytes, root: Path | None = None) -> str:
    """Write ``body`` under its sha256 (atomically, once); return the sha256."""
    sha = sha256_hex(body)
    path = snapshot_path(sha, root)
    if path.exists() and path.stat().st_size == len(body):
        return sha
    make_private_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha


def store_snapshot(session: Session, body: bytes, content_type: str) -> str:
    """Keep ``body`` on disk and in the ``snapshots`` table; return its sha256."""
    sha = write_blob(body)
    if session.get(Snapshot, sha) is None:
        session.add(Snapshot(sha256=sha, content_type=content_type[:200], size=len(body)))
        session.flush()
    return sha


DIAGNOSTIC_BYTES = 64 * 1024  # what a failed fetch keeps of its body


@dataclass(frozen=True)
class KeptBody:
    """What a failed fetch kept of a body: the snapshot ``sha256`` (the whole body when it is
    at most DIAGNOSTIC_BYTES or was already stored whole, else its first DIAGNOSTIC_BYTES)
    and the whole body's ``size`` and ``body_sha256``."""

    sha256: str
    size: int
    body_sha256: str

    @property
    def whole(self) -> bool:
        return self.sha256 == self.body_sha256


def keep_diagnostic(session: Session, body: bytes, content_type: str) -> KeptBody:
    """Keep enough of a body that failed to normalise to diagnose it, bounded."""
    full = sha256_hex(body)
    if session.get(Snapshot, full) is not None and snapshot_path(full).exists():
        return KeptBody(full, len(body), full)  # already kept whole: costs nothing more
    kept = store_snapshot(session, body[:DIAGNOSTIC_BYTES], content_type)
    return KeptBody(kept, len(body), full)


def read_snapshot(sha: str) -> bytes:
    path = snapshot_path(sha)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"snapshot {sha} is missing from {path.parent}") from None
    if sha256_hex(body) != sha:
        raise InputError(f"snapshot {sha} is corrupt on disk")
    return body
