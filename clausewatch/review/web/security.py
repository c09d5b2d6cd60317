"""Security of the review app: headers, sessions, CSRF, authentication and roles."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData

from clausewatch.review import sessions
from clausewatch.review.accounts import Account, account_of
from clausewatch.storage.db import session_scope

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
SESSION_COOKIE = "clausewatch_session"
SESSION_KEY = "sid"  # the cookie's key for the server-side session token
DEFAULT_MAX_AGE = timedelta(hours=12)
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    def __init__(self, api: bool) -> None:
        self.api = api


class Forbidden(Exception):
    pass


class CSRFFailed(Exception):
    pass


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # older browsers and non-browser clients send none
        return True
    if origin == "null":  # sandboxed or privacy-redirected contexts
        return False
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token (and the Origin header when sent)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
        or not _same_origin(request)
    ):
        raise CSRFFailed()
    return form


def session_user(request: Request) -> Account | None:
    """The signed-in account: the cookie's token must name a live server-side session."""
    token = request.session.get(SESSION_KEY)
    if token is None:
        return None
    max_age = getattr(request.app.state, "session_max_age", DEFAULT_MAX_AGE)
    with session_scope() as db:
        user = sessions.current(db, token, max_age)
        account = account_of(user) if user is not None else None
    if account is None:  # logged out, password changed, removed or expired: signed out here too
        request.session.pop(SESSION_KEY, None)
        return None
    return account


def editor_page(request: Request) -> Account:
    user = session_user(request)
    if user is None:
        raise LoginRequired(api=False)
    return user


def editor_api(request: Request) -> Account:
    user = session_user(request)
    if user is None:
        raise LoginRequired(api=True)
    return user


def admin_page(request: Request) -> Account:
    user = editor_page(request)
    if user.role != "admin":
        raise Forbidden()
    return user


def safe_next(target: Any) -> str:
    """A local path to go to after login (no open redirects)."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith("/login")
        and len(target) < 2000
    ):
        return target
    return "/queue"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
