"""Fetch a page that needs JavaScript: the system Chromium, driven by Playwright.

The main document is fetched by :class:`archive.fetch.Fetcher` (SSRF guard, redirects, retries,
size cap), then handed to the browser. Chromium itself never touches the network: every
request the page makes is intercepted (route ``**/*``) and either refused or made by a guarded
httpx client (the same address checks as the fetcher, each redirect hop re-checked), and
Chromium is launched with a proxy that does not exist and a resolver that resolves nothing, so
a request that would escape interception (a WebSocket, a redirect the browser follows by
itself) fails. Only http(s); images, fonts, media, style sheets and frames are not fetched;
downloads are refused; every response and the page as a whole stay under
``fetch_max_bytes``; the render stays within ``3 * fetch_timeout_s``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

import httpx

from clausewatch.archive.fetch import (
    REDIRECT_CODES,
    Fetcher,
    FetchResult,
    GuardedTransport,
    read_capped,
)
from clausewatch.archive.normalize import detect_kind
from clausewatch.archive.ssrf import vetted_addresses
from clausewatch.core.closing import Closing
from clausewatch.core.errors import ClausewatchError, InputError, TransientError
from clausewatch.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Route

# Flags for the system Chromium. The proxy and the resolver rules make sure nothing reaches
# the network except through the route handler (which fulfils every request itself).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--dns-prefetch-disable",
    "--proxy-server=http://no-network.invalid:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
# What the page may load: the document, its scripts and the data they fetch.
FETCHED_TYPES = frozenset({"document", "script", "xhr", "fetch"})
METHODS = frozenset({"GET", "HEAD", "POST"})
MAX_REQUESTS = 300
LAUNCH_TIMEOUT_S = 60.0  # starting the browser is not part of the page's time budget
# At most this many browsers at once in a process (a run tracks documents in 4 threads).
_BROWSER_SLOTS = threading.BoundedSemaphore(2)
# Request headers the guarded client sets itself (or that make no sense to forward).
_DROP_REQUEST = frozenset(
    {"host", "connection", "content-length", "accept-encoding", "user-agent", "keep-alive"}
)
# Response headers that no longer hold once httpx has decoded the body.
_DROP_RESPONSE = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)


class BrowserUnavailable(InputError):
    """No usable browser here (no Chromium, no playwright package, or it does not start)."""


def chromium_executable(settings: Settings | None = None) -> str:
    """The Chromium to drive (``CLAUSEWATCH_CHROMIUM``, default ``/usr/bin/chromium``)."""
    configured = (settings or get_settings()).chromium
    found = shutil.which(configured)
    if found is None and Path(configured).is_file():
        found = configured
    if found is None:
        raise BrowserUnavailable(
            f"no Chromium at {configured!r}: rendering pages that need JavaScript needs a "
            "system Chromium (Debian: apt-get install chromium; or set CLAUSEWATCH_CHROMIUM)"
        )
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_attachment(headers: httpx.Headers) -> bool:
    value: str = headers.get("content-disposition", "")
    return value.strip().lower().startswith("attachment")


def _in_main_frame(req: Request) -> bool:
    try:
        return bool(req.frame.parent_frame is None)
    except Exception:  # a worker's request, or a frame already gone
        return False


@dataclass
class _PageGuard:
    """Answers every request of one page; remembers what it refused."""

    settings: Settings
    main: FetchResult
    deadline: float
    client: httpx.Client
    main_served: bool = False
    requests: int = 0
    bytes_total: int = 0
    refused: list[str] = field(default_factory=list)
    fatal: ClausewatchError | None = None

    def handle(self, route: Route) -> None:
        try:
            self._handle(route)
        except Exception as exc:  # never leave the browser waiting on a request
            self.refused.append(f"{route.request.url}: {type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):  # the page or browser is already gone
                route.abort("failed")

    def _handle(self, route: Route) -> None:
        req = route.request
        main_frame = _in_main_frame(req)
        if (
            not self.main_served
            and req.is_navigation_request()
            and main_frame
            and urldefrag(req.url)[0] == urldefrag(self.main.url)[0]
        ):
            self.main_served = True
            route.fulfill(
                status=self.main.status,
                headers={"content-type": self.main.content_type or "text/html"},
                body=self.main.body,
            )
            return
        if req.resource_type not in FETCHED_TYPES or (
            req.resource_type == "document" and not main_frame
        ):
            route.abort("blockedbyclient")
            return
        if time.monotonic() > self.deadline:
            self.refused.append(f"{req.url}: after the render's time budget")
            self._refuse(route, main_frame)
            return
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            self.refused.append(f"{req.url}: over {MAX_REQUESTS} requests")
            self._refuse(route, main_frame)
            return
        try:
            status, headers, body = self._exchange(req)
        except ClausewatchError as exc:
            self.refused.append(f"{req.url}: {exc}")
            self._refuse(route, main_frame)
            return
        route.fulfill(status=status, headers=headers, body=body)

    @staticmethod
    def _refuse(route: Route, main_frame: bool) -> None:
        """Refuse a request. A refused navigation of the page itself (a download, a blocked
        address) gets "204 No Content", which leaves the current page in place; an aborted
        one would replace it with the browser's error page."""
        if main_frame and route.request.is_navigation_request():
            route.fulfill(status=204, body=b"")
        else:
            route.abort("blockedbyclient")

    def _exchange(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        """Make ``req`` through the guarded client, following redirects (each hop vetted)."""
        s = self.settings
        method = req.method.upper()
        if method not in METHODS:
            raise InputError(f"method {method} not allowed")
        headers = {
            k: v
            for k, v in req.all_headers().items()
            if not k.startswith(":") and k.lower() not in _DROP_REQUEST
        }
        content = req.post_data_buffer if method == "POST" else None
        current = req.url
        for _hop in range(s.fetch_max_redirects + 1):
            parts = urlsplit(current)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https"):
                raise InputError(f"refused non-http(s) URL {current}")
            if not parts.hostname:
                raise InputError(f"URL has no host: {current}")
            port = parts.port or (443 if scheme == "https" else 80)
            vetted_addresses(parts.hostname, port, allow_private=s.allow_private_addresses)
            request = self.client.build_request(method, current, headers=headers, content=content)
            try:
                resp = self.client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out fetching {current}") from exc
            except httpx.HTTPError as exc:
                raise TransientError(f"network error fetching {current}: {exc}") from exc
            try:
                if resp.status_code in REDIRECT_CODES and resp.headers.get("location"):
                    current = str(resp.url.join(resp.headers["location"]))
                    if resp.status_code in (301, 302, 303) and method == "POST":
                        method, content = "GET", None
                    continue
                if req.resource_type == "document" and _is_attachment(resp.headers):
                    raise InputError("refused a download")
                cap = s.fetch_max_bytes - self.bytes_total
                try:
                    body = read_capped(
                        resp, current, cap=cap, budget_s=max(0.1, self.deadline - time.monotonic())
                    )
                except InputError as exc:
                    self.fatal = InputError(
                        f"the page loads more than the size cap of {s.fetch_max_bytes} bytes "
                        f"({exc})"
                    )
                    raise
                except httpx.HTTPError as exc:
                    raise TransientError(f"network error reading {current}: {exc}") from exc
                self.bytes_total += len(body)
                out: dict[str, str] = {}
                for k, v in resp.headers.multi_items():
                    key = k.lower()
                    if key in _DROP_RESPONSE:
                        continue
                    out[key] = f"{out[key]}\n{v}" if key in out else v
                return resp.status_code, out, body
            finally:
                resp.close()
        raise InputError(f"too many redirects (more than {s.fetch_max_redirects}) from {req.url}")


class Renderer(Closing):
    """Fetches documents through Chromium; reuse one for many fetches, then close it.

    Each fetch launches a fresh browser with a fresh profile in its own thread (Playwright's
    sync API cannot run inside an event loop, and nothing leaks from one page to the next).
    """

    def __init__(self, settings: Settings | None = None, fetcher: Fetcher | None = None) -> None:
        self.settings = settings or get_settings()
        self._own_fetcher = fetcher is None
        self._fetcher = fetcher or Fetcher(self.settings)

    def close(self) -> None:
        if self._own_fetcher:
            self._fetcher.close()

    def fetch(self, location: str, *, wait_for: Sequence[str] = ()) -> FetchResult:
        """The page at ``location`` (http(s)) as HTML after its scripts ran.

        ``wait_for``: CSS selectors of the policy text (the declaration's ``select``); the
        render waits for one of them to appear, within the time budget. A main document that
        is not HTML (a PDF, plain text) is returned as fetched.
        """
        scheme = urlsplit(location).scheme.lower()
        if scheme not in ("http", "https"):
            raise InputError(f"rendering needs an http(s) URL, not {location}")
        exe = chromium_executable(self.settings)  # fail before any network use
        main = self._fetcher.fetch(location)
        if detect_kind(main.body, main.media_type, main.url) != "html":
            return main
        with (
            _BROWSER_SLOTS,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="clausewatch-render") as pool,
        ):
            return pool.submit(self._render, exe, main, tuple(wait_for)).result()

    # -- in the render thread ----------------------------------------------------------

    def _render(self, exe: str, main: FetchResult, wait_for: tuple[str, ...]) -> FetchResult:
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise BrowserUnavailable(
                "the playwright package is not installed (pip install playwright)"
            ) from None
        s = self.settings
        client = httpx.Client(
            transport=GuardedTransport(allow_private=s.allow_private_addresses),
            timeout=httpx.Timeout(s.fetch_timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": s.user_agent},
        )
        guard = _PageGuard(settings=s, main=main, deadline=time.monotonic(), client=client)
        try:
            with (
                tempfile.TemporaryDirectory(prefix="clausewatch-render-") as profile,
                sync_playwright() as pw,
            ):
                try:
                    context = pw.chromium.launch_persistent_context(
                        profile,
                        executable_path=exe,
                        headless=True,
                        args=list(CHROMIUM_FLAGS),
                        service_workers="block",
                        accept_downloads=False,
                        user_agent=s.user_agent,
                        locale="en-US",
                        timeout=LAUNCH_TIMEOUT_S * 1000,
                    )
                except PlaywrightError as exc:
                    raise BrowserUnavailable(
                        f"Chromium at {exe} did not start: {_first_line(exc)}"
                    ) from None
                guard.deadline = time.monotonic() + 3 * s.fetch_timeout_s
                try:
                    return self._load(context, guard, main, wait_for, PlaywrightError)
                finally:
                    context.close()
        finally:
            client.close()

    def _load(
        self,
        context: Any,
        guard: _PageGuard,
        main: FetchResult,
        wait_for: tuple[str, ...],
        error_type: type[Exception],
    ) -> FetchResult:
        s = self.settings
        deadline = guard.deadline
        context.route("**/*", guard.handle)
        page: Page = context.new_page()
        context.on("page", lambda popup: popup.close() if popup != page else None)

        def remaining_ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        try:
            page.goto(main.url, wait_until="domcontentloaded", timeout=remaining_ms())
            page.wait_for_load_state("load", timeout=remaining_ms())
        except error_type as exc:
            if guard.fatal is not None:
                raise guard.fatal from None
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"rendering {main.url} took over its {3 * s.fetch_timeout_s:.0f} s budget"
                ) from None
            raise InputError(f"rendering {main.url} failed: {_first_line(exc)}") from None
        if wait_for:
            # the normaliser reports a selector that matches nothing
            with contextlib.suppress(error_type):
                page.wait_for_selector(
                    ", ".join(wait_for), state="attached", timeout=remaining_ms()
                )
        try:
            settle = min(s.render_settle_s * 1000, remaining_ms())
            page.wait_for_load_state("networkidle", timeout=max(1.0, settle))
        except error_type:
            pass  # a page that polls forever: take it as it is now
        if guard.fatal is not None:
            raise guard.fatal
        # what a browser with JavaScript shows: <noscript> content is not (its "enable
        # JavaScript" notice would read as a wall)
        html = ""
        for attempt in (1, 2):
            try:
                page.evaluate("document.querySelectorAll('noscript').forEach((e) => e.remove())")
                html = page.content()
                break
            except error_type as exc:  # the page navigated as we read it: once more
                if attempt == 2:
                    raise TransientError(
                        f"rendering {main.url} failed: {_first_line(exc)}"
                    ) from None
                with contextlib.suppress(error_type):
                    page.wait_for_load_state("load", timeout=remaining_ms())
        body = html.encode("utf-8")
        if len(body) > s.fetch_max_bytes:
            raise InputError(
                f"the rendered page is {len(body)} bytes, over the size cap of "
                f"{s.fetch_max_bytes} bytes"
            )
        final = page.url if urlsplit(page.url).scheme in ("http", "https") else main.url
        return FetchResult(
            url=final,
            status=main.status,
            body=body,
            content_type="text/html; charset=utf-8",
        )
