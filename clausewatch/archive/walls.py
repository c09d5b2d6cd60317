"""Recognise what real sites serve instead of a document: bot walls, captchas, "enable
JavaScript" pages, error pages served with 200, maintenance pages, consent walls.

The markers, the consent-overlay selectors and the drastic-change thresholds are data
(``walls.yaml`` beside this module), not code.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from pydantic import BaseModel, ConfigDict, Field

from clausewatch.archive.decode import decode_bytes
from clausewatch.archive.normalize import NOISE, detect_kind
from clausewatch.core.errors import ClausewatchError

WALLS_FILE = Path(__file__).with_name("walls.yaml")
# A rough count of a page's words before parsing it: without scripts, styles and tags.
_CODE = re.compile(r"<(script|style|template|svg)\b.*?</\1\s*>", re.S)
_OUTSIDE_TAGS = re.compile(r"<[^>]*>")

WallKind = Literal["challenge", "captcha", "javascript", "maintenance", "error", "consent"]


class WallRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: WallKind
    name: str
    title: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    html: tuple[str, ...] = ()


class DrasticRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_clauses: int = Field(ge=1)
    max_kept: float = Field(ge=0, le=1)
    similarity: float = Field(ge=0, le=100)


class WallData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_words: int = Field(ge=1)
    walls: tuple[WallRule, ...]
    consent_overlays: tuple[str, ...]
    drastic_change: DrasticRule


@dataclass(frozen=True)
class Wall:
    """A page recognised as a wall: which one, and the marker that gave it away."""

    kind: WallKind
    name: str
    where: Literal["title", "text", "html"]
    marker: str

    def describe(self) -> str:
        return f"not the document but a {self.name} ({self.kind}: {self.where} has {self.marker!r})"


@functools.cache
def load_walls(path: Path = WALLS_FILE) -> WallData:
    """The markers file, validated (markers lower-cased)."""
    data = WallData.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    walls = tuple(
        rule.model_copy(
            update={
                "title": tuple(m.lower() for m in rule.title),
                "text": tuple(m.lower() for m in rule.text),
                "html": tuple(m.lower() for m in rule.html),
            }
        )
        for rule in data.walls
    )
    return data.model_copy(update={"walls": walls})


def consent_selectors() -> tuple[str, ...]:
    """CSS selectors of consent overlays, removed from every page before normalising."""
    return load_walls().consent_overlays


def _readable(html: str, data: WallData) -> tuple[str, str]:
    """(title, readable text) of a page: without scripts, navigation, header, footer and
    consent overlays; white space collapsed, lower-cased."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    title_tag = soup.title
    title = " ".join(title_tag.get_text(" ").split()) if title_tag is not None else ""
    for selector in (NOISE, "header, footer, title", *data.consent_overlays):
        for el in soup.select(selector):
            if isinstance(el, Tag) and not el.decomposed:
                el.decompose()
    root = soup.body if soup.body is not None else soup
    return title.lower(), " ".join(root.get_text(" ").split()).lower()


def detect_wall(html: str, data: WallData | None = None) -> Wall | None:
    """The wall ``html`` is, or None when it may be the document.

    A page is a wall when a marker occurs and its readable text is short (``max_words``):
    policies mention captchas and JavaScript too, but they are long.
    """
    data = data or load_walls()
    raw = html_lib.unescape(html).lower()
    candidates = [
        rule for rule in data.walls if any(m in raw for m in (*rule.title, *rule.text, *rule.html))
    ]
    if not candidates:
        return None  # no marker anywhere: skip parsing the page again
    if len(_OUTSIDE_TAGS.sub(" ", _CODE.sub(" ", raw)).split()) > 10 * data.max_words:
        return None  # far too much text for a wall, even counting menus: skip parsing
    try:
        title, text = _readable(html, data)
    except RecursionError:
        return None  # the normaliser reports a page nested too deeply
    if len(text.split()) > data.max_words:
        return None
    for rule in candidates:
        for where, markers, haystack in (
            ("title", rule.title, title),
            ("html", rule.html, raw),
            ("text", rule.text, text),
        ):
            for marker in markers:
                if marker in haystack:
                    return Wall(rule.kind, rule.name, where, marker)  # type: ignore[arg-type]
    return None


def media_and_charset(content_type: str) -> tuple[str, str | None]:
    """The media type and charset of a Content-Type value."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return media_type, value.strip().strip("\"'") or None
    return media_type, None


def wall_of(body: bytes, content_type: str = "", location: str = "") -> Wall | None:
    """The wall raw ``body`` is, when it is HTML (decoded as the normaliser decodes it)."""
    media_type, charset = media_and_charset(content_type)
    if not body.strip() or detect_kind(body, media_type, location) != "html":
        return None
    try:
        return detect_wall(decode_bytes(body, charset, html=True))
    except ClausewatchError:
        return None
