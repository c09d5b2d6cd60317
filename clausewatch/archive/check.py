"""Check declared URLs online: fetch every page once and say whether it still gives text.

Nothing is recorded: this is for a user to see which URLs of a list (a bundled one's pages
move) answer, and whether their selectors still find the text. Pages declared
``render: true`` are rendered by the system Chromium like tracking does (``render=False``:
fetched as served). A page is ``ok`` (text found), ``wall`` (a bot challenge, captcha, error
or maintenance page: tracking would refuse it too), ``unrendered`` (a ``render: true`` page
checked without a browser and whose text is not in the served HTML) or ``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel

from clausewatch.archive.fetch import Fetcher
from clausewatch.archive.page import WallError, page_markdown
from clausewatch.core.errors import ClausewatchError
from clausewatch.core.settings import Settings
from clausewatch.schemas.sources import SourceDecl, SourcePart

CheckStatus = Literal["ok", "unrendered", "wall", "failed"]


class PageCheck(BaseModel):
    """One page (a document, or one part of a document published in parts)."""

    platform: str
    doc_type: str
    part: int  # 1-based; 1 of 1 for a plain document
    parts: int
    url: str
    render: bool  # declared render: true
    rendered: bool = False  # went through the browser
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
        bad = ("failed", "wall")
        return sorted({f"{p.platform}/{p.doc_type}" for p in self.pages if p.status in bad})


def check_page(
    fetcher: Fetcher,
    decl: SourceDecl,
    index: int,
    part: SourcePart,
    total: int,
    *,
    render: bool = True,
) -> PageCheck:
    from clausewatch.archive.render import BrowserUnavailable

    started = time.monotonic()
    use_browser = render and part.render
    page = PageCheck(
        platform=decl.platform,
        doc_type=decl.doc_type,
        part=index,
        parts=total,
        url=part.url,
        render=part.render,
        rendered=use_browser,
        status="failed",
    )
    try:
        try:
            result = fetcher.fetch(
                part.url, render=use_browser, wait_for=part.select if use_browser else ()
            )
        except BrowserUnavailable as exc:
            page.status, page.reason, page.rendered = "unrendered", f"not rendered: {exc}", False
            return page
        except ClausewatchError as exc:
            page.reason = str(exc)
            page.http_status = getattr(exc, "http_status", None)
            return page
        page.http_status = result.status
        page.bytes = len(result.body)
        try:
            text = page_markdown(
                result.body,
                content_type=result.content_type,
                location=result.url,
                select=part.select,
                remove=part.remove,
            )
        except ClausewatchError as exc:
            if part.render and not use_browser:
                page.status, page.reason = "unrendered", f"no text without JavaScript ({exc})"
            else:
                page.status = "wall" if isinstance(exc, WallError) else "failed"
                page.reason = str(exc)
            return page
        page.words = len(text.split())
        page.status = "ok"
        return page
    finally:
        page.seconds = round(time.monotonic() - started, 3)


def check_sources(
    sources: Sequence[SourceDecl],
    *,
    settings: Settings,
    workers: int = 4,
    render: bool = True,
    on_page: Callable[[PageCheck], None] | None = None,
) -> CheckReport:
    """Fetch every page of ``sources`` (``workers`` at a time); pages in declared order.
    ``render``: pages declared ``render: true`` go through the browser."""
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
            page = check_page(fetcher, *job, render=render)
            if on_page is not None:
                on_page(page)
            return page

        pages = list(pool.map(run, jobs))
    return CheckReport(pages=pages)
