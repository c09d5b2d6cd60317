"""The classifier: default model, training, thresholds, persistence, LLM second opinion."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from clausewatch.classifier import model as model_module
from clausewatch.classifier import predict_categories, store
from clausewatch.classifier.cv import cross_val_predict
from clausewatch.classifier.data import LabelledSet, load_claudette, load_examples
from clausewatch.classifier.llm_opinion import llm_classify, parse_categories
from clausewatch.classifier.model import ClauseClassifier, TrainParams, best_threshold
from clausewatch.cli import app
from clausewatch.llm import fake
from clausewatch.llm.base import LLMRequest
from tests.classifier_support import copies, write_claudette


def test_default_model_labels_plain_clauses(workspace: Path) -> None:
    got = predict_categories(
        [
            "We may suspend or terminate your account at any time without notice.",
            "Children under 13 may not use the service.",
            "Any dispute will be settled by binding arbitration, and you waive class actions.",
            "We keep your conversations for 30 days before deleting them.",
            "Welcome to our help centre.",
        ]
    )
    assert "termination" in got[0]
    assert "children" in got[1]
    assert "arbitration" in got[2]
    assert "data-retention" in got[3]
    assert got[4] == []
    assert predict_categories([]) == []
    # trained once, then cached in the workspace
    assert store.default_path().exists()
    assert store.current_kind() == "default"


def test_only_annotated_rows_train_a_label() -> None:
    data = LabelledSet()
    for i in range(6):
        data.add(
            f"we may change these terms {i}", {"unilateral-change"}, f"g{i}", {"unilateral-change"}
        )
        data.add(f"hello and welcome {i}", set(), f"g{i}", {"unilateral-change"})
    # rows annotated only for another label must not teach "children" anything
    data.add("kids under 13 are not allowed", {"children"}, "k1", {"children"})
    data.add("minors need parental consent", {"children"}, "k2", {"children"})
    model = ClauseClassifier().fit(data, tune_thresholds=False)
    assert "children" not in model._models  # no negatives for it
    assert model.predict(["we may change these terms 9"]) == [["unilateral-change"]]


def test_best_threshold_maximises_f1() -> None:
    scores = np.array([2.0, 1.0, 0.5, -0.2, -1.0])
    gold = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    cut = best_threshold(scores, gold, -5, 5)
    assert -1.0 < cut < -0.2  # all three positives above, one false positive
    assert best_threshold(scores, np.zeros(5), -0.5, 0.75) == 0.75


def test_train_cli_keeps_model_in_workspace(workspace: Path, tmp_path: Path) -> None:
    data = write_claudette(tmp_path / "claudette")
    result = CliRunner().invoke(app, ["classifier", "train", "--data", str(data), "--cv"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # rich may wrap the line
    assert re.search(r"CV \(5 folds by document\) UNFAIR-ToS micro-F1 [01]\.\d{4} macro-F1", shown)
    assert store.trained_path().exists()
    assert store.current_kind() == "trained"
    assert store.current_model().meta["user_documents"] == 3
    result = CliRunner().invoke(
        app, ["classifier", "classify", "We reserve the right to amend these terms at any time."]
    )
    assert result.exit_code == 0, result.output
    assert "unilateral-change" in result.output
    info = CliRunner().invoke(app, ["classifier", "info"])
    assert "trained" in info.output
    # scoring the trained model on its own training data is flagged as in-sample
    from clausewatch.evals.registry import RunOptions
    from clausewatch.evals.runner import run_suite

    report = run_suite("clause-classification", RunOptions(data=data))
    assert report.meta["model"] == "trained"
    assert "in-sample" in str(report.meta["note"])


def test_cross_validation_predicts_every_row_out_of_fold(tmp_path: Path) -> None:
    data = load_claudette(write_claudette(tmp_path))
    predictions = cross_val_predict(data, folds=3, extra=load_examples())
    assert len(predictions) == len(data)
    assert any(predictions)


def test_llm_second_opinion(workspace: Path) -> None:
    def answer(request: LLMRequest) -> dict[str, Any]:
        assert "<<<BEGIN DATA>>>" in request.messages[-1]["content"]
        return {"categories": ["children", "children", "not-a-slug"]}

    with fake.scripted(["not json"], responder=answer):
        got = llm_classify(["a", "Kids under 13 are not allowed."], backend="fake")
    assert got == [[], ["children"]]
    assert parse_categories('{"categories": "children"}') == []


def test_classify_cli_with_llm(workspace: Path) -> None:
    with fake.scripted([{"categories": ["termination"]}]):
        result = CliRunner().invoke(
            app,
            ["classifier", "classify", "We may close your account.", "--llm", "--backend", "fake"],
        )
    assert result.exit_code == 0, result.output
    assert "llm: termination" in result.output


def test_cv_threshold_tuning_sees_only_the_training_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nested: per-label cuts come from an inner CV inside each training fold; no vectoriser,
    SVM or threshold search ever sees a held-out document before it is predicted."""
    data = load_claudette(write_claudette(tmp_path, copies(3)))
    calls: list[tuple[str, frozenset[str]]] = []
    original_matrix = ClauseClassifier._matrix
    original_best = model_module.best_threshold

    def spy_matrix(self: ClauseClassifier, texts: list[str], fit: bool = False) -> Any:
        calls.append(("fit" if fit else "score", frozenset(texts)))
        return original_matrix(self, texts, fit)

    def spy_best(scores: Any, gold: Any, lo: float, hi: float) -> float:
        calls.append(("tune", frozenset({str(len(scores))})))
        return original_best(scores, gold, lo, hi)

    monkeypatch.setattr(ClauseClassifier, "_matrix", spy_matrix)
    monkeypatch.setattr(model_module, "best_threshold", spy_best)
    folds: list[list[tuple[str, frozenset[str]]]] = []

    def next_fold(_done: int, _total: int) -> None:
        folds.append(calls.copy())
        calls.clear()

    predictions = cross_val_predict(
        data, TrainParams(tune_thresholds=True), folds=3, progress=next_fold
    )
    assert len(predictions) == len(data) and len(folds) == 3
    held_out_seen: set[str] = set()
    for fold in folds:
        kind, held_out = fold[-1]  # the outer model scoring its held-out document
        assert kind == "score"
        held_out_seen |= held_out
        training = {t for t in data.texts if t not in held_out}
        tunes = [c for c in fold if c[0] == "tune"]
        assert tunes, "thresholds were not tuned"
        # the threshold search ran on out-of-fold scores of training rows only
        assert all(int(next(iter(size))) <= len(training) for _, size in tunes)
        for kind, texts in fold[:-1]:
            if kind != "tune":
                assert texts <= training, f"{kind} saw held-out text"
        assert sum(kind == "fit" for kind, _ in fold) > 1  # inner fits + the outer fit
    assert held_out_seen == set(data.texts)


def test_cv_with_a_seed_shuffles_documents_between_folds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_claudette(write_claudette(tmp_path, copies(3)))
    seen: list[frozenset[str]] = []
    original = ClauseClassifier.predict

    def spy(self: ClauseClassifier, texts: list[str]) -> list[list[str]]:
        seen.append(frozenset(data.groups[data.texts.index(t)] for t in texts))
        return original(self, texts)

    monkeypatch.setattr(ClauseClassifier, "predict", spy)

    def folds_of(seed: int | None) -> frozenset[frozenset[str]]:
        seen.clear()
        got = cross_val_predict(data, TrainParams(word_ngrams=(1, 1)), folds=3, seed=seed)
        assert len(got) == len(data)
        assert sorted(g for fold in seen for g in fold) == sorted(set(data.groups))
        return frozenset(seen)

    splits = {seed: folds_of(seed) for seed in (None, 1, 2, 3)}
    assert len(set(splits.values())) > 1  # seeds shuffle documents between folds
    assert folds_of(1) == splits[1]  # the same seed, the same split
