"""The one atomic-write helper and the one file hash (clausewatch.core.files)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from clausewatch.core.files import atomic_open, atomic_write, sha256_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    atomic_write(target, "néw\n")
    assert target.read_bytes() == "néw\n".encode()
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_failure_inside_atomic_open_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="checksum"), atomic_open(target) as fh:
        fh.write(b"half of the new")
        raise ValueError("checksum mismatch")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]


def test_perm_is_applied_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "site.html", b"x", perm=0o644)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "site.html") == 0o644
    old = os.umask(0o000)
    try:
        atomic_write(tmp_path / "key", "secret", perm=0o600)
        atomic_write(tmp_path / "plain", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "key") == 0o600
    assert _mode(tmp_path / "plain") == 0o666  # like open(): 0o666 less the umask


def test_sha256_file_hashes_every_block_and_reports_progress(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 123)  # two blocks
    path = tmp_path / "blob"
    path.write_bytes(data)
    seen: list[int] = []
    assert sha256_file(path, seen.append) == hashlib.sha256(data).hexdigest()
    assert seen == [1 << 20, 123]
