"""Write a tree of files so that unchanged files are never rewritten and stale ones go away.

A manifest (``.clausewatch-site.json``) lists the files the last build wrote, so only files we
created are ever removed; a non-empty directory without a manifest is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from clausewatch.core.errors import InputError

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


def _read_manifest(root: Path) -> list[str]:
    path = root / MANIFEST
    if not path.exists():
        if root.exists() and any(root.iterdir()):
            raise InputError(
                f"{root} is not empty and was not built by clausewatch; choose an empty directory"
            )
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a clausewatch site manifest: {exc}") from exc
    return [str(f) for f in files]


def _write_if_changed(target: Path, data: bytes) -> bool:
    try:
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _prune_empty_dirs(root: Path, start: Path) -> None:
    current = start
    while current != root and root in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def write_tree(root: Path, files: dict[str, bytes]) -> BuildReport:
    """Make ``root`` hold exactly ``files`` (path relative to root -> bytes)."""
    previous = _read_manifest(root)
    root.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    wanted = {_safe_relative(p): data for p, data in files.items()}
    # Record the union first: an interrupted build still knows every file it may have written.
    _write_manifest(root, set(previous) | set(wanted))
    for rel in sorted(wanted):
        if _write_if_changed(root / rel, wanted[rel]):
            report.written += 1
            report.written_paths.append(rel)
        else:
            report.unchanged += 1
    for rel in sorted(set(previous) - set(wanted)):
        try:
            target = root / _safe_relative(rel)
        except ValueError:
            continue
        if target.is_file():
            target.unlink()
            report.removed += 1
            report.removed_paths.append(rel)
            _prune_empty_dirs(root, target.parent)
    _write_manifest(root, set(wanted))
    return report


def _write_manifest(root: Path, files: set[str]) -> None:
    manifest = json.dumps({"files": sorted(files)}, indent=1) + "\n"
    _write_if_changed(root / MANIFEST, manifest.encode("utf-8"))
