"""A fetched page to Markdown the way tracking needs it: consent overlays removed first, and a
page that is a wall (bot challenge, captcha, "enable JavaScript", error or maintenance page
served with 200) refused with a :class:`WallError` instead of becoming a document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Unpack

from clausewatch.archive.decode import decode_bytes
from clausewatch.archive.normalize import (
    Reading,
    detect_kind,
    html_to_markdown,
    normalisation_key,
    to_markdown,
)
from clausewatch.archive.walls import Wall, consent_selectors, detect_wall, media_and_charset
from clausewatch.core.errors import InputError


class WallError(InputError):
    """The page is a wall, not the document (a later fetch may get through)."""

    retryable = True

    def __init__(self, wall: Wall, detail: str = "") -> None:
        super().__init__(wall.describe() + (f"; {detail}" if detail else ""))
        self.wall = wall


def page_markdown(body: bytes, **reading: Unpack[Reading]) -> str:
    """Normalised Markdown of a fetched page; WallError when the page is a wall.

    HTML is checked for walls before it is converted, so a wall on a source with ``select``
    is reported as the wall it is rather than as a selector that matched nothing.
    """
    media_type, charset = media_and_charset(reading.get("content_type", ""))
    if not body.strip() or detect_kind(body, media_type, reading.get("location", "")) != "html":
        return to_markdown(body, **reading)
    html = decode_bytes(body, charset, html=True)
    wall = detect_wall(html)
    if wall is not None:
        raise WallError(wall)
    return html_to_markdown(
        html, reading.get("select", ()), _with_consent(reading.get("remove", ()), html)
    )


def page_normalisation_key(**reading: Unpack[Reading]) -> str:
    """The normalisation key of :func:`page_markdown` (the consent selectors count)."""
    keyed: Reading = {**reading, "remove": [*reading.get("remove", ()), *consent_selectors()]}
    return normalisation_key(**keyed)


_SELECTOR_NAME = re.compile(r"[\w-]{3,}")


def _with_consent(remove: Sequence[str], html: str) -> list[str]:
    """The declared ``remove`` selectors and those consent overlays' whose id, class or
    attribute value occurs in the page at all (one group: one pass over the page). Matching
    every selector against every element would cost more than the conversion itself."""
    lowered = html.lower()
    present = [
        sel
        for sel in consent_selectors()
        if all(name.lower() in lowered for name in _SELECTOR_NAME.findall(sel))
    ]
    return [*remove, ", ".join(present)] if present else list(remove)
