"""Scores of a multi-label clause classifier. micro/macro-F1 are scikit-learn's, so figures
compare with published tables computed the same way (the eval suites use them too)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.metrics import f1_score


def binarize(rows: Sequence[Iterable[str]], labels: Sequence[str]) -> np.ndarray:
    index = {lab: k for k, lab in enumerate(labels)}
    out = np.zeros((len(rows), len(labels)), dtype=np.int32)
    for i, row in enumerate(rows):
        for lab in row:
            if lab in index:
                out[i, index[lab]] = 1
    return out


def with_none_column(matrix: np.ndarray) -> np.ndarray:
    """Append the LexGLUE "none" column: 1 when a row has no label."""
    none = (matrix.sum(axis=1) == 0).astype(np.int32)[:, None]
    return np.hstack([matrix, none])


def lexglue_f1(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], labels: Sequence[str]
) -> dict[str, float]:
    """micro/macro-F1 exactly as LexGLUE scores UNFAIR-ToS (experiments/unfair_tos.py,
    compute_metrics): the label matrix plus a "none" column (1 when a row has no label, for
    gold and prediction alike), ``sklearn.metrics.f1_score(..., zero_division=0)``.
    Labels outside ``labels`` are ignored on both sides."""
    y_true = with_none_column(binarize(gold, labels))
    y_pred = with_none_column(binarize(pred, labels))
    per_label = f1_score(y_true, y_pred, average=None, zero_division=0)
    out = {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }
    for lab, value in zip([*labels, "none"], per_label, strict=True):
        out[f"f1.{lab}"] = float(value)
    return out
