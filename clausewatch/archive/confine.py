"""Local files stay inside the folder they were declared or imported from.

``import DIR`` reads only files whose real path (symbolic links resolved) lies under DIR;
``file:`` sources must lie under the file root: ``CLAUSEWATCH_FILE_ROOT`` when set, else the
declarations file's folder. Reading goes through :func:`read_confined`, which opens the
resolved path without following a link at its last component and checks the size on the
open file, so a link swapped in after the check is not followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from clausewatch.core.errors import InputError
from clausewatch.core.settings import get_settings


class OutsideRootError(InputError):
    """A path that resolves (through a symbolic link or ``..``) outside its allowed folder."""


def real(path: Path) -> Path:
    """``path`` made absolute with every symbolic link and ``..`` resolved."""
    return Path(os.path.realpath(path))


def is_within(path: Path, root: Path) -> bool:
    """Whether ``path``'s real location is ``root``'s real location or under it."""
    return real(path).is_relative_to(real(root))


def check_within(path: Path, root: Path, what: str) -> Path:
    """The real path of ``path``; OutsideRootError when it leaves ``root``."""
    target = real(path)
    if not target.is_relative_to(real(root)):
        link = " (through a symbolic link)" if target != Path(os.path.abspath(path)) else ""
        raise OutsideRootError(f"{path} leads to {target}{link}, outside {what} {real(root)}")
    return target


def file_root(declarations: Path) -> Path:
    """The folder ``file:`` sources of ``declarations`` must lie in."""
    configured = get_settings().file_root
    return real(configured) if configured is not None else real(declarations).parent


def read_confined(path: Path, root: Path, what: str, max_bytes: int) -> bytes:
    """Read ``path`` if its real location is under ``root`` and it is at most ``max_bytes``."""
    target = check_within(path, root, what)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"not a file: {path}")
        if info.st_size > max_bytes:
            raise InputError(
                f"{path} is {info.st_size} bytes, over the size cap of {max_bytes} bytes"
            )
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # closed with fh
            body = fh.read(max_bytes + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(body) > max_bytes:
        raise InputError(f"{path} is over the size cap of {max_bytes} bytes")
    return body
