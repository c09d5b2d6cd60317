"""``clausewatch browser check``: does rendering pages that need JavaScript work here?

Finds the Chromium, renders a page served on loopback by this process whose text is inserted
by a script after a data request, and says how long it took.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version

from pydantic import BaseModel

from clausewatch.core.errors import ClausewatchError
from clausewatch.core.settings import Settings, get_settings

CHECK_TEXT = "Rendering works: this sentence was inserted by a script."
_PAGES = {
    "/": (
        "text/html; charset=utf-8",
        b'<!doctype html><html><head><title>check</title><script defer src="/app.js"></script>'
        b"</head><body><noscript>You need to enable JavaScript.</noscript><main></main>"
        b"</body></html>",
    ),
    "/app.js": (
        "text/javascript",
        b'fetch("/text").then((r) => r.text()).then((t) => {'
        b'const p = document.createElement("p"); p.id = "check"; p.textContent = t;'
        b'document.querySelector("main").appendChild(p); });',
    ),
    "/text": ("text/plain; charset=utf-8", CHECK_TEXT.encode()),
}


class BrowserCheck(BaseModel):
    ok: bool
    chromium: str | None = None
    chromium_version: str | None = None
    playwright_version: str | None = None
    seconds: float = 0.0
    reason: str | None = None


@contextmanager
def _check_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            content_type, body = _PAGES.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in _PAGES else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _chromium_version(exe: str) -> str | None:
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def check_browser(settings: Settings | None = None) -> BrowserCheck:
    """Render a script-filled page on loopback; ``ok`` when its text came out."""
    from clausewatch.archive.normalize import html_to_markdown
    from clausewatch.archive.render import Renderer, chromium_executable

    settings = settings or get_settings()
    try:
        pw_version: str | None = version("playwright")
    except PackageNotFoundError:
        pw_version = None
    check = BrowserCheck(ok=False, playwright_version=pw_version)
    started = time.monotonic()
    try:
        check.chromium = chromium_executable(settings)
        check.chromium_version = _chromium_version(check.chromium)
        # the page is this process's own server on loopback
        local = settings.model_copy(update={"allow_private_addresses": True})
        with _check_server() as url, Renderer(local) as renderer:
            result = renderer.fetch(url, wait_for=["#check"])
        text = html_to_markdown(result.body.decode("utf-8"))
        if CHECK_TEXT in text:
            check.ok = True
        else:
            check.reason = f"the script's text is missing from the rendered page: {text[:200]!r}"
    except ClausewatchError as exc:
        check.reason = str(exc)
    check.seconds = round(time.monotonic() - started, 2)
    return check
