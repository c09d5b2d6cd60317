"""Metrics shared by the suites. Multi-label F1 is scikit-learn's, so figures compare with
published tables computed the same way; LexGLUE's F1 (``lexglue_f1``) is the classifier's own
measure, in ``clausewatch.classifier.scoring``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import f1_score

from clausewatch.classifier.scoring import binarize


def multilabel_f1(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], labels: Sequence[str]
) -> dict[str, float]:
    """Plain micro/macro-F1 over ``labels`` (no "none" column)."""
    y_true, y_pred = binarize(gold, labels), binarize(pred, labels)
    per_label = f1_score(y_true, y_pred, average=None, zero_division=0)
    out = {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }
    for lab, value in zip(labels, per_label, strict=True):
        out[f"f1.{lab}"] = float(value)
    return out


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: Iterable[str], pred: Iterable[str]) -> PRF:
        g, p = set(gold), set(pred)
        self.tp += len(g & p)
        self.fp += len(p - g)
        self.fn += len(g - p)
        return self

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def set_f1(gold: Iterable[str], pred: Iterable[str]) -> float:
    """F1 of one predicted set against one gold set; 1.0 when both are empty."""
    g, p = set(gold), set(pred)
    if not g and not p:
        return 1.0
    return PRF().add(g, p).f1


def recall_at_k(expected: Iterable[str], ranked: Sequence[str], k: int) -> float:
    exp = set(expected)
    if not exp:
        return 1.0
    return len(exp & set(ranked[:k])) / len(exp)


def reciprocal_rank(expected: Iterable[str], ranked: Sequence[str]) -> float:
    exp = set(expected)
    for rank, item in enumerate(ranked, start=1):
        if item in exp:
            return 1.0 / rank
    return 0.0


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return float(sum(vals) / len(vals)) if vals else 0.0


def percentile(values: Iterable[float], q: float) -> float:
    vals = list(values)
    return float(np.percentile(vals, q)) if vals else 0.0
