"""Fetch a document's raw bytes: http(s) with httpx, or a local file.

Timeouts, bounded retries with exponential back-off on transient errors only (tenacity),
conditional GET (ETag / Last-Modified), a size cap enforced while streaming, redirects
followed by hand (bounded, each hop re-checked by the SSRF guard), a clear user agent.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import random
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpcore
import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from clausewatch.archive.confine import OutsideRootError, read_confined, real
from clausewatch.archive.ssrf import GuardedBackend, vetted_addresses
from clausewatch.core.closing import Closing
from clausewatch.core.errors import InputError, TransientError
from clausewatch.core.retry import retryable_http_status
from clausewatch.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from clausewatch.archive.render import Renderer

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/pdf,text/markdown,text/plain;q=0.9,*/*;q=0.5"
# Sites that pick a language from the request serve the same (English) variant every time, so
# a language switch is never mistaken for a change of the document.
ACCEPT_LANGUAGE = "en-US,en;q=0.9"
MAX_RETRY_AFTER_S = 60.0


ERROR_BODY_BYTES = 64 * 1024  # of an error response, kept for diagnosis


class HTTPStatusError(InputError):
    """A non-retryable HTTP status (4xx other than 408/425/429), with the start of the body
    the server sent with it (``body``, ``content_type``)."""

    def __init__(
        self, message: str, status: int, body: bytes = b"", content_type: str = ""
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.body = body
        self.content_type = content_type


class HTTPTransientError(TransientError):
    """A retryable HTTP status (5xx, 408, 425, 429), with the server's Retry-After if any and
    the start of its body."""

    def __init__(
        self,
        message: str,
        status: int,
        retry_after: float | None = None,
        body: bytes = b"",
        content_type: str = "",
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.retry_after = retry_after
        self.body = body
        self.content_type = content_type


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one successful fetch (``not_modified`` means HTTP 304, empty body)."""

    url: str
    status: int
    body: bytes
    content_type: str  # the full Content-Type value ("" when unknown)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in self.content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~35 ms each time."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport whose connections go only to addresses the SSRF guard vetted."""

    def __init__(self, *, allow_private: bool) -> None:
        ssl_context = _ssl_context()
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=10,
            max_keepalive_connections=5,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_file_location(location: str) -> bool:
    scheme = urlsplit(location).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and location[1:2] == ":")


def file_path(location: str) -> Path:
    parts = urlsplit(location)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            return Path(unquote(parts.netloc + parts.path))
        return Path(unquote(parts.path))
    return Path(location)


def guess_content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "text/markdown"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or ""


class Fetcher(Closing):
    """Fetches documents; reuse one for many fetches (connection pooling), then close it."""

    def __init__(self, settings: Settings | None = None, *, confine_files: bool = False) -> None:
        """``confine_files`` (tracking declared sources): a local file is read only under
        ``settings.file_root`` when set, and never through a symbolic link (declarations
        are loaded with links resolved and checked against the file root, so a link that
        appears later is refused)."""
        self.settings = settings or get_settings()
        self.confine_files = confine_files
        s = self.settings
        self._client = httpx.Client(
            transport=GuardedTransport(allow_private=s.allow_private_addresses),
            timeout=httpx.Timeout(s.fetch_timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": s.user_agent,
                "Accept": ACCEPT,
                "Accept-Language": ACCEPT_LANGUAGE,
            },
        )
        self._renderer: Renderer | None = None

    def close(self) -> None:
        self._client.close()

    # -- public -------------------------------------------------------------------------

    def fetch(
        self,
        location: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        render: bool = False,
        wait_for: Sequence[str] = (),
    ) -> FetchResult:
        """Fetch ``location`` (http(s) URL, file:// URL or path).

        ``render``: the page needs JavaScript; it is rendered by the system Chromium
        (:class:`archive.render.Renderer`, never conditionally), waiting for one of the
        ``wait_for`` selectors to appear.
        """
        if render:
            if self._renderer is None:
                from clausewatch.archive.render import Renderer

                self._renderer = Renderer(self.settings, fetcher=self)
            return self._renderer.fetch(location, wait_for=wait_for)
        if is_file_location(location):
            return self._read_file(location)
        scheme = urlsplit(location).scheme.lower()
        if scheme not in ("http", "https"):
            raise InputError(f"unsupported URL scheme {scheme!r}: {location}")
        retrying = Retrying(
            stop=stop_after_attempt(1 + max(0, self.settings.fetch_retries)),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        )
        return retrying(self._fetch_once, location, etag, last_modified)

    # -- internals ----------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        base = max(0.0, self.settings.fetch_backoff_s) * 2.0 ** (state.attempt_number - 1)
        delay = base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, float):
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
        return min(delay, MAX_RETRY_AFTER_S)

    def _read_file(self, location: str) -> FetchResult:
        path = file_path(location)
        cap = self.settings.fetch_max_bytes
        if self.confine_files:
            if real(path) != Path(os.path.abspath(path)):
                raise OutsideRootError(
                    f"{path} goes through a symbolic link (to {real(path)}); declare the real path"
                )
            root = self.settings.file_root or real(path).parent
            body = read_confined(path, root, "the file root (CLAUSEWATCH_FILE_ROOT)", cap)
        else:
            body = read_confined(path, real(path).parent, "its folder", cap)
        return FetchResult(
            url=path.resolve().as_uri(),
            status=200,
            body=body,
            content_type=guess_content_type(path),
        )

    def _fetch_once(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        s = self.settings
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(s.fetch_max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme.lower() not in ("http", "https"):
                raise InputError(f"refused redirect to non-http(s) URL: {current}")
            if not parts.hostname:
                raise InputError(f"URL has no host: {current}")
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            vetted_addresses(parts.hostname, port, allow_private=s.allow_private_addresses)
            try:
                with self._client.stream("GET", current, headers=headers) as resp:
                    status = resp.status_code
                    if status in REDIRECT_CODES:
                        location = resp.headers.get("location")
                        if not location:
                            raise InputError(f"HTTP {status} without a Location from {current}")
                        current = str(resp.url.join(location))
                        continue
                    if status == 304:
                        return FetchResult(
                            url=str(resp.url),
                            status=304,
                            body=b"",
                            content_type=resp.headers.get("content-type", ""),
                            etag=resp.headers.get("etag") or etag,
                            last_modified=resp.headers.get("last-modified") or last_modified,
                            not_modified=True,
                        )
                    if retryable_http_status(status):
                        body, note = self._error_body(resp, current)
                        raise HTTPTransientError(
                            f"HTTP {status} from {current}{note}",
                            status,
                            _parse_retry_after(resp.headers.get("retry-after")),
                            body=body,
                            content_type=resp.headers.get("content-type", ""),
                        )
                    if status >= 400:
                        body, note = self._error_body(resp, current)
                        raise HTTPStatusError(
                            f"HTTP {status} from {current}{note}",
                            status,
                            body=body,
                            content_type=resp.headers.get("content-type", ""),
                        )
                    if not 200 <= status < 300:
                        raise HTTPStatusError(f"unexpected HTTP {status} from {current}", status)
                    body = self._read_capped(resp, current)
                    return FetchResult(
                        url=str(resp.url),
                        status=status,
                        body=body,
                        content_type=resp.headers.get("content-type", ""),
                        etag=resp.headers.get("etag"),
                        last_modified=resp.headers.get("last-modified"),
                    )
            except httpx.TimeoutException as exc:
                raise TransientError(
                    f"timed out fetching {current} ({type(exc).__name__})"
                ) from exc
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise InputError(f"invalid URL {current}: {exc}") from exc
            except httpx.DecodingError as exc:
                raise InputError(f"corrupt content encoding from {current}: {exc}") from exc
            except httpx.TransportError as exc:
                raise TransientError(f"network error fetching {current}: {exc}") from exc
        raise InputError(f"too many redirects (more than {s.fetch_max_redirects}) from {url}")

    def _error_body(self, resp: httpx.Response, url: str) -> tuple[bytes, str]:
        """The start of an error response's body, and what it says when it is a bot wall or
        a maintenance page (a Cloudflare challenge comes with 403 or 503)."""
        from clausewatch.archive.walls import wall_of

        chunks: list[bytes] = []
        total = 0
        deadline = time.monotonic() + self.settings.fetch_timeout_s
        try:
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                total += len(chunk)
                if total >= ERROR_BODY_BYTES or time.monotonic() > deadline:
                    break
        except httpx.HTTPError:
            pass  # the status is the failure; the body is only a diagnosis
        body = b"".join(chunks)[:ERROR_BODY_BYTES]
        wall = wall_of(body, resp.headers.get("content-type", ""), url)
        if wall is None or wall.kind == "error":
            return body, ""
        return body, f": the page is a {wall.name} ({wall.kind})"

    def _read_capped(self, resp: httpx.Response, url: str) -> bytes:
        return read_capped(
            resp, url, cap=self.settings.fetch_max_bytes, budget_s=3 * self.settings.fetch_timeout_s
        )


def read_capped(resp: httpx.Response, url: str, *, cap: int, budget_s: float) -> bytes:
    """The body of a streamed response: InputError over ``cap`` bytes, TransientError when
    the download takes longer than ``budget_s``."""
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise InputError(f"{url} is {declared} bytes, over the size cap of {cap} bytes")
    deadline = time.monotonic() + budget_s
    chunks: list[bytes] = []
    total = 0
    for chunk in resp.iter_bytes():
        total += len(chunk)
        if total > cap:
            raise InputError(f"{url} is over the size cap of {cap} bytes")
        if time.monotonic() > deadline:
            raise TransientError(f"download of {url} too slow (over its {budget_s:.0f} s budget)")
        chunks.append(chunk)
    return b"".join(chunks)
