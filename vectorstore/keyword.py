"""BM25 keyword scoring (``bm25s``) over a small in-memory corpus."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np


def _bm25s() -> Any:  # bm25s ships no type information
    import bm25s

    # bm25s sets its logger to DEBUG on import and logs every index build; under Prefect's
    # root handler that reached the console of `clausewatch run`.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class KeywordIndex:
    """BM25 over ``texts``; ``search`` returns ``(position, score)`` best first."""

    def __init__(self, texts: Sequence[str]) -> None:
        bm25s = _bm25s()

        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        if self.size:
            tokens = bm25s.tokenize(list(texts), stopwords="en", show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        bm25s = _bm25s()

        if not self.size or not query.strip():
            return []
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, self.size)
        try:
            docs, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        except (ValueError, KeyError):  # every query word unknown to the corpus
            return []
        out = [
            (int(d), float(s))
            for d, s in zip(np.asarray(docs)[0], np.asarray(scores)[0], strict=True)
            if s > 0
        ]
        return out
