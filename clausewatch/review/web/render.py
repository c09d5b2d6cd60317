"""Jinja2 templates (autoescape always on) and the page-rendering helper."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from clausewatch.review.accounts import Account
from clausewatch.review.web.security import CSRF_FIELD, csrf_token
from clausewatch.schemas.taxonomy import CATEGORIES, DESCRIPTIONS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, str):
        return value.replace("T", " ")[:16] + " UTC"
    return ""


def _pretty(value: Any) -> str:
    """A JSON value as readable text (strings as they are); escaped by the template."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


def _label(value: str) -> str:
    return value.replace("_", " ").replace("-", " ")


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every template, every extension: policy text and LLM output
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["pretty"] = _pretty
    env.filters["label"] = _label
    env.globals["CATEGORIES"] = CATEGORIES
    env.globals["CATEGORY_DESCRIPTIONS"] = DESCRIPTIONS
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


templates = Jinja2Templates(env=make_env())


def flash(request: Request, kind: str, message: str) -> None:
    messages = request.session.get("flash")
    messages = messages if isinstance(messages, list) else []
    messages.append([kind, message[:500]])
    request.session["flash"] = messages[-5:]


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    user: Account | None,
    status_code: int = 200,
) -> Response:
    messages = request.session.pop("flash", None)
    base = {
        "user": user,
        "csrf": csrf_token(request),
        "messages": messages if isinstance(messages, list) else [],
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
