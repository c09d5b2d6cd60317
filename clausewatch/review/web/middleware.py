"""ASGI middleware of the review app: security headers on every response, and a bound on the
whole request body.

Both are plain ASGI (not ``BaseHTTPMiddleware``) so they also see what the framework's own
error handling produces: ``SecurityHeaders`` wraps the whole app, adds the headers to every
response start, and turns an unhandled exception into a bare 500 that carries them too (the
exception is logged, never shown). ``BodyLimit`` refuses a declared ``Content-Length`` over
the bound with 413 before anything is read, and counts the bytes of every body as they
arrive (chunked uploads included), answering 413 as soon as the count passes the bound.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("clausewatch.review")

ERROR_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Error {status}</title>"
    "<h1>Error {status}</h1><p>{message}</p></html>"
)


class BodyTooLarge(HTTPException):
    """The request body is over the bound (raised from ``receive`` while it is read)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is too large (at most {limit} bytes).")


def _wants_json(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return path.startswith(("/api/", "/static/")) or path.endswith(".json")


async def send_error(scope: Scope, send: Send, status: int, message: str) -> None:
    """A minimal error response that needs nothing (no template, no database, no session)."""
    if _wants_json(scope):
        import json

        body = json.dumps({"detail": message}).encode()
        media = "application/json"
    else:
        from html import escape

        body = ERROR_PAGE.format(status=status, message=escape(message)).encode()
        media = "text/html; charset=utf-8"
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds ``headers`` (and ``Cache-Control: no-store`` outside /static/) to every response;
    an unhandled exception becomes a 500 with the same headers."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str], hsts: bool = False) -> None:
        self.app = app
        self.headers = dict(headers)
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        started = False

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, secured)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:  # the response is under way: nothing sensible can be sent any more
                raise
            await send_error(scope, secured, 500, "internal error")


class BodyLimit:
    """Bounds the whole request body to ``limit`` bytes (413 beyond it)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await send_error(scope, send, 400, "invalid Content-Length")
                return
            if length > self.limit:
                await send_error(scope, send, 413, BodyTooLarge(self.limit).detail)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # raised where no handler turned it into a page
            if started:
                raise
            await send_error(scope, send, 413, exc.detail)
