"""Word-level diff of a clause's before and after text, as segments a template can render.

Tokens are words and the white space between them (kept, so the text reads as written);
rapidfuzz's Indel opcodes align them (C++, fast even for hostile, very long texts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import Indel

Op = Literal["equal", "delete", "insert"]
_TOKEN = re.compile(r"\s+|[^\s]+")
MAX_TOKENS = 50_000


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(before: str | None, after: str | None) -> tuple[list[Segment], list[Segment]]:
    """Segments for the left (before: equal/delete) and right (after: equal/insert) columns."""
    a = _tokens(before or "")
    b = _tokens(after or "")
    if len(a) + len(b) > MAX_TOKENS:  # pathological input: whole-text replacement
        whole_left = [Segment("delete", before)] if before else []
        whole_right = [Segment("insert", after)] if after else []
        return whole_left, whole_right
    left: list[Segment] = []
    right: list[Segment] = []
    for op in Indel.opcodes(a, b):
        old = "".join(a[op.src_start : op.src_end])
        new = "".join(b[op.dest_start : op.dest_end])
        if op.tag == "equal":
            _push(left, "equal", old)
            _push(right, "equal", new)
        else:
            _push(left, "delete", old)
            _push(right, "insert", new)
    return _bridge(left, "delete"), _bridge(right, "insert")


def _bridge(segments: list[Segment], op: Op) -> list[Segment]:
    """Join changes separated only by white space ("<del>30</del> <del>days</del>")."""
    out: list[Segment] = []
    for i, seg in enumerate(segments):
        between = 0 < i < len(segments) - 1
        if (
            between
            and seg.op == "equal"
            and not seg.text.strip()
            and segments[i - 1].op == op
            and segments[i + 1].op == op
        ):
            seg = Segment(op, seg.text)
        _push(out, seg.op, seg.text)
    return out


def _push(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op, segments[-1].text + text)
    else:
        segments.append(Segment(op, text))
