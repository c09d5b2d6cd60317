"""Write a tree of files so that unchanged files are never rewritten and stale ones go away,
to a folder or a storage URL (``s3://bucket/site``; each object is stored with its content
type, so the bucket can serve the site).

A manifest (``.clausewatch-site.json``) lists the files the last build wrote, so only files we
created are ever removed; a non-empty directory without a manifest is refused.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from clausewatch.core.errors import InputError
from clausewatch.storage.files import FileStore, open_store

MANIFEST = ".clausewatch-site.json"


class BuildReport(BaseModel):
    """Counts of files written, left unchanged and removed; the paths are kept out of dumps."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    analyses: int = 0
    problems: list[str] = Field(default_factory=list)
    written_paths: list[str] = Field(default_factory=list, exclude=True)
    removed_paths: list[str] = Field(default_factory=list, exclude=True)

    def summary(self) -> dict[str, int]:
        return {
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "analyses": self.analyses,
            "problems": len(self.problems),
        }


def _safe_relative(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or path == MANIFEST:
        raise ValueError(f"refusing to write outside the site: {path!r}")
    return pure.as_posix()


def _read_manifest(store: FileStore) -> list[str]:
    raw = store.read(MANIFEST)
    if raw is None:
        if not store.is_empty():
            raise InputError(
                f"{store.url} is not empty and was not built by clausewatch; "
                "choose an empty directory"
            )
        return []
    try:
        files = json.loads(raw.decode("utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{store.url}/{MANIFEST} is not a clausewatch site manifest: {exc}"
        ) from exc
    return [str(f) for f in files]


def _write_if_changed(
    store: FileStore, rel: str, data: bytes, index: dict[str, str] | None = None
) -> bool:
    """Write ``data`` unless the stored object is the same: known from ``index`` (key -> MD5,
    one listing of a remote store instead of a read per file) or read back."""
    if index is not None:
        if index.get(rel) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            return False
    elif store.read(rel) == data:
        return False
    store.write(rel, data, content_type=mimetypes.guess_type(rel)[0])
    return True


def site_store(target: Path | str | FileStore) -> FileStore:
    """The store a site is written to: a folder (files 644) or a storage URL."""
    if isinstance(target, FileStore):
        return target
    return open_store(str(target), private=False)


def write_tree(target: Path | str | FileStore, files: dict[str, bytes]) -> BuildReport:
    """Make ``target`` (a folder or a storage URL such as ``s3://bucket/site``) hold exactly
    ``files`` (path relative to the root -> bytes)."""
    store = site_store(target)
    previous = _read_manifest(store)
    index = store.md5_index()
    report = BuildReport()
    wanted = {_safe_relative(p): data for p, data in files.items()}
    # Record the union first: an interrupted build still knows every file it may have written.
    _write_manifest(store, set(previous) | set(wanted))
    for rel in sorted(wanted):
        if _write_if_changed(store, rel, wanted[rel], index):
            report.written += 1
            report.written_paths.append(rel)
        else:
            report.unchanged += 1
    for rel in sorted(set(previous) - set(wanted)):
        try:
            key = _safe_relative(rel)
        except ValueError:
            continue
        if store.size(key) is not None:
            store.delete(key)
            report.removed += 1
            report.removed_paths.append(rel)
    _write_manifest(store, set(wanted))
    return report


def _write_manifest(store: FileStore, files: set[str]) -> None:
    manifest = json.dumps({"files": sorted(files)}, indent=1) + "\n"
    _write_if_changed(store, MANIFEST, manifest.encode("utf-8"))
