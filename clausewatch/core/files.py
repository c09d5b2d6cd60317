"""Files written whole or not at all, and their sha256.

``atomic_open``/``atomic_write`` write to a temporary file in the target's folder and rename
it over the target only when everything was written: a reader (another process, a crash
half-way) sees the old file or the new one, never half of one. The temporary file is removed
when anything fails, including a check the caller makes inside ``atomic_open`` before it ends.

``perm``: the new file's permission bits, set before the rename whatever the umask
(``workspace.PRIVATE_FILE`` for secrets and the archive); ``None`` creates it like ``open``
does (0o666 less the umask).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


@contextlib.contextmanager
def atomic_open(path: Path, *, perm: int | None = None, fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write; it replaces ``path`` when the block ends without an error."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{secrets.token_hex(4)}-{path.name[:100]}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if perm is None else perm)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if perm is not None:
                os.fchmod(fh.fileno(), perm)
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(
    path: Path, data: bytes | str, *, perm: int | None = None, fsync: bool = False
) -> None:
    """Replace ``path`` by ``data`` (text is written as UTF-8) in one step."""
    with atomic_open(path, perm=perm, fsync=fsync) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks; ``progress`` gets each block's size."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()
