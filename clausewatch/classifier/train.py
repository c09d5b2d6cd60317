"""Training the workspace model: a CLAUDETTE-layout folder, our shipped examples, and the
categories editors approved on drafts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from clausewatch.classifier.cv import cross_val_predict
from clausewatch.classifier.data import (
    LabelledSet,
    load_approved_drafts,
    load_claudette,
    load_examples,
)
from clausewatch.classifier.model import ClauseClassifier, TrainParams
from clausewatch.classifier.scoring import lexglue_f1
from clausewatch.core.errors import InputError
from clausewatch.schemas.taxonomy import UNFAIR_TOS_SLUGS


@dataclass
class TrainingData:
    user: LabelledSet  # the user's CLAUDETTE-layout data (cross-validated by document)
    extra: LabelledSet  # our examples + approved drafts (in every training fold)

    def all(self) -> LabelledSet:
        return LabelledSet().extend(self.user).extend(self.extra)


def defer_to(user: LabelledSet, extra: LabelledSet) -> LabelledSet:
    """``extra`` rows no longer speak for the labels the user's data annotates: the user's
    data alone defines those (CLAUDETTE's "jurisdiction" means an unfair forum clause, our
    examples mean any forum clause); ``extra`` still teaches every other label."""
    owned = frozenset().union(*user.annotated) if len(user) else frozenset()
    out = LabelledSet()
    for text, labels, group, annotated in zip(
        extra.texts, extra.labels, extra.groups, extra.annotated, strict=True
    ):
        keep = annotated - owned
        if keep:
            out.add(text, labels & keep, group, keep)
    return out


def gather(data_dir: Path | None, *, drafts: bool = True, examples: bool = True) -> TrainingData:
    user = load_claudette(data_dir) if data_dir is not None else LabelledSet()
    extra = LabelledSet()
    if examples:
        extra.extend(load_examples())
    if drafts:
        extra.extend(load_approved_drafts())
    if len(user) + len(extra) == 0:
        raise InputError("no training data")
    return TrainingData(user, defer_to(user, extra))


def effective_params(data: TrainingData, params: TrainParams | None, tune_all: bool) -> TrainParams:
    """Thresholds: labels learnt only from examples/drafts (few, unrealistically balanced
    rows) get a cut tuned by inner CV; labels the user's data annotates keep the SVM's 0
    unless ``tune_all``."""
    owned = tuple(sorted(frozenset().union(*data.user.annotated))) if len(data.user) else ()
    return replace(
        params or TrainParams(),
        tune_thresholds=True,
        fixed_labels=() if tune_all else owned,
    )


def train(data: TrainingData, params: TrainParams | None = None) -> ClauseClassifier:
    model = ClauseClassifier(params=params or TrainParams()).fit(data.all())
    model.meta.update(
        {
            "kind": "trained",
            "user_rows": len(data.user),
            "user_documents": len(set(data.user.groups)),
            "extra_rows": len(data.extra),
        }
    )
    return model


def cross_validate(
    data: TrainingData,
    params: TrainParams | None = None,
    *,
    folds: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """UNFAIR-ToS micro/macro-F1 (LexGLUE way) of document-level CV on the user's data."""
    if len(set(data.user.groups)) < 2:
        raise InputError("cross-validation needs labelled data from at least two documents")
    predictions = cross_val_predict(
        data.user, params, folds=folds, extra=data.extra, progress=progress
    )
    return lexglue_f1(data.user.labels, predictions, list(UNFAIR_TOS_SLUGS))
