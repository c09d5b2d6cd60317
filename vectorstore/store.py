"""A small vector-store interface and its chromadb implementation.

``open_store(name)`` gives one collection: on disk (``PersistentClient`` at
``settings.chroma_dir``) by default, or a chromadb server (``HttpClient``) when
``settings.chroma_url`` is set (its path is kept: a server behind a reverse proxy; token,
headers, tenant and database: ``vectorstore.server``). The
collection name carries the database's namespace, so workspaces or databases sharing one
chroma server never mix their provisions, and the embedder's name, so switching the embedding
backend opens a fresh collection instead of mixing vector spaces. Every
collection is created or opened with our embedding function passed explicitly.

Errors: failures that may pass (server down, timeouts) raise ``TransientError``; others raise
``VectorStoreError`` (not retryable).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlparse

import numpy as np

from clausewatch.core.errors import ClausewatchError, ConfigError, TransientError
from clausewatch.core.retry import is_retryable
from clausewatch.vectorstore.embeddings import (
    Embedder,
    Vectors,
    chroma_embedding_function,
    get_embedder,
    register_chroma_embedding_function,
)
from clausewatch.vectorstore.server import ServerOptions, connect, server_options

MetaValue = str | int | float | bool
Metadata = dict[str, MetaValue]
T = TypeVar("T")

PAGE = 1000  # chromadb get/upsert page size (its max batch is larger; this keeps memory low)


class VectorStoreError(ClausewatchError):
    """The vector store refused an operation (bad data, incompatible collection)."""


@dataclass
class Record:
    id: str
    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass
class Hit:
    id: str
    text: str
    metadata: Metadata
    score: float  # cosine similarity, higher is closer


@runtime_checkable
class VectorStore(Protocol):
    """One collection of texts with metadata and vectors."""

    name: str
    embedder: Embedder

    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
        embeddings: Vectors | None = None,
    ) -> None: ...

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def get(
        self,
        ids: Sequence[str] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        with_text: bool = True,
    ) -> list[Record]: ...

    def query(
        self,
        text: str | None = None,
        *,
        embedding: Vectors | None = None,
        k: int = 10,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]: ...

    def count(self) -> int: ...


def _is_transient(exc: BaseException) -> bool:
    if is_retryable(exc):
        return True
    # chromadb reports a server it cannot reach in its own exception types, by message
    text = str(exc).lower()
    return "could not connect" in text or "connection refused" in text or "timed out" in text


@contextmanager
def _translate(action: str) -> Iterator[None]:
    try:
        yield
    except ClausewatchError:
        raise
    except Exception as exc:
        if _is_transient(exc):
            raise TransientError(f"vector store unavailable during {action}: {exc}") from exc
        raise VectorStoreError(f"vector store {action} failed: {exc}") from exc


def _clean_meta(meta: Mapping[str, Any]) -> Metadata:
    out: Metadata = {}
    for key, value in meta.items():
        if value is None:
            continue
        if isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = " | ".join(str(v) for v in value)
        else:
            raise VectorStoreError(f"metadata {key!r} has unsupported type {type(value).__name__}")
    return out


def _chroma_safe(raw: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]", "-", raw).strip("-._")


def collection_name(base: str, embedder: Embedder, namespace: str | None = None) -> str:
    """``<base>--<namespace>--<embedder>`` (``<base>--<embedder>`` without a namespace)
    restricted to chromadb's allowed characters."""
    raw = f"{base}--{namespace}--{embedder.name}" if namespace else f"{base}--{embedder.name}"
    return _chroma_safe(raw)[:512]


def database_namespace(namespace: str | None, database_url: str) -> str:
    """The part of collection names that keeps databases apart on one chroma server:
    ``namespace`` (``CLAUSEWATCH_CHROMA_NAMESPACE``) when set, else ``db-`` and a short hash
    of the database URL without its password (a SQLite path made absolute), so two
    workspaces or databases never read or overwrite each other's provisions."""
    if namespace is not None:
        cleaned = _chroma_safe(namespace.strip())
        if not cleaned or len(cleaned) > 64:
            raise ConfigError(
                f"CLAUSEWATCH_CHROMA_NAMESPACE must be 1-64 letters, digits, '.', '_' or '-': "
                f"{namespace!r}"
            )
        return cleaned
    from sqlalchemy import URL, make_url

    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        database = str(Path(database).expanduser().resolve())
    canonical = URL.create(
        url.drivername, url.username, None, url.host, url.port, database, url.query
    ).render_as_string(hide_password=False)
    return "db-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class ChromaVectorStore:
    """:class:`VectorStore` on a chromadb collection (embedded or server client)."""

    def __init__(
        self, client: Any, base_name: str, embedder: Embedder, namespace: str | None = None
    ) -> None:
        self.embedder = embedder
        self.base_name = base_name
        self.namespace = namespace
        self.name = collection_name(base_name, embedder, namespace)
        self.location = f"client-{id(client)}"  # open_store sets the path or URL
        self._client = client
        with _translate("open collection"):
            self._col = self._open()

    def _open(self) -> Any:
        return self._client.get_or_create_collection(
            name=self.name,
            embedding_function=chroma_embedding_function(self.embedder),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder.name, "dim": self.embedder.dim},
        )

    # writes ------------------------------------------------------------------------------

    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
        embeddings: Vectors | None = None,
    ) -> None:
        if not (len(ids) == len(texts) == len(metadatas)):
            raise VectorStoreError("upsert: ids, texts and metadatas differ in length")
        if len(set(ids)) != len(ids):
            raise VectorStoreError("upsert: duplicate ids in one call")
        if not ids:
            return
        vectors = self.embedder.embed(list(texts)) if embeddings is None else embeddings
        if vectors.shape != (len(ids), self.embedder.dim):
            raise VectorStoreError(f"upsert: embeddings have shape {vectors.shape}")
        for start in range(0, len(ids), PAGE):
            end = start + PAGE
            with _translate("upsert"):
                self._col.upsert(
                    ids=list(ids[start:end]),
                    documents=list(texts[start:end]),
                    metadatas=[_clean_meta(m) or {"_": 1} for m in metadatas[start:end]],
                    embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        if len(ids) != len(metadatas):
            raise VectorStoreError("update_metadata: ids and metadatas differ in length")
        for start in range(0, len(ids), PAGE):
            end = start + PAGE
            with _translate("update"):
                self._col.update(
                    ids=list(ids[start:end]),
                    metadatas=[_clean_meta(m) or {"_": 1} for m in metadatas[start:end]],
                )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), PAGE):
            with _translate("delete"):
                self._col.delete(ids=list(ids[start : start + PAGE]))

    # reads -------------------------------------------------------------------------------

    def get(
        self,
        ids: Sequence[str] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        with_text: bool = True,
    ) -> list[Record]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        records: list[Record] = []
        if ids is not None:
            for start in range(0, len(ids), PAGE):
                with _translate("get"):
                    res = self._col.get(
                        ids=list(ids[start : start + PAGE]),
                        where=dict(where) if where else None,
                        include=include,
                    )
                records.extend(self._records(res))
            return records
        offset = 0
        while True:
            with _translate("get"):
                res = self._col.get(
                    where=dict(where) if where else None,
                    include=include,
                    limit=PAGE,
                    offset=offset,
                )
            page = self._records(res)
            records.extend(page)
            if len(page) < PAGE:
                return records
            offset += PAGE

    @staticmethod
    def _records(res: Mapping[str, Any]) -> list[Record]:
        docs = res.get("documents") or [None] * len(res["ids"])
        metas = res.get("metadatas") or [None] * len(res["ids"])
        return [
            Record(id=i, text=d or "", metadata=dict(m or {}))
            for i, d, m in zip(res["ids"], docs, metas, strict=True)
        ]

    def query(
        self,
        text: str | None = None,
        *,
        embedding: Vectors | None = None,
        k: int = 10,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        if embedding is None:
            if text is None:
                raise VectorStoreError("query needs a text or an embedding")
            embedding = self.embedder.embed([text])[0]
        n = min(k, self.count())
        if n <= 0:
            return []
        with _translate("query"):
            res = self._col.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32).reshape(-1)],
                n_results=n,
                where=dict(where) if where else None,
                include=["metadatas", "documents", "distances"],
            )
        hits: list[Hit] = []
        for i, d, m, dist in zip(
            res["ids"][0],
            res["documents"][0],
            res["metadatas"][0],
            res["distances"][0],
            strict=True,
        ):
            hits.append(Hit(id=i, text=d or "", metadata=dict(m or {}), score=1.0 - float(dist)))
        return hits

    def count(self) -> int:
        with _translate("count"):
            return int(self._col.count())

    # collection metadata -----------------------------------------------------------------

    def get_marker(self, key: str) -> str | None:
        """A string kept in the collection's own metadata, read afresh (None when absent).

        The collection is looked up again, so a collection deleted and recreated since this
        store was opened is seen as it is now.
        """
        with _translate("read collection metadata"):
            self._col = self._open()
        value = (self._col.metadata or {}).get(key)
        return value if isinstance(value, str) and value else None

    def set_marker(self, key: str, value: str | None) -> bool:
        """Keep ``value`` under ``key`` in the collection's metadata (None removes it).

        False when the metadata cannot be rewritten safely: chromadb replaces it whole and
        refuses legacy ``hnsw:*`` keys in a modification.
        """
        with _translate("write collection metadata"):
            self._col = self._open()
            meta: dict[str, Any] = dict(self._col.metadata or {})
            if any(k.startswith("hnsw:") for k in meta):
                return False
            if value is None:
                if key not in meta:
                    return True
                meta.pop(key)
            else:
                meta[key] = value
            self._col.modify(metadata=meta)
        return True


# ---------------------------------------------------------------------------------------------
# clients

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _make_client(target: str, options: ServerOptions | None = None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    register_chroma_embedding_function()
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if target.startswith(("http://", "https://")):
        host, port, ssl = server_address(target)
        with _translate("connect"):
            return connect(host, port, ssl, chroma_settings, options or ServerOptions())
    with _translate("open"):
        return chromadb.PersistentClient(path=target, settings=chroma_settings)


def server_address(target: str) -> tuple[str, int, bool]:
    """``(host, port, ssl)`` for ``chromadb.HttpClient``. A URL with a path (a server behind
    a reverse proxy at ``https://host/chroma``) is passed whole as the host, which chromadb
    then uses as the base of its API (``/chroma/api/v2/...``) instead of dropping the path."""
    url = urlparse(target)
    try:
        port = url.port or (443 if url.scheme == "https" else 8000)
    except ValueError as exc:
        raise ConfigError(f"CLAUSEWATCH_CHROMA_URL {target!r}: {exc}") from None
    if not url.hostname:
        raise ConfigError(f"CLAUSEWATCH_CHROMA_URL {target!r} has no host")
    if url.query or url.fragment or url.username or url.password or url.params:
        raise ConfigError(
            f"CLAUSEWATCH_CHROMA_URL {target!r}: only scheme, host, port and path are "
            "supported (no query, fragment or user:password)"
        )
    ssl = url.scheme == "https"
    path = url.path.rstrip("/")
    if not path:
        return url.hostname, port, ssl
    host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
    return f"{url.scheme}://{host}:{port}{path}", port, ssl


def resolve_target(target: str | None = None) -> str:
    """``target`` or, by default, ``settings.chroma_url`` / ``settings.chroma_dir``."""
    from clausewatch.core.settings import get_settings
    from clausewatch.core.workspace import make_private_dirs

    if target is not None:
        return target
    settings = get_settings()
    if settings.chroma_url:
        if not settings.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"CLAUSEWATCH_CHROMA_URL must be an http(s):// URL of a chroma server: "
                f"{settings.chroma_url!r} (unset it to keep the store in the workspace)"
            )
        return settings.chroma_url
    make_private_dirs(settings.chroma_dir)
    return str(settings.chroma_dir)


def get_client(target: str | None = None) -> Any:
    """A chromadb client for ``target`` (a URL or a directory); default from settings. A
    server client carries the settings' credentials, headers, tenant and database
    (``vectorstore.server``)."""
    from clausewatch.core.settings import get_settings

    target = resolve_target(target)
    options = None
    key = target
    if target.startswith(("http://", "https://")):
        options = server_options(get_settings())
        key = f"{target}|{options.cache_key()}"
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _make_client(target, options)
        return _clients[key]


def open_store(
    base_name: str,
    *,
    embedder: Embedder | None = None,
    target: str | None = None,
    namespace: str | None = None,
) -> ChromaVectorStore:
    """Open (creating if needed) the collection ``base_name`` of this database (``namespace``,
    default :func:`database_namespace` of the settings) for the configured embedder."""
    from clausewatch.core.settings import get_settings

    location = resolve_target(target)
    if namespace is None:
        settings = get_settings()
        namespace = database_namespace(settings.chroma_namespace, settings.db_url)
    store = ChromaVectorStore(
        get_client(location), base_name, embedder or get_embedder(), namespace
    )
    store.location = location
    return store


_prepared: set[str] = set()


def _prepared_key(store: VectorStore, tag: str) -> str:
    return f"{getattr(store, 'location', id(store))}|{store.name}|{tag}"


def is_prepared(store: VectorStore, tag: str) -> bool:
    """Whether ``mark_prepared(store, tag)`` was called for this collection in this process."""
    return _prepared_key(store, tag) in _prepared


def mark_prepared(store: VectorStore, tag: str) -> None:
    """Remember that a one-off step (e.g. syncing the catalogue) was done for this collection."""
    _prepared.add(_prepared_key(store, tag))


def forget_clients() -> None:
    """Drop cached clients and prepared marks (tests point at new directories or servers)."""
    with _clients_lock:
        had_clients = bool(_clients)
        _clients.clear()
        _prepared.clear()
    if had_clients:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # release chromadb's per-path systems


def retrying(fn: Callable[[], T], attempts: int = 3) -> T:
    """Call ``fn``, retrying transient vector-store failures with a short back-off."""
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

    wrapped = retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=5),
        reraise=True,
    )(fn)
    return wrapped()
