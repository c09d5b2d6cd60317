"""The one answer to "may sending this again help?", for every client clausewatch has (page
fetches, LLM and embedding calls, webhooks, e-mail, the vector store):

| failure | retryable |
|---|---|
| HTTP 408 Request Timeout, 425 Too Early, 429 Too Many Requests | yes |
| HTTP 5xx (server errors, a busy or broken gateway) | yes |
| any other HTTP status (other 4xx: the request itself is wrong) | no |
| SMTP 4xx reply (RFC 5321 "transient negative completion") | yes |
| SMTP 5xx reply, every recipient refused, STARTTLS or login not offered | no |
| SMTP connection lost | yes |
| no answer: connection refused or reset, timeout, DNS failure: ``ConnectionError``, | yes |
|   ``TimeoutError``, ``socket.gaierror``, an ``OSError`` whose errno is in | |
|   ``RETRYABLE_ERRNOS``, ``httpx.TransportError``, ``openai.APIConnectionError``, | |
|   botocore/aiohttp connection errors (``RETRYABLE_CLIENT_ERRORS``) | |
| any other ``OSError`` (a local file missing, denied, a full disk, a bad certificate) | no |
| a ``ClausewatchError`` | its own ``retryable`` (``TransientError``: yes) |
| anything else | no |

How often and how long each client tries again is its own setting; whether it may is this.
"""

from __future__ import annotations

import errno
import smtplib
import socket
import sys
from typing import Any

from clausewatch.core.errors import ClausewatchError

RETRYABLE_HTTP_STATUS = frozenset({408, 425, 429})
# errno values of failures that may pass (s3fs maps SlowDown, ServiceUnavailable to EBUSY and
# InternalError to EREMOTEIO)
RETRYABLE_ERRNOS = frozenset(
    {
        errno.EAGAIN,
        errno.EBUSY,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EREMOTEIO,
        errno.EINTR,
    }
)
# botocore / aiohttp failures of the connection itself (by class name: no import needed)
RETRYABLE_CLIENT_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "HTTPClientError",
        "ResponseStreamingError",
        "IncompleteReadError",
        "ClientConnectorError",
        "ClientOSError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "ClientPayloadError",
    }
)


def retryable_http_status(status: int) -> bool:
    """408, 425, 429 and every 5xx."""
    return status in RETRYABLE_HTTP_STATUS or 500 <= status <= 599


def retryable_smtp_code(code: int) -> bool:
    """SMTP 4xx replies (transient); 5xx are permanent."""
    return 400 <= code <= 499


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status an error carries (openai's ``status_code``, httpx's ``response``,
    clausewatch's ``status``/``http_status``), if any."""
    for name in ("status_code", "http_status", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    response: Any = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if isinstance(exc, OSError) and exc.errno in RETRYABLE_ERRNOS:
        return True
    if any(cls.__name__ in RETRYABLE_CLIENT_ERRORS for cls in type(exc).__mro__):
        return True
    # only an imported library can have raised its own errors: no import here
    httpx: Any = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return True
    openai: Any = sys.modules.get("openai")
    return openai is not None and isinstance(exc, openai.APIConnectionError)


def is_retryable(exc: BaseException) -> bool:
    """Whether trying the same thing again later may succeed (see the module's table)."""
    if isinstance(exc, ClausewatchError):
        return bool(exc.retryable)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return retryable_smtp_code(exc.smtp_code)
    if isinstance(exc, smtplib.SMTPException):  # an OSError, but not always a network one
        return isinstance(exc, smtplib.SMTPServerDisconnected)
    if _is_network_error(exc):
        return True
    status = _http_status(exc)
    return status is not None and retryable_http_status(status)
