"""Documents published in parts: fetch each part in declared order and join their texts.

A failed part fails the whole document (no half versions): ``fetch_parts`` stops at the
first part that cannot be fetched and ``parts_markdown`` at the first that yields no text,
each with an error naming the part. The snapshot of such a document is a small manifest
(``PARTS_CONTENT_TYPE``) naming each part's raw snapshot, so the same raw bytes of every
part under the same selectors give the same manifest and the same normalisation key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from clausewatch.archive.fetch import Fetcher, FetchResult
from clausewatch.archive.normalize import normalise_markdown
from clausewatch.archive.page import page_markdown, page_normalisation_key
from clausewatch.archive.snapshots import sha256_hex
from clausewatch.core.errors import ClausewatchError
from clausewatch.schemas.sources import SourcePart

PARTS_CONTENT_TYPE = "application/vnd.clausewatch.parts+json"


class PartError(ClausewatchError):
    """One part of a document failed; the document fails with it."""

    def __init__(self, index: int, total: int, part: SourcePart, cause: ClausewatchError) -> None:
        super().__init__(f"part {index}/{total} ({part.url}): {cause}")
        self.index = index  # 1-based
        self.retryable = cause.retryable
        self.http_status: int | None = getattr(cause, "http_status", None)


@dataclass(frozen=True)
class FetchedPart:
    part: SourcePart
    result: FetchResult


def fetch_part(fetcher: Fetcher, part: SourcePart) -> FetchResult:
    """One part's raw bytes (whole: parts are never fetched conditionally), rendered by the
    browser when the part needs JavaScript."""
    return fetcher.fetch(part.url, render=part.render, wait_for=part.select)


def fetch_parts(fetcher: Fetcher, parts: Sequence[SourcePart]) -> list[FetchedPart]:
    """Fetch every part in order; a PartError at the first that fails."""
    fetched: list[FetchedPart] = []
    for i, part in enumerate(parts, 1):
        try:
            fetched.append(FetchedPart(part, fetch_part(fetcher, part)))
        except ClausewatchError as exc:
            raise PartError(i, len(parts), part, exc) from exc
    return fetched


def parts_markdown(fetched: Sequence[FetchedPart]) -> str:
    """The parts' normalised texts joined in declared order (each with its own selectors)."""
    texts: list[str] = []
    for i, item in enumerate(fetched, 1):
        try:
            texts.append(
                page_markdown(
                    item.result.body,
                    content_type=item.result.content_type,
                    location=item.result.url,
                    select=item.part.select,
                    remove=item.part.remove,
                )
            )
        except ClausewatchError as exc:
            raise PartError(i, len(fetched), item.part, exc) from exc
    return normalise_markdown("\n\n".join(texts))


def parts_manifest(fetched: Sequence[FetchedPart]) -> bytes:
    """The document's snapshot: each part's URL, final URL, content type and raw sha256."""
    entries = [
        {
            "url": item.part.url,
            "fetched_url": item.result.url,
            "http_status": item.result.status,
            "content_type": item.result.content_type,
            "sha256": sha256_hex(item.result.body),
        }
        for item in fetched
    ]
    return json.dumps({"parts": entries}, indent=1, sort_keys=True).encode("utf-8")


def parts_normalisation_key(fetched: Sequence[FetchedPart]) -> str:
    """A digest of each part's normalisation key, in order (see page.page_normalisation_key)."""
    keys = [
        page_normalisation_key(
            content_type=item.result.content_type,
            location=item.result.url,
            select=item.part.select,
            remove=item.part.remove,
        )
        for item in fetched
    ]
    return hashlib.sha256(json.dumps(["parts", *keys]).encode("utf-8")).hexdigest()
