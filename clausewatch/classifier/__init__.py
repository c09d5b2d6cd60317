"""The clause classifier: fast, offline, multi-label over the taxonomy slugs.

``predict_categories(texts)`` uses the workspace's trained model when there is one
(``clausewatch classifier train``), else the shipped default learnt from our examples.
"""

from __future__ import annotations


def predict_categories(texts: list[str]) -> list[list[str]]:
    """Taxonomy slugs for every text (most confident first; may be empty)."""
    from clausewatch.classifier.store import current_model

    if not texts:
        return []
    return current_model().predict(list(texts))


__all__ = ["predict_categories"]
