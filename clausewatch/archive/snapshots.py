"""Raw snapshots, content-addressed: ``<storage>/snapshots/ab/cd/abcd...`` by sha256.

``<storage>`` is the storage URL (``clausewatch.storage.files``): the workspace by default, or
a shared store such as ``s3://bucket/prefix`` that every worker machine reads and writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from clausewatch.core.errors import InputError
from clausewatch.core.settings import get_settings
from clausewatch.storage.files import FileStore, storage_root
from clausewatch.storage.models.archive import Snapshot


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot_key(sha: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def snapshot_path(sha: str, root: Path | None = None) -> Path:
    """Where a snapshot lives when the storage is a local folder."""
    root = root or get_settings().snapshots_dir
    return root / snapshot_key(sha)


def snapshots() -> FileStore:
    """The snapshots store of the configured storage."""
    return storage_root().child("snapshots")


def write_blob(body: bytes, store: FileStore | None = None) -> str:
    """Write ``body`` under its sha256 (atomically, once); return the sha256."""
    sha = sha256_hex(body)
    store = store or snapshots()
    key = snapshot_key(sha)
    if store.size(key) == len(body):
        return sha
    store.write(key, body)
    return sha


def snapshot_exists(sha: str) -> bool:
    return snapshots().size(snapshot_key(sha)) is not None


def delete_snapshot(sha: str) -> None:
    snapshots().delete(snapshot_key(sha))


def store_snapshot(session: Session, body: bytes, content_type: str) -> str:
    """Keep ``body`` in the storage and in the ``snapshots`` table; return its sha256."""
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
    if session.get(Snapshot, full) is not None and snapshot_exists(full):
        return KeptBody(full, len(body), full)  # already kept whole: costs nothing more
    kept = store_snapshot(session, body[:DIAGNOSTIC_BYTES], content_type)
    return KeptBody(kept, len(body), full)


def read_snapshot(sha: str) -> bytes:
    store = snapshots()
    body = store.read(snapshot_key(sha))
    if body is None:
        raise InputError(f"snapshot {sha} is missing from {store.url}")
    if sha256_hex(body) != sha:
        raise InputError(f"snapshot {sha} is corrupt in {store.url}")
    return body
