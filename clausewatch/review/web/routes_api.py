"""JSON endpoints: the queue, one draft, and audit exports (401 when not signed in)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from clausewatch.review import service
from clausewatch.review.accounts import Account
from clausewatch.review.errors import NotFoundError, ReviewError
from clausewatch.review.web.security import editor_api
from clausewatch.storage.db import session_scope

router = APIRouter()
ApiUser = Annotated[Account, Depends(editor_api)]


def _json(data: Any, status: int = 200, filename: str | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@router.get("/api/drafts")
def api_queue(request: Request, user: ApiUser) -> Response:
    params = request.query_params
    keys = ("status", "platform", "doc_type", "category", "exposure", "sort")
    try:
        flt = service.make_filter(**{k: params.get(k, "") for k in keys})
        with session_scope() as db:
            items = service.list_drafts(db, flt)
            counts = service.status_counts(db)
    except ReviewError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return _json({"counts": counts, "drafts": [s.as_json() for s in items]})


@router.get("/api/drafts/{draft_id}")
def api_draft(draft_id: int, user: ApiUser) -> Response:
    try:
        with session_scope() as db:
            data = service.draft_json(db, service.get_draft(db, draft_id))
    except NotFoundError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    return _json(data)


@router.get("/drafts/{draft_id}/audit.json")
def draft_audit(draft_id: int, user: ApiUser) -> Response:
    try:
        with session_scope() as db:
            data = service.audit_export(db, draft_id)
    except NotFoundError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    return _json(data, filename=f"clausewatch-draft-{draft_id}-audit.json")


@router.get("/audit.json")
def audit(user: ApiUser) -> Response:
    with session_scope() as db:
        data = service.audit_export(db)
    return _json(data, filename="clausewatch-audit.json")


@router.get("/healthz")
def healthz() -> Response:
    return JSONResponse({"ok": True})
