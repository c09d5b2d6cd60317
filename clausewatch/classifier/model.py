"""The clause classifier: TF-IDF word + character n-grams (optionally sentence embeddings)
and one linear SVM per taxonomy slug, with a decision threshold per slug tuned by
cross-validation. Multi-label: a clause gets every slug whose score clears its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from clausewatch.classifier.data import LabelledSet
from clausewatch.schemas.taxonomy import CATEGORIES

Scores = npt.NDArray[np.float64]
MIN_POSITIVES = 2


@dataclass
class TrainParams:
    """Knobs of one classifier; the defaults were chosen by document-level CV on CLAUDETTE."""

    c: float = 0.5
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    max_char_features: int = 200_000
    min_df: int = 2
    embeddings: bool = False
    embedding_weight: float = 1.0
    tune_thresholds: bool = False  # per-label cut by inner CV (else the SVM's 0)
    fixed_labels: tuple[str, ...] = ()  # labels that keep the cut 0 even when tuning
    threshold_folds: int = 5
    min_threshold: float = -0.5
    max_threshold: float = 0.75


def _features(params: TrainParams) -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=params.word_ngrams, min_df=params.min_df, sublinear_tf=True
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=params.char_ngrams,
                    min_df=params.min_df,
                    sublinear_tf=True,
                    max_features=params.max_char_features,
                ),
            ),
        ]
    )


def _embed(texts: list[str]) -> npt.NDArray[np.float32]:
    from clausewatch.vectorstore.embeddings import get_embedder

    return get_embedder().embed(texts)


def label_matrix(data: LabelledSet, labels: list[str]) -> tuple[Scores, Scores]:
    """(Y, M): Y[i, k] = 1 when row i has label k; M[i, k] = 1 when row i is annotated for k."""
    y = np.zeros((len(data), len(labels)))
    m = np.zeros((len(data), len(labels)))
    index = {lab: k for k, lab in enumerate(labels)}
    for i, (labs, ann) in enumerate(zip(data.labels, data.annotated, strict=True)):
        for lab in labs:
            if lab in index:
                y[i, index[lab]] = 1
        for lab in ann:
            if lab in index:
                m[i, index[lab]] = 1
    return y, m


def best_threshold(scores: Scores, gold: Scores, lo: float, hi: float) -> float:
    """The cut that maximises F1 on out-of-fold scores (midpoint between neighbours)."""
    order = np.argsort(-scores)
    s, g = scores[order], gold[order]
    tp = np.cumsum(g)
    fp = np.cumsum(1 - g)
    total = g.sum()
    if total == 0:
        return hi
    f1 = 2 * tp / (tp + fp + total)
    # only cut between distinct scores
    valid = np.append(s[:-1] > s[1:], True)
    f1 = np.where(valid, f1, -1.0)
    k = int(np.argmax(f1))
    cut = (s[k] + s[k + 1]) / 2 if k + 1 < len(s) else s[k] - 1e-6
    return float(min(max(cut, lo), hi))


@dataclass
class ClauseClassifier:
    """A trained multi-label classifier over taxonomy slugs."""

    params: TrainParams = field(default_factory=TrainParams)
    labels: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    _features: FeatureUnion | None = None
    _models: dict[str, LinearSVC] = field(default_factory=dict)

    # -- features -------------------------------------------------------------------
    def _matrix(self, texts: list[str], fit: bool = False) -> Any:
        if fit:
            self._features = _features(self.params)
            x = self._features.fit_transform(texts)
        else:
            assert self._features is not None, "classifier is not trained"
            x = self._features.transform(texts)
        if self.params.embeddings:
            emb = _embed(texts) * self.params.embedding_weight
            x = sparse.hstack([x, sparse.csr_matrix(emb)], format="csr")
        return x

    # -- training -------------------------------------------------------------------
    def _fit_models(self, x: Any, y: Scores, m: Scores, only: frozenset[str] | None = None) -> None:
        self._models = {}
        for k, label in enumerate(self.labels):
            if only is not None and label not in only:
                continue
            rows = m[:, k] == 1
            pos = int(y[rows, k].sum())
            if pos < MIN_POSITIVES or pos == int(rows.sum()):
                continue
            model = LinearSVC(C=self.params.c, class_weight="balanced", max_iter=5000)
            model.fit(x[rows], y[rows, k])
            self._models[label] = model

    def fit(self, data: LabelledSet, tune_thresholds: bool | None = None) -> ClauseClassifier:
        """Fit on ``data``; with threshold tuning (``params.tune_thresholds`` unless given),
        each label's cut comes from group-level CV on the same data, else it is 0."""
        if tune_thresholds is None:
            tune_thresholds = self.params.tune_thresholds
        if len(data) == 0:
            raise ValueError("no training data")
        present = {lab for labs in data.labels for lab in labs}
        self.labels = [c for c in CATEGORIES if c in present]
        y, m = label_matrix(data, self.labels)
        self.thresholds = {lab: 0.0 for lab in self.labels}
        if tune_thresholds:
            oof = self._out_of_fold(data, y, m)
            for k, lab in enumerate(self.labels):
                if lab in self.params.fixed_labels:
                    continue
                rows = (m[:, k] == 1) & ~np.isnan(oof[:, k])
                if rows.sum() and y[rows, k].sum():
                    self.thresholds[lab] = best_threshold(
                        oof[rows, k],
                        y[rows, k],
                        self.params.min_threshold,
                        self.params.max_threshold,
                    )
        x = self._matrix(data.texts, fit=True)
        self._fit_models(x, y, m)
        self.meta.update(
            {
                "rows": len(data),
                "groups": len(set(data.groups)),
                "positives": {lab: int(y[:, k].sum()) for k, lab in enumerate(self.labels)},
            }
        )
        return self

    def _out_of_fold(self, data: LabelledSet, y: Scores, m: Scores) -> Scores:
        groups = np.array(data.groups)
        n_folds = min(self.params.threshold_folds, len(set(data.groups)))
        oof = np.full(y.shape, np.nan)
        tuned = frozenset(self.labels) - frozenset(self.params.fixed_labels)
        if n_folds < 2 or not tuned:
            return oof
        for train_idx, test_idx in GroupKFold(n_splits=n_folds).split(data.texts, groups=groups):
            inner = ClauseClassifier(params=self.params, labels=self.labels)
            texts = [data.texts[i] for i in train_idx]
            x_train = inner._matrix(texts, fit=True)
            inner._fit_models(x_train, y[train_idx], m[train_idx], only=tuned)
            oof[test_idx] = inner.decision([data.texts[i] for i in test_idx])
        return oof

    # -- prediction -----------------------------------------------------------------
    def decision(self, texts: list[str]) -> Scores:
        """Raw SVM scores, one column per label (NaN where no model was trained)."""
        out = np.full((len(texts), len(self.labels)), np.nan)
        if not texts:
            return out
        x = self._matrix(texts)
        for k, label in enumerate(self.labels):
            model = self._models.get(label)
            if model is not None:
                out[:, k] = model.decision_function(x)
        return out

    def margins(self, texts: list[str]) -> Scores:
        """Scores minus each label's threshold: > 0 means the label is predicted."""
        scores = self.decision(texts)
        cut = np.array([self.thresholds.get(lab, 0.0) for lab in self.labels])
        diff = scores - cut
        out: Scores = np.where(np.isnan(diff), -np.inf, diff)
        return out

    def predict(self, texts: list[str]) -> list[list[str]]:
        margins = self.margins(texts)
        return [[self.labels[k] for k in np.argsort(-row) if row[k] > 0] for row in margins]
