"""BM25 keyword scoring (``bm25s``) over a small in-memory corpus, and the words it sees.

Text is tokenized by bm25s: lower-cased words, English stopwords removed and, with ``stem``,
each word reduced to its Snowball stem (PyStemmer), so "erase", "erased" and "erasure" match.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

STOPWORDS = "en"


def _bm25s() -> Any:  # bm25s ships no type information
    import bm25s

    # bm25s sets its logger to DEBUG on import and logs every index build; under Prefect's
    # root handler that reached the console of `clausewatch run`.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@functools.cache
def _stemmer() -> Callable[[list[str]], list[str]]:
    import Stemmer  # PyStemmer

    stem_words: Callable[[list[str]], list[str]] = Stemmer.Stemmer("english").stemWords
    return stem_words


def _tokenize(texts: list[str], *, stem: bool, return_ids: bool) -> Any:
    return _bm25s().tokenize(
        texts,
        stopwords=STOPWORDS,
        stemmer=_stemmer() if stem else None,
        return_ids=return_ids,
        show_progress=False,
    )


def terms(text: str, *, stem: bool = True) -> set[str]:
    """The content words of ``text`` as BM25 sees them (lower-cased, no stopwords, stemmed)."""
    tokens: list[list[str]] = _tokenize([text], stem=stem, return_ids=False)
    return set(tokens[0])


class KeywordIndex:
    """BM25 over ``texts``; ``search`` returns ``(position, score)`` best first.

    ``stem`` is off by default: stemming the regulation search's corpus lowered its dev
    figures (hybrid MRR 0.829 -> 0.793, recall@1 0.575 -> 0.525; recall@5 0.95 either way),
    while it helps drafting's keyword fallback over the catalogue (``drafting.retrieve``)."""

    def __init__(self, texts: Sequence[str], *, stem: bool = False) -> None:
        self.size = len(texts)
        self.stem = stem
        self._bm25 = _bm25s().BM25()
        if self.size:
            self._bm25.index(
                _tokenize(list(texts), stem=stem, return_ids=True), show_progress=False
            )

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if not self.size or not query.strip():
            return []
        tokens = _tokenize([query], stem=self.stem, return_ids=True)
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
