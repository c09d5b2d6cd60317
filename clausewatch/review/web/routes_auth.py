"""Login and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from clausewatch.review import sessions
from clausewatch.review.accounts import authenticate
from clausewatch.review.errors import RateLimitedError
from clausewatch.review.web.render import flash, render
from clausewatch.review.web.security import (
    SESSION_KEY,
    checked_form,
    client_ip,
    safe_next,
    session_user,
)
from clausewatch.storage.db import session_scope

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]


@router.get("/login")
def login_page(request: Request, next: str = "/queue") -> Response:
    if session_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": None, "name": ""}, None)


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    name = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")[:1024]
    target = safe_next(form.get("next"))
    ctx = {"next": target, "name": name}
    try:
        with session_scope() as db:
            account = authenticate(db, name, password, client_ip(request))
            token = sessions.start(db, account.name) if account is not None else None
    except RateLimitedError as exc:
        resp = render(request, "login.html", {**ctx, "error": str(exc)}, None, 429)
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    if account is None or token is None:
        return render(
            request, "login.html", {**ctx, "error": "Wrong user name or password."}, None, 401
        )
    request.session.clear()  # no session fixation: a fresh session (and CSRF token)
    request.session[SESSION_KEY] = token
    flash(request, "ok", f"Signed in as {account.name}.")
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    token = request.session.get(SESSION_KEY)
    if token is not None:
        with session_scope() as db:
            sessions.end(db, token)  # the cookie, if kept or copied, opens nothing any more
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
