"""The draft page's two columns: a clause's before text (equal/delete runs) and after text
(equal/insert runs), from the one word diff (``clauses.worddiff.diff_runs``).

Tokens are words and the white space between them (kept, so each column reads exactly as the
text was written); changes separated only by white space are shown as one change.
"""

from __future__ import annotations

import re
from typing import Literal

from clausewatch.clauses.worddiff import diff_runs
from clausewatch.schemas.clauses import WordOp

Op = Literal["equal", "delete", "insert"]
Segment = WordOp
_TOKEN = re.compile(r"\s+|[^\s]+")
MAX_TOKENS = 50_000


def columns(before: str | None, after: str | None) -> tuple[list[Segment], list[Segment]]:
    """Segments for the left (before: equal/delete) and right (after: equal/insert) columns."""
    a = _TOKEN.findall(before or "")
    b = _TOKEN.findall(after or "")
    if len(a) + len(b) > MAX_TOKENS:  # pathological input: whole-text replacement
        whole_left = [Segment(op="delete", text=before)] if before else []
        whole_right = [Segment(op="insert", text=after)] if after else []
        return whole_left, whole_right
    runs = diff_runs(a, b, joiner="")
    left = [run for run in runs if run.op != "insert"]
    right = [run for run in runs if run.op != "delete"]
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
            seg = Segment(op=op, text=seg.text)
        _push(out, seg.op, seg.text)
    return out


def _push(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op=op, text=segments[-1].text + text)
    else:
        segments.append(Segment(op=op, text=text))
