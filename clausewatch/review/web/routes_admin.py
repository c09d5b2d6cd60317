"""User management (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from clausewatch.review import accounts
from clausewatch.review.accounts import Account
from clausewatch.review.errors import ReviewError
from clausewatch.review.web.render import flash, render
from clausewatch.review.web.security import SESSION_KEY, admin_page, checked_form
from clausewatch.storage.db import session_scope

router = APIRouter(prefix="/admin")
Admin = Annotated[Account, Depends(admin_page)]
Form = Annotated[FormData, Depends(checked_form)]


def _page(
    request: Request, user: Account, problem: str | None = None, status: int = 200
) -> Response:
    with session_scope() as db:
        users = accounts.list_users(db)
    ctx = {"users": users, "roles": accounts.ROLES, "problem": problem}
    return render(request, "admin_users.html", ctx, user, status)


@router.get("/users")
def users_page(request: Request, user: Admin) -> Response:
    return _page(request, user)


@router.post("/users")
def add_user(request: Request, user: Admin, form: Form) -> Response:
    name = str(form.get("name") or "").strip()
    role = str(form.get("role") or "editor")
    password = str(form.get("password") or "")
    try:
        with session_scope() as db:
            accounts.add_user(db, name, password, role)
    except ReviewError as exc:
        return _page(request, user, f"Not added: {exc}.", 422)
    flash(request, "ok", f"User {name} added as {role}.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{name}/remove")
def remove_user(request: Request, name: str, user: Admin, form: Form) -> Response:
    if name == user.name:
        return _page(request, user, "You cannot remove your own account.", 422)
    try:
        with session_scope() as db:
            accounts.remove_user(db, name)
    except ReviewError as exc:
        return _page(request, user, f"Not removed: {exc}.", 422)
    flash(request, "ok", f"User {name} removed.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{name}/password")
def set_password(request: Request, name: str, user: Admin, form: Form) -> Response:
    own = request.session.get(SESSION_KEY) if name == user.name else None
    try:
        with session_scope() as db:  # every session of name ends, but this one (own password)
            accounts.set_password(
                db, name, str(form.get("password") or ""), keep_session=str(own) if own else None
            )
    except ReviewError as exc:
        return _page(request, user, f"Password not changed: {exc}.", 422)
    flash(request, "ok", f"Password of {name} changed.")
    return RedirectResponse("/admin/users", status_code=303)
