"""Connecting to a chroma server: credentials, extra headers, tenant and database.

Settings (README, Configuration): ``CLAUSEWATCH_CHROMA_TOKEN`` is sent on every request as
``Authorization: Bearer <token>`` or, with ``CLAUSEWATCH_CHROMA_TOKEN_HEADER=X-Chroma-Token``,
as ``X-Chroma-Token: <token>`` (Chroma Cloud, and the token schemes of chroma's auth
providers and of the proxies put in front of ``chroma run``); ``CLAUSEWATCH_CHROMA_HEADERS``
adds headers of your own (a JSON object: an API gateway's key, an access proxy's client id);
``CLAUSEWATCH_CHROMA_TENANT`` and ``CLAUSEWATCH_CHROMA_DATABASE`` choose where the
collections live (chroma's ``default_tenant`` / ``default_database`` otherwise). A database
that does not exist yet in the tenant is created; a tenant is never created.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clausewatch.core.errors import ConfigError

if TYPE_CHECKING:
    from clausewatch.core.settings import Settings

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token


@dataclass(frozen=True)
class ServerOptions:
    """What every request to the chroma server carries, and where the collections live."""

    headers: dict[str, str] = field(default_factory=dict)
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    def cache_key(self) -> str:
        """Tells clients with different options apart (no secret in it: a digest)."""
        import hashlib

        digest = hashlib.sha256(json.dumps(sorted(self.headers.items())).encode()).hexdigest()
        return f"{self.tenant}/{self.database}/{digest[:16]}"


def _extra_headers(raw: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"CLAUSEWATCH_CHROMA_HEADERS must be a JSON object of header names and values, "
            f'e.g. {{"X-Api-Key": "..."}}: {exc.msg}'
        ) from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ConfigError(
            "CLAUSEWATCH_CHROMA_HEADERS must be a JSON object whose values are strings"
        )
    return parsed


def server_options(settings: Settings) -> ServerOptions:
    """The options the settings ask for, checked (bad header names or values, a header set
    twice, tenant or database without a server are configuration errors)."""
    headers: dict[str, str] = {}
    if settings.chroma_headers is not None:
        headers.update(_extra_headers(settings.chroma_headers.get_secret_value()))
    if settings.chroma_token is not None:
        token = settings.chroma_token.get_secret_value().strip()
        carrier = settings.chroma_token_header
        if any(k.lower() == carrier.lower() for k in headers):
            raise ConfigError(
                f"CLAUSEWATCH_CHROMA_HEADERS sets {carrier}, which CLAUSEWATCH_CHROMA_TOKEN "
                "also sets: keep one of them"
            )
        headers[carrier] = f"Bearer {token}" if carrier == "Authorization" else token
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ConfigError(f"chroma server header name {name!r} is not a valid HTTP header")
        if any(ch in value for ch in "\r\n\0"):
            raise ConfigError(f"chroma server header {name}: the value holds a line break")
    local = not settings.chroma_url
    given: dict[str, object] = {
        "CLAUSEWATCH_CHROMA_TENANT": settings.chroma_tenant,
        "CLAUSEWATCH_CHROMA_DATABASE": settings.chroma_database,
        "CLAUSEWATCH_CHROMA_TOKEN": settings.chroma_token,
        "CLAUSEWATCH_CHROMA_HEADERS": settings.chroma_headers,
    }
    for var, setting in given.items():
        if local and setting is not None:
            raise ConfigError(
                f"{var} applies to a chroma server: set CLAUSEWATCH_CHROMA_URL too (the store "
                "in the workspace has no tenants, databases or credentials)"
            )
    return ServerOptions(
        headers=headers,
        tenant=settings.chroma_tenant or DEFAULT_TENANT,
        database=settings.chroma_database or DEFAULT_DATABASE,
    )


def _refused(exc: BaseException) -> int | None:
    """The HTTP status when the server (or a proxy in front of it) refused our credentials:
    chromadb raises its own error types or a bare Exception chained to httpx's."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError

    seen: BaseException | None = exc
    for _ in range(5):  # the chain is short; never loop on a cycle
        if seen is None:
            break
        if isinstance(seen, httpx.HTTPStatusError) and seen.response.status_code in (401, 403):
            return seen.response.status_code
        if isinstance(seen, AuthorizationError | ChromaAuthError):
            return 403
        seen = seen.__cause__ or seen.__context__
    return None


def _missing_database(exc: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    text = str(exc).lower()
    return isinstance(exc, NotFoundError | ValueError) and "database" in text


def _create_database(host: str, port: int, ssl: bool, options: ServerOptions) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    admin = chromadb.AdminClient(
        ChromaSettings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=port,
            chroma_server_ssl_enabled=ssl,
            chroma_server_headers=options.headers or None,
            anonymized_telemetry=False,
            allow_reset=False,
        )
    )
    admin.create_database(options.database, tenant=options.tenant)


def connect(host: str, port: int, ssl: bool, chroma_settings: Any, options: ServerOptions) -> Any:
    """A ``chromadb.HttpClient`` with the options; creates a missing (non-default) database."""
    import chromadb

    def client() -> Any:
        return chromadb.HttpClient(
            host=host,
            port=port,
            ssl=ssl,
            headers=options.headers or None,
            settings=chroma_settings,
            tenant=options.tenant,
            database=options.database,
        )

    try:
        try:
            return client()
        except Exception as exc:
            if options.database == DEFAULT_DATABASE or not _missing_database(exc):
                raise
        _create_database(host, port, ssl, options)
        return client()
    except Exception as exc:
        code = _refused(exc)
        if code is not None:
            raise ConfigError(
                f"the chroma server refused the request (HTTP {code}): check "
                "CLAUSEWATCH_CHROMA_TOKEN, CLAUSEWATCH_CHROMA_TOKEN_HEADER and "
                "CLAUSEWATCH_CHROMA_HEADERS"
            ) from exc
        raise
