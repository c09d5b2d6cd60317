"""Segmentation of a Markdown document into clauses.

A clause is a paragraph, a list item (its own paragraphs, not its nested items, which are
clauses of their own) or a table row. Headings are not clauses: they form each clause's heading
trail (``path``). "Last updated"/"Effective date" headings are kept as clauses instead, so a new
date does not re-file every clause under a different heading.

Parsing uses markdown-it-py (CommonMark + tables) at block level only; inline Markdown stays in
the clause text, and :mod:`clauses.canonical` decides what of it matters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from clausewatch.clauses.canonical import canonical, is_date_line, plain
from clausewatch.core.tokens import count_tokens_many
from clausewatch.schemas.clauses import ClauseSeg

ClauseKind = Literal["paragraph", "list_item", "table_row", "heading"]
_TEXT_BLOCKS = frozenset({"code_block", "fence", "html_block"})


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    # Block structure only: inline Markdown is interpreted by clauses.canonical.
    parser.disable(["inline", "text_join"])
    return parser


@dataclass
class _Entry:
    kind: ClauseKind
    path: list[str]
    parts: list[str] = field(default_factory=list)


def _join_lines(content: str) -> str:
    return " ".join(line.strip() for line in content.splitlines() if line.strip())


def clause_key(text: str) -> str:
    """Content-derived id stem of a clause: ``c`` + 12 hex digits of its canonical text."""
    digest = hashlib.sha256(canonical(text).encode("utf-8")).hexdigest()
    return "c" + digest[:12]


def assign_ids(texts: list[str]) -> list[str]:
    """Deterministic ids for the clauses of one text; repeats get ``-2``, ``-3`` ... suffixes."""
    seen: dict[str, int] = {}
    ids: list[str] = []
    for text in texts:
        stem = clause_key(text)
        count = seen.get(stem, 0) + 1
        seen[stem] = count
        ids.append(stem if count == 1 else f"{stem}-{count}")
    return ids


def _collect(tokens: list[Token]) -> list[_Entry]:
    entries: list[_Entry] = []
    headings: list[tuple[int, str]] = []
    items: list[_Entry] = []
    row: list[str] | None = None
    heading_level = 0
    in_cell = False

    def add_text(text: str) -> None:
        if items:
            items[-1].parts.append(text)
        else:
            entries.append(_Entry("paragraph", [h for _, h in headings], [text]))

    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "list_item_open":
            entry = _Entry("list_item", [h for _, h in headings])
            entries.append(entry)
            items.append(entry)
        elif kind == "list_item_close":
            items.pop()
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            if row is not None and any(plain(cell) for cell in row):
                entries.append(_Entry("table_row", [h for _, h in headings], [" | ".join(row)]))
            row = None
        elif kind in ("th_open", "td_open"):
            in_cell = True
        elif kind in ("th_close", "td_close"):
            in_cell = False
        elif kind == "inline":
            text = _join_lines(token.content)
            if in_cell and row is not None:
                row.append(text)
            elif heading_level:
                title = plain(text)
                if not title:
                    continue
                if is_date_line(text):
                    add_text(text)
                    continue
                while headings and headings[-1][0] >= heading_level:
                    headings.pop()
                headings.append((heading_level, title))
            else:
                add_text(text)
        elif kind in _TEXT_BLOCKS:
            text = token.content.strip()
            if text:
                add_text(text)
    return entries


def segment(markdown: str, *, with_tokens: bool = True) -> list[ClauseSeg]:
    """The clauses of ``markdown`` in document order.

    Each clause has a deterministic id derived from its canonical text (see :func:`assign_ids`),
    its heading trail, its position and (unless ``with_tokens`` is false) its token count.
    Clauses with no words (an empty paragraph, an image without alt text) are dropped.
    """
    entries = _collect(_parser().parse(markdown))
    kept: list[tuple[_Entry, str]] = []
    for entry in entries:
        text = "\n\n".join(part for part in entry.parts if part)
        if canonical(text):
            kept.append((entry, text))
    texts = [text for _, text in kept]
    ids = assign_ids(texts)
    tokens = count_tokens_many(texts) if with_tokens else [0] * len(texts)
    return [
        ClauseSeg(
            id=ids[i],
            path=entry.path,
            text=text,
            tokens=tokens[i],
            position=i,
            kind=entry.kind,
        )
        for i, (entry, text) in enumerate(kept)
    ]
