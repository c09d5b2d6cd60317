"""Check declared URLs online: fetch every page once and say whether it still gives text.

Nothing is recorded: this is for a user to see which URLs of a list (a bundled one's pages
move) answer, and whether their selectors still find the text. A page declared
``render: true`` whose text is not in the served HTML is reported ``unrendered`` (it needs
the rendering fetcher), not failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel

from archive.fetch import Fetcher
from archive.normalize import to_markdown
from clausewatch.errors import ClausewatchError
from clausewatch.settings import Settings
from schemas.sources import SourceDecl, SourcePart

CheckStatus = Literal["ok", "unrendered", "failed"]


class PageCheck(BaseModel):
    """One page (a document, or one part of a document published in parts)."""

    platform: str
    doc_type: str
    part: int  # 1-based; 1 of 1 for a plain document
    parts: int
    url: str
    render: bool
    status: CheckStatus
    http_status: int | None = None
    bytes: int = 0
    words: int = 0
    seconds: float = 0.0
    reason: str | None = None


class CheckReport(BaseModel):
    pages: list[PageCheck]

    def count(self, status: CheckStatus) -> int:
        return sum(1 for p in self.pages if p.status == status)

    @property
    def failed_documents(self) -> list[str]:
        keys = {f"{p.platform}/{p.doc_type}" for p in self.pages if p.status == "failed"}
        return sorted(keys)


def check_page(
    fetcher: Fetcher, decl: SourceDecl, index: int, part: SourcePart, total: int
) -> PageCheck:
    started = time.monotonic()
    page = PageCheck(
        platform=decl.platform,
        doc_type=decl.doc_type,
        part=index,
        parts=total,
        url=part.url,
        render=part.render,
        status="failed",
    )
    try:
        result = fetcher.fetch(part.url)
    except ClausewatchError as exc:
        page.reason = str(exc)
        page.http_status = getattr(exc, "http_status", None)
        page.seconds = round(time.monotonic() - started, 3)
        return page
    page.http_status = result.status
    page.bytes = len(result.body)
    try:
        text = to_markdown(
            result.body,
            content_type=result.content_type,
            location=result.url,
            select=part.select,
            remove=part.remove,
        )
        page.words = len(text.split())
        page.status = "ok"
    except ClausewatchError as exc:
        page.reason = str(exc)
        page.status = "unrendered" if part.render else "failed"
        if part.render:
            page.reason = f"no text without JavaScript ({exc})"
    page.seconds = round(time.monotonic() - started, 3)
    return page


def check_sources(
    sources: Sequence[SourceDecl],
    *,
    settings: Settings,
    workers: int = 4,
    on_page: Callable[[PageCheck], None] | None = None,
) -> CheckReport:
    """Fetch every page of ``sources`` (``workers`` at a time); pages in declared order."""
    jobs = [
        (decl, i, part, len(decl.fetch_parts))
        for decl in sources
        for i, part in enumerate(decl.fetch_parts, 1)
    ]
    with (
        Fetcher(settings, confine_files=True) as fetcher,
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
    ):

        def run(job: tuple[SourceDecl, int, SourcePart, int]) -> PageCheck:
            page = check_page(fetcher, *job)
            if on_page is not None:
                on_page(page)
            return page

        pages = list(pool.map(run, jobs))
    return CheckReport(pages=pages)
