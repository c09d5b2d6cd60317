"""Queue and draft pages, edits and decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from clausewatch.review import service
from clausewatch.review.accounts import Account
from clausewatch.review.context import context_view
from clausewatch.review.errors import ConflictError, FieldErrors, ReviewError, TransitionError
from clausewatch.review.redraft import run_redrafts_in_background
from clausewatch.review.web import forms
from clausewatch.review.web.render import flash, render
from clausewatch.review.web.security import checked_form, editor_page
from clausewatch.schemas.vocabulary import OPEN_STATUSES, ChangeKind
from clausewatch.storage.db import session_scope

router = APIRouter()
Editor = Annotated[Account, Depends(editor_page)]
Form = Annotated[FormData, Depends(checked_form)]
EXPOSURES = service.EXPOSURES
SORTS = service.SORTS


@router.get("/")
def home(user: Editor) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue(request: Request, user: Editor) -> Response:
    params = request.query_params
    try:
        flt = service.make_filter(
            **{
                k: params.get(k, "")
                for k in ("status", "platform", "doc_type", "category", "exposure", "sort")
            }
        )
    except ReviewError as exc:
        return render(
            request, "error.html", {"title": "Bad filter", "message": str(exc)}, user, 400
        )
    shown = flt.limit
    flt.limit = shown + 1  # one more tells whether the list was cut
    with session_scope() as db:
        items = service.list_drafts(db, flt)
        counts = service.status_counts(db)
        options = service.filter_options(db)
    ctx = {
        "items": items[:shown],
        "truncated": len(items) > shown,
        "counts": counts,
        "options": options,
        "flt": flt,
        "statuses": service.STATUSES,
        "exposures": EXPOSURES,
        "sorts": SORTS,
    }
    return render(request, "queue.html", ctx, user)


def _provenance(draft: Any) -> dict[str, Any]:
    analysis = service.analysis_dict(draft)
    prov = analysis.get("provenance")
    prov = prov if isinstance(prov, dict) else {}
    return {
        "model": draft.model,
        "backend": draft.backend,
        "prompt": f"{draft.prompt_id} v{draft.prompt_version}",
        "tokens_in": draft.tokens_in,
        "tokens_out": draft.tokens_out,
        "attempts": len(draft.attempts or []) or prov.get("attempts", 1),
        "latency_ms": prov.get("latency_ms"),
        "retrieved_provisions": [str(x) for x in prov.get("retrieved_provisions", []) or []][:20],
        "retrieved_regulations": [str(x) for x in prov.get("retrieved_regulations", []) or []][:20],
        "created_at": draft.created_at,
    }


def _draft_page(
    request: Request,
    db: Session,
    user: Account,
    draft_id: int,
    *,
    state: forms.FormState | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    lock_version: int | None = None,
    status_code: int = 200,
    reload_link: bool = False,
) -> Response:
    draft = service.get_draft(db, draft_id)
    ctx = {
        "draft": draft,
        "summary": service.summarize(draft),
        "state": state or forms.from_analysis(service.analysis_dict(draft)),
        "errors": errors or {},
        "problem": problem,
        "reload_link": reload_link,
        "lock_version": draft.lock_version if lock_version is None else lock_version,
        "editable": draft.status in OPEN_STATUSES,
        "view": context_view(db, draft),
        "provenance": _provenance(draft),
        "events": service.events_of(db, draft_id),
        "redrafts": service.redrafts_of(db, draft_id),
        "redrafted_with": service.redraft_request_of(db, draft),
        "exposures": EXPOSURES,
        "change_kinds": tuple(ChangeKind),
        "row_fields": forms.ROW_FIELDS,
    }
    return render(request, "draft.html", ctx, user, status_code)


def _not_found(request: Request, user: Account, draft_id: int) -> Response:
    msg = f"There is no draft {draft_id}."
    return render(request, "error.html", {"title": "Not found", "message": msg}, user, 404)


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, draft_id: int, user: Editor) -> Response:
    with session_scope() as db:
        if not service.draft_exists(db, draft_id):
            return _not_found(request, user, draft_id)
        return _draft_page(request, db, user, draft_id)


def _lock_version(form: FormData) -> int | None:
    raw = form.get("lock_version")
    try:
        return int(str(raw))
    except ValueError:
        return None


@router.post("/drafts/{draft_id}/edit")
def edit(request: Request, draft_id: int, user: Editor, form: Form) -> Response:
    state = forms.from_form(form)
    parsed = forms.to_changes(state)
    version = _lock_version(form)
    with session_scope() as db:
        if not service.draft_exists(db, draft_id):
            return _not_found(request, user, draft_id)
        if version is None:
            return _draft_page(
                request,
                db,
                user,
                draft_id,
                state=state,
                problem=("The form was missing its version number; reload the draft."),
                status_code=400,
            )
        try:
            result = service.edit_draft(db, draft_id, parsed.changes, version, user.name)
        except FieldErrors as exc:
            errors = forms.form_errors(exc.errors, parsed)
            return _draft_page(
                request,
                db,
                user,
                draft_id,
                state=state,
                errors=errors,
                problem="Not saved: fix the fields marked below.",
                lock_version=version,
                status_code=422,
            )
        except ConflictError as exc:
            return _draft_page(
                request,
                db,
                user,
                draft_id,
                state=state,
                problem=(
                    f"Not saved: {exc}. Your edits are still in the form below; copy what "
                    "you need before reloading."
                ),
                reload_link=True,
                lock_version=version,
                status_code=409,
            )
        except TransitionError as exc:
            return _draft_page(request, db, user, draft_id, problem=str(exc), status_code=409)
    if result.changed:
        flash(request, "ok", "Saved: " + ", ".join(f.replace("_", " ") for f in result.changed))
    else:
        flash(request, "info", "No changes to save.")
    return RedirectResponse(f"/drafts/{draft_id}", status_code=303)


def _decision(
    request: Request,
    draft_id: int,
    user: Account,
    form: FormData,
    action: str,
    background: BackgroundTasks | None = None,
) -> Response:
    version = _lock_version(form)
    text = str(form.get("text") or "")
    with session_scope() as db:
        if not service.draft_exists(db, draft_id):
            return _not_found(request, user, draft_id)
        try:
            if action == "approve":
                service.approve(db, draft_id, user.name, version, note=text)
                message = f"Draft #{draft_id} approved."
            elif action == "reject":
                service.reject(db, draft_id, user.name, text, version)
                message = f"Draft #{draft_id} rejected."
            else:
                service.request_redraft(db, draft_id, user.name, text, version)
                message = f"Redraft of #{draft_id} requested; the new draft will join the queue."
        except ConflictError as exc:
            return _draft_page(
                request,
                db,
                user,
                draft_id,
                problem=f"Not done: {exc}.",
                status_code=409,
                reload_link=True,
            )
        except TransitionError as exc:
            return _draft_page(request, db, user, draft_id, problem=str(exc), status_code=409)
        except ReviewError as exc:
            return _draft_page(
                request, db, user, draft_id, problem=f"Not done: {exc}.", status_code=422
            )
    if background is not None and request.app.state.run_redrafts:
        background.add_task(run_redrafts_in_background)
    flash(request, "ok", message)
    return RedirectResponse("/queue", status_code=303)


@router.post("/drafts/{draft_id}/approve")
def approve(request: Request, draft_id: int, user: Editor, form: Form) -> Response:
    return _decision(request, draft_id, user, form, "approve")


@router.post("/drafts/{draft_id}/reject")
def reject(request: Request, draft_id: int, user: Editor, form: Form) -> Response:
    return _decision(request, draft_id, user, form, "reject")


@router.post("/drafts/{draft_id}/redraft")
def redraft(
    request: Request, draft_id: int, user: Editor, form: Form, background: BackgroundTasks
) -> Response:
    return _decision(request, draft_id, user, form, "redraft", background)
