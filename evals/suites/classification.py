"""``clause-classification``: the clause classifier on CLAUDETTE-layout data (UNFAIR-ToS
micro/macro-F1 exactly as LexGLUE computes them) and on OPP-115 segments (privacy slugs).

``--data`` takes either layout: a folder with ``sentences/en/original`` + ``tags/en/original``
or an OPP-115 folder (``sanitized_policies/`` + ``consolidation/``). Without ``--data`` both
default sets run. ``--set model=current|default|cv`` picks what is scored: the workspace's
model (trained if present, else the default), the shipped default, or document-level
cross-validation of training on the data itself (with our examples in every fold).
``--backend NAME`` scores a language model instead (zero-shot, like the published
gpt-3.5-turbo figure).
"""

from __future__ import annotations

import time
from pathlib import Path

from clausewatch.classifier.data import LabelledSet
from clausewatch.classifier.scoring import lexglue_f1
from clausewatch.core.errors import InputError
from clausewatch.evals.metrics import multilabel_f1
from clausewatch.evals.registry import RunOptions
from clausewatch.schemas.evals import CaseResult, EvalReport
from clausewatch.schemas.taxonomy import UNFAIR_TOS_SLUGS

SHARED_GOLD = Path(__file__).resolve().parents[3] / "shared" / "data" / "gold"
CLAUDETTE_DEFAULT = SHARED_GOLD / "claudette_train_en"
OPP115_DEFAULT = SHARED_GOLD / "opp115"
MODELS = ("current", "default", "cv")


class _Predictor:
    def __init__(self, options: RunOptions) -> None:
        from clausewatch.classifier import store

        self.mode = options.extra.get("model", "current")
        if self.mode not in MODELS:
            raise InputError(f"model={self.mode!r}: choose from {', '.join(MODELS)}")
        self.backend = options.backend
        if self.backend:
            self.name = f"llm:{self.backend}"
        elif self.mode == "default":
            self.name = "default"
        elif self.mode == "cv":
            self.name = "cv"
        else:
            self.name = store.current_kind()

    def predict_texts(self, texts: list[str]) -> list[list[str]]:
        """Slugs of free-standing texts (``cv`` falls back to the workspace model)."""
        from clausewatch.classifier import store

        if self.backend:
            from clausewatch.classifier.llm_opinion import llm_classify

            return llm_classify(texts, backend=self.backend)
        if self.mode == "default":
            return store.default_model().predict(texts)
        return store.current_model().predict(texts)

    def predict_set(self, data: LabelledSet) -> list[list[str]]:
        """Slugs of a labelled set; ``cv`` cross-validates training on it by document."""
        if self.mode == "cv" and not self.backend:
            from clausewatch.classifier.cv import cross_val_predict
            from clausewatch.classifier.data import load_examples
            from clausewatch.classifier.train import defer_to

            return cross_val_predict(data, extra=defer_to(data, load_examples()))
        return self.predict_texts(data.texts)


def _limit(n: int, limit: int | None) -> int:
    return n if limit is None else min(n, limit)


def run_unfair_tos(root: Path, options: RunOptions, predictor: _Predictor) -> EvalReport:
    from clausewatch.classifier.data import load_claudette

    data = load_claudette(root)
    n = _limit(len(data), options.limit)
    data = data.subset(range(n))
    t0 = time.perf_counter()
    predicted = predictor.predict_set(data)
    elapsed = time.perf_counter() - t0
    labels = list(UNFAIR_TOS_SLUGS)
    scores = lexglue_f1(data.labels, predicted, labels)
    cases = []
    for i, (text, gold, pred) in enumerate(zip(data.texts, data.labels, predicted, strict=True)):
        g, p = set(gold) & set(labels), set(pred) & set(labels)
        if g or p:
            cases.append(
                CaseResult(
                    id=f"{data.groups[i]}:{i}",
                    ok=g == p,
                    detail={"text": text[:300], "gold": sorted(g), "predicted": sorted(p)},
                )
            )
    metrics = {f"unfair_tos.{k}": v for k, v in scores.items()}
    meta: dict[str, object] = {"unfair_tos_data": str(root), "documents": len(set(data.groups))}
    if predictor.name == "trained" and not predictor.backend:
        from clausewatch.classifier import store

        if store.current_model().meta.get("user_data") == str(root.resolve()):
            meta["note"] = (
                "in-sample: the trained model learnt from this data; "
                "use --set model=cv for cross-validated figures"
            )
    metrics["unfair_tos.sentences"] = float(n)
    metrics["unfair_tos.ms_per_sentence"] = 1000 * elapsed / max(n, 1)
    return EvalReport(
        suite="clause-classification",
        metrics=metrics,
        cases=cases,
        meta=meta,
    )


def run_opp115(root: Path, options: RunOptions, predictor: _Predictor) -> EvalReport:
    from clausewatch.evals.opp115 import OPP_SLUGS, load_segments

    segments = load_segments(root)[: _limit(10**9, options.limit)]
    texts = [s.text for s in segments]
    predicted = predictor.predict_texts(texts)
    labels = list(OPP_SLUGS)
    gold = [s.labels for s in segments]
    scores = multilabel_f1(gold, predicted, labels)
    cases = [
        CaseResult(
            id=f"{s.policy}:{s.index}",
            ok=s.labels == set(p) & set(labels),
            detail={
                "text": s.text[:300],
                "gold": sorted(s.labels),
                "predicted": sorted(set(p) & set(labels)),
            },
        )
        for s, p in zip(segments, predicted, strict=True)
    ]
    metrics = {f"opp115.{k}": v for k, v in scores.items()}
    metrics["opp115.segments"] = float(len(segments))
    return EvalReport(
        suite="clause-classification",
        metrics=metrics,
        cases=cases,
        meta={"opp115_data": str(root)},
    )


class ClassificationSuite:
    name = "clause-classification"
    description = (
        "clause classifier: UNFAIR-ToS micro/macro-F1 (LexGLUE way) on CLAUDETTE-layout "
        "data, OPP-115 privacy categories (macro/micro-F1)"
    )
    data_format = "folder: CLAUDETTE layout (sentences/en/original, tags/en/original) or OPP-115"

    def default_data(self, split: str = "dev") -> Path:
        return CLAUDETTE_DEFAULT

    def run(self, options: RunOptions) -> EvalReport:
        from clausewatch.evals.opp115 import is_opp115

        predictor = _Predictor(options)
        reports = []
        if options.data is not None:
            if not options.data.is_dir():
                raise InputError(f"{options.data}: not a folder")
            if is_opp115(options.data):
                reports.append(run_opp115(options.data, options, predictor))
            else:
                reports.append(run_unfair_tos(options.data, options, predictor))
        else:
            for root, runner in ((CLAUDETTE_DEFAULT, run_unfair_tos), (OPP115_DEFAULT, run_opp115)):
                if not root.is_dir():
                    raise InputError(f"{root}: default data not found; pass --data")
                reports.append(runner(root, options, predictor))
        metrics: dict[str, float] = {}
        cases: list[CaseResult] = []
        meta: dict[str, object] = {"model": predictor.name}
        for rep in reports:
            metrics.update(rep.metrics)
            cases += rep.cases
            meta.update(rep.meta)
        return EvalReport(suite=self.name, metrics=metrics, cases=cases, meta=meta)


SUITE = ClassificationSuite()
