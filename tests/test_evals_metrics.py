"""Metrics: LexGLUE-style F1 with the "none" column, set P/R/F1, recall@k, MRR."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from clausewatch.classifier.scoring import lexglue_f1
from clausewatch.evals.metrics import (
    PRF,
    multilabel_f1,
    recall_at_k,
    reciprocal_rank,
    set_f1,
)
from clausewatch.evals.suites.analysis import article_level
from clausewatch.llm.pricing import cost_usd
from clausewatch.schemas.jurisdictions import normalise, normalise_all

LABELS = ["a", "b"]


def test_lexglue_f1_adds_none_column_for_gold_and_prediction() -> None:
    gold = [set(), {"a"}, {"b"}, set()]
    pred = [set(), {"a"}, set(), {"a"}]
    scores = lexglue_f1(gold, pred, LABELS)
    # columns a, b, none
    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    y_pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0]])
    assert scores["micro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="micro"))
    assert scores["macro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert scores["f1.b"] == 0.0
    assert scores["f1.none"] == pytest.approx(0.5)


def test_lexglue_f1_differs_from_plain_label_f1() -> None:
    gold = [set(), set(), {"a"}]
    pred = [set(), set(), {"a"}]
    assert lexglue_f1(gold, pred, LABELS)["micro_f1"] == 1.0
    # without the none column, the absent label b counts 0 in the macro average
    assert multilabel_f1(gold, pred, LABELS)["macro_f1"] == 0.5


def test_labels_outside_the_set_are_ignored() -> None:
    scores = lexglue_f1([{"a"}], [{"a", "zzz"}], LABELS)
    assert scores["micro_f1"] == 1.0


def test_prf_and_set_f1() -> None:
    prf = PRF().add({"x", "y"}, {"y", "z"}).add({"q"}, set())
    assert (prf.tp, prf.fp, prf.fn) == (1, 1, 2)
    assert prf.precision == 0.5
    assert prf.recall == pytest.approx(1 / 3)
    assert set_f1(set(), set()) == 1.0
    assert set_f1({"a"}, set()) == 0.0


def test_recall_at_k_and_reciprocal_rank() -> None:
    ranked = ["gdpr:6", "gdpr:28", "ccpa:1798.105"]
    assert recall_at_k(["gdpr:28", "gdpr:9"], ranked, 1) == 0.0
    assert recall_at_k(["gdpr:28", "gdpr:9"], ranked, 2) == 0.5
    assert reciprocal_rank(["gdpr:28"], ranked) == 0.5
    assert reciprocal_rank(["gdpr:99"], ranked) == 0.0


def test_article_level_ids() -> None:
    assert article_level("gdpr:28(3)") == "gdpr:28"
    assert article_level("ccpa:1798.105(c)") == "ccpa:1798.105"
    assert article_level("eu-ai-act:50") == "eu-ai-act:50"


def test_jurisdiction_normalisation() -> None:
    assert normalise("EU/EEA (GDPR)") == {"EU/EEA"}
    assert normalise("United Kingdom") == {"UK"}
    assert normalise("California residents (CCPA)") == {"California"}
    assert normalise_all(["US", "Healthcare (HIPAA)"]) == {"US", "Regulated sectors"}
    assert normalise("Mars") == set()


def test_cost_per_case() -> None:
    assert cost_usd("local", "qwen", 1000, 1000) == 0.0
    assert cost_usd("openai", "gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("openai-compatible", "unknown-model", 10, 10) is None
