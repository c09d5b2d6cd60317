"""One call from a location (path, file:// or http(s) URL) to normalised Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from clausewatch.archive.fetch import Fetcher
from clausewatch.archive.normalize import to_markdown
from clausewatch.core.settings import Settings


def load_markdown(
    location: str,
    *,
    select: Sequence[str] = (),
    remove: Sequence[str] = (),
    settings: Settings | None = None,
) -> str:
    """Fetch or read ``location`` and return its normalised Markdown.

    Raises InputError (missing file, empty, binary, undecodable, broken PDF, over the size
    cap, refused address, HTTP 4xx) or TransientError (network, timeouts, 5xx after retries).
    """
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch(location)
    return to_markdown(
        result.body,
        content_type=result.content_type,
        location=result.url,
        select=select,
        remove=remove,
    )
