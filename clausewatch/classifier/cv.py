"""Cross-validation by group (document): every document is predicted by a model that never
saw it. ``extra`` rows (e.g. our shipped examples) join every training fold. Anything a
model tunes (e.g. per-label thresholds by its own inner CV) happens inside ``fit`` on the
training fold alone, so the held-out documents never influence their own predictions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.model_selection import GroupKFold

from clausewatch.classifier.data import LabelledSet
from clausewatch.classifier.model import ClauseClassifier, TrainParams


def cross_val_predict(
    data: LabelledSet,
    params: TrainParams | None = None,
    *,
    folds: int = 5,
    extra: LabelledSet | None = None,
    progress: Callable[[int, int], None] | None = None,
    seed: int | None = None,
) -> list[list[str]]:
    """Out-of-fold predicted slugs for every row of ``data``. ``seed`` shuffles which
    documents share a fold (None: sklearn's deterministic size-balanced split); repeating
    with a few seeds shows how much a figure moves with the split alone."""
    groups = np.array(data.groups)
    n_folds = min(folds, len(set(data.groups)))
    if n_folds < 2:
        raise ValueError("cross-validation needs at least two groups (documents)")
    predictions: list[list[str]] = [[] for _ in range(len(data))]
    splitter = (
        GroupKFold(n_splits=n_folds)
        if seed is None
        else GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    )
    splits = list(splitter.split(data.texts, groups=groups))
    for fold, (train_idx, test_idx) in enumerate(splits):
        train = data.subset(train_idx.tolist())
        if extra is not None:
            train.extend(extra)
        model = ClauseClassifier(params=params or TrainParams()).fit(train)
        for i, labels in zip(
            test_idx, model.predict([data.texts[i] for i in test_idx]), strict=True
        ):
            predictions[i] = labels
        if progress:
            progress(fold + 1, n_folds)
    return predictions
