"""Jinja2 environments: HTML autoescaped everywhere, plain text for e-mail bodies."""

from __future__ import annotations

import posixpath
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from clausewatch.publication.names import (
    category_title,
    clean_text,
    display_name,
    human_date,
    topic_phrase,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=65536)
def relative_url(target: str, from_page: str) -> str:
    """Link from one site file to another, both given relative to the site root
    (``relative_url("index.html", "a/b/c.html") == "../../index.html"``)."""
    source = posixpath.normpath(from_page).split("/")[:-1]
    dest = posixpath.normpath(target).split("/")
    common = 0
    while common < len(source) and common < len(dest) - 1 and source[common] == dest[common]:
        common += 1
    return "/".join([".."] * (len(source) - common) + dest[common:])


def _iso_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else ""


def _finalize(value: object) -> object:
    """Every ``{{ expression }}`` loses control characters before it is escaped."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_text(value)
    return value


def _common(env: Environment) -> Environment:
    env.filters["human_date"] = human_date
    env.filters["iso_date"] = _iso_date
    env.filters["display_name"] = display_name
    env.filters["category_title"] = category_title
    env.filters["topic_phrase"] = topic_phrase
    env.globals["relative_url"] = relative_url
    return env


@lru_cache(maxsize=1)
def html_env() -> Environment:
    """Autoescaping is on for every template: policy text and model output are untrusted."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    return _common(env)


@lru_cache(maxsize=1)
def text_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # noqa: S701 -- plain-text e-mail bodies, never served as HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    return _common(env)
