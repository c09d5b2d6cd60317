"""The review app: ``create_app()`` wires sessions, security headers, routes and errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, RedirectResponse, Response

from clausewatch.core.settings import Settings, get_settings
from clausewatch.review.web import routes_admin, routes_api, routes_auth, routes_review
from clausewatch.review.web.middleware import BodyLimit, SecurityHeaders
from clausewatch.review.web.render import STATIC_DIR, render
from clausewatch.review.web.secret import secret_key
from clausewatch.review.web.security import (
    HEADERS,
    SESSION_COOKIE,
    CSRFFailed,
    Forbidden,
    LoginRequired,
    session_user,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="clausewatch review",
        docs_url=None,  # the interactive docs load scripts from a CDN and are not needed
        redoc_url=None,
        openapi_url=None,
    )
    app.state.run_redrafts = settings.review_run_redrafts
    app.state.session_max_age = timedelta(hours=settings.review_session_hours)
    # the last added is the outermost: headers around everything, then the body bound
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.review_session_hours * 3600),
        same_site="lax",
        https_only=settings.review_secure_cookies,
    )
    app.add_middleware(BodyLimit, limit=settings.review_max_body_bytes)
    app.add_middleware(SecurityHeaders, headers=HEADERS, hsts=settings.review_secure_cookies)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (routes_auth, routes_review, routes_api, routes_admin):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        if exc.api:
            return JSONResponse({"detail": "sign in required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> Response:
        msg = "This page is for administrators."
        ctx = {"title": "Not allowed", "message": msg}
        return render(request, "error.html", ctx, session_user(request), 403)

    @app.exception_handler(CSRFFailed)
    def csrf_failed(request: Request, exc: CSRFFailed) -> Response:
        msg = (
            "The form was missing its security token or came from elsewhere. "
            "Reload the page and try again."
        )
        ctx = {"title": "Form refused", "message": msg}
        return render(request, "error.html", ctx, session_user(request), 403)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/static/")) or request.url.path.endswith(".json"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        ctx = {"title": f"Error {exc.status_code}", "message": str(exc.detail)}
        return render(request, "error.html", ctx, session_user(request), exc.status_code)

    return app
