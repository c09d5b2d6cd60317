"""Sentences of a clause as exact character spans, so chosen excerpts are verbatim slices."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sentencex import get_sentence_boundaries

MAX_SENTENCE_CHARS = 2000
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    n: int  # 1-based
    start: int
    end: int
    text: str  # == source[start:end], stripped of surrounding white space


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; every ``Sentence.text`` is a verbatim slice of it.

    Very long runs without sentence punctuation (tables, lists run together) are cut at
    white space so that no sentence exceeds ``MAX_SENTENCE_CHARS``.
    """
    spans: list[tuple[int, int]] = []
    for b in get_sentence_boundaries("en", text):
        start, end = int(b["start_index"]), int(b["end_index"])
        spans.extend(_cut_long(text, start, end))
    if not spans or spans[-1][1] < len(text):
        spans.extend(_cut_long(text, spans[-1][1] if spans else 0, len(text)))
    sentences: list[Sentence] = []
    for start, end in spans:
        raw = text[start:end]
        lead = len(raw) - len(raw.lstrip())
        stripped = raw.strip()
        if not stripped:
            continue
        s, e = start + lead, start + lead + len(stripped)
        sentences.append(Sentence(n=len(sentences) + 1, start=s, end=e, text=text[s:e]))
    return sentences


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def span_text(text: str, sentences: list[Sentence], numbers: list[int]) -> str:
    """The verbatim slice of ``text`` from the first to the last chosen sentence."""
    chosen = [s for s in sentences if s.n in set(numbers)]
    if not chosen:
        raise ValueError("no sentence chosen")
    return text[min(s.start for s in chosen) : max(s.end for s in chosen)]


def normalize_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


def bounded(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters (a verbatim prefix)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip()


_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")


def preview(text: str, limit: int) -> str:
    """A one-line preview for prompts and summaries (not verbatim: white space collapsed,
    Markdown link targets dropped)."""
    flat = normalize_ws(_LINK.sub(r"\1", text))
    return flat if len(flat) <= limit else bounded(flat, limit - 1) + "…"
