"""Files kept outside the database, under one storage URL: raw snapshots, the published site
and Prefect results.

The storage URL (``CLAUSEWATCH_STORAGE_URL``) is a local folder, by default the workspace
(the layout is then ``<workspace>/snapshots``, ``<workspace>/site``, ``<workspace>/prefect``),
or an fsspec URL such as ``s3://bucket/prefix`` on AWS or any S3-compatible store (MinIO,
Ceph, R2, ...), which every worker machine then shares.

Writes are atomic: a local file is written under a temporary name and renamed; an S3 object
appears whole with its PUT. A failure is a ``StorageError`` whose ``retryable`` says whether
trying again may help (network, timeouts, a busy or failing server) or not (access denied,
no such bucket, a bad URL or missing credentials).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from clausewatch.core.errors import ClausewatchError, ConfigError
from clausewatch.core.files import atomic_write
from clausewatch.core.retry import is_retryable
from clausewatch.core.settings import Settings, get_settings, is_local_url
from clausewatch.core.workspace import PRIVATE_FILE, make_private_dirs

PROBE_KEY = ".clausewatch-probe"
S3_PROTOCOLS = ("s3", "s3a")


class StorageError(ClausewatchError):
    """The storage failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return f"access denied ({exc}); check the storage key and secret and their permissions"
    if isinstance(exc, FileNotFoundError):
        return f"not found ({exc}); does the bucket exist?"
    if type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        return (
            f"{exc}: set CLAUSEWATCH_STORAGE_KEY and CLAUSEWATCH_STORAGE_SECRET, or the "
            "standard AWS credentials"
        )
    return f"{type(exc).__name__}: {exc}"


def storage_error(exc: BaseException, action: str, where: str) -> StorageError:
    """A ``StorageError`` for ``exc`` raised while doing ``action`` on ``where``."""
    retryable = is_retryable(exc)
    hint = " (may pass: retry)" if retryable else ""
    return StorageError(
        f"storage {where}: {action} failed: {_reason(exc)}{hint}", retryable=retryable
    )


class FileStore(ABC):
    """Objects under a root, addressed by relative POSIX keys (``ab/cd/abcd...``,
    ``index.html``)."""

    url: str

    @abstractmethod
    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The object's size, or None when there is none."""

    @abstractmethod
    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Store ``data`` under ``key`` atomically (readers see the old object or the new)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; nothing happens when there is none."""

    @abstractmethod
    def is_empty(self) -> bool:
        """Whether nothing is stored under the root."""

    @abstractmethod
    def child(self, name: str) -> FileStore:
        """The store rooted at ``<root>/<name>``."""

    def md5_index(self) -> dict[str, str] | None:
        """Key -> MD5 (hex) of every object under the root from one listing, or None when the
        store cannot tell (then compare contents)."""
        return None

    def check(self) -> None:
        """Write, read back and delete a small object: raises ``StorageError`` unless the
        store is reachable and writable."""
        probe = f"clausewatch storage probe {os.getpid()}".encode()
        self.write(PROBE_KEY, probe)
        if self.read(PROBE_KEY) != probe:
            raise StorageError(f"storage {self.url}: an object written could not be read back")
        self.delete(PROBE_KEY)


class LocalFileStore(FileStore):
    """A local folder. ``private``: folders 700 and files 600 (the archive); otherwise files
    644 (a site a web server reads) and emptied folders are removed after a delete."""

    def __init__(self, root: Path, *, private: bool = True) -> None:
        self.root = root
        self.private = private
        self.url = str(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def read(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise storage_error(exc, f"reading {key}", self.url) from exc

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise storage_error(exc, f"reading {key}", self.url) from exc

    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        target = self.path(key)
        try:
            if self.private:
                make_private_dirs(target.parent)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data, perm=PRIVATE_FILE if self.private else 0o644)
        except OSError as exc:
            raise storage_error(exc, f"writing {key}", self.url) from exc

    def delete(self, key: str) -> None:
        target = self.path(key)
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise storage_error(exc, f"deleting {key}", self.url) from exc
        if not self.private:
            self._prune_empty_dirs(target.parent)

    def _prune_empty_dirs(self, start: Path) -> None:
        current = start
        while current != self.root and self.root in current.parents:
            try:
                current.rmdir()
            except OSError:
                return
            current = current.parent

    def is_empty(self) -> bool:
        try:
            return not any(self.root.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return True
        except OSError as exc:
            raise storage_error(exc, "listing", self.url) from exc

    def child(self, name: str) -> LocalFileStore:
        return LocalFileStore(self.root / name, private=self.private)


class RemoteFileStore(FileStore):
    """An fsspec file system (S3 and S3-compatible stores through s3fs)."""

    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def _s3(self) -> bool:
        protocol = self.fs.protocol
        names = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        return any(p in S3_PROTOCOLS for p in names)

    def read(self, key: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self._path(key)))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise storage_error(exc, f"reading {key}", self.url) from exc

    def size(self, key: str) -> int | None:
        try:
            info = self.fs.info(self._path(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise storage_error(exc, f"reading {key}", self.url) from exc
        if info.get("type") == "directory":
            return None
        return int(info.get("size") or 0)

    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        extra: dict[str, Any] = {}
        if content_type and self._s3():
            extra["ContentType"] = content_type
        try:
            self.fs.pipe_file(self._path(key), data, **extra)  # one PUT: atomic per object
        except Exception as exc:
            raise storage_error(exc, f"writing {key}", self.url) from exc

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            return
        except Exception as exc:
            raise storage_error(exc, f"deleting {key}", self.url) from exc

    def is_empty(self) -> bool:
        try:
            return not self.fs.ls(self.root, detail=False)
        except FileNotFoundError:
            return True
        except Exception as exc:
            raise storage_error(exc, "listing", self.url) from exc

    def md5_index(self) -> dict[str, str] | None:
        """From one listing: on S3 the ETag of an object written by one PUT is its MD5 (not
        with multipart uploads or SSE-KMS: those objects are simply compared by content)."""
        if not self._s3():
            return None
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        except Exception as exc:
            raise storage_error(exc, "listing", self.url) from exc
        prefix = self.root + "/"
        index: dict[str, str] = {}
        for path, info in found.items():
            etag = str(info.get("ETag") or "").strip('"').lower()
            if path.startswith(prefix) and len(etag) == 32 and "-" not in etag:
                index[path[len(prefix) :]] = etag
        return index

    def child(self, name: str) -> RemoteFileStore:
        return RemoteFileStore(self.fs, f"{self.root}/{name}", f"{self.url}/{name}")


def protocol_of(url: str) -> str:
    return "file" if is_local_url(url) else url.split("://", 1)[0].lower()


def fsspec_options(url: str, settings: Settings | None = None) -> dict[str, Any]:
    """The fsspec options for ``url``: for S3, the endpoint, key and secret from the settings
    (unset key and secret: the standard AWS credential chain), no listing cache (another
    machine may have written since), bounded retries and timeouts."""
    if protocol_of(url) not in S3_PROTOCOLS:
        return {}
    settings = settings or get_settings()
    options: dict[str, Any] = {
        "use_listings_cache": False,
        "config_kwargs": {
            "connect_timeout": 10,
            "read_timeout": 60,
            "retries": {"max_attempts": 3, "mode": "standard"},
        },
    }
    options.update(public_fsspec_options(url, settings))
    if settings.storage_key:
        options["key"] = settings.storage_key
    if settings.storage_secret is not None:
        options["secret"] = settings.storage_secret.get_secret_value()
    return options


def public_fsspec_options(url: str, settings: Settings | None = None) -> dict[str, Any]:
    """The options that hold no secret (the endpoint), safe to store in a Prefect block."""
    if protocol_of(url) not in S3_PROTOCOLS:
        return {}
    settings = settings or get_settings()
    if settings.storage_endpoint_url:
        return {"endpoint_url": settings.storage_endpoint_url}
    return {}


def open_store(url: str, *, private: bool = True) -> FileStore:
    """The store at ``url``: a folder (``private``: folders 700, files 600) or an fsspec
    URL opened with ``fsspec_options``."""
    if is_local_url(url):
        return LocalFileStore(Path(url.removeprefix("file://")).expanduser(), private=private)
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url, **fsspec_options(url))
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"storage URL {url}: {exc}") from exc
    return RemoteFileStore(fs, str(root), url)


def storage_root(settings: Settings | None = None) -> FileStore:
    """The configured storage (``CLAUSEWATCH_STORAGE_URL``, default the workspace)."""
    return open_store((settings or get_settings()).storage)


def join_url(url: str, name: str) -> str:
    return f"{url.rstrip('/')}/{name}"


def site_url(settings: Settings | None = None) -> str:
    """Where the published site goes by default: ``<storage>/site``."""
    return join_url((settings or get_settings()).storage, "site")
