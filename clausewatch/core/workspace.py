"""Private files and folders: the workspace holds webhook secrets, password hashes, the review
app's signing key and the archive, so what clausewatch creates there is readable by its owner
only (folders 700, the SQLite database and key files 600), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and its missing parents, each mode 700; existing folders are left as
    they are (an operator's choice)."""
    if path.is_dir():
        return path
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_DIR)
    return path


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 600 unless it exists; True when created now."""
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)
    return True


def open_to_others(path: Path) -> int | None:
    """The permission bits of ``path`` when group or others may read or enter it, else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None
