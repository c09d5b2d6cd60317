"""Word-level diff of a clause's before and after text, as segments a template can render."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["equal", "delete", "insert"]
_TOKEN = re.compile(r"\s+|[^\s]+")
MAX_TOKENS = 20_000


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
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old = "".join(a[i1:i2])
        new = "".join(b[j1:j2])
        if tag == "equal":
            _push(left, "equal", old)
            _push(right, "equal", new)
        else:
            _push(left, "delete", old)
            _push(right, "insert", new)
    return left, right


def _push(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op, segments[-1].text + text)
    else:
        segments.append(Segment(op, text))
