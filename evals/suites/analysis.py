"""``analysis``: the drafting pipeline (retrieval + prompt + LLM + validation + re-asks) on
gold clauses quoted from real policies, with the chosen LLM backend.

Gold: JSON Lines ``{"id", "platform", "document_type", "clause", "expected": {"categories",
"regulations", "exposure", "jurisdictions"}}``. Metrics:

- ``schema_valid_rate``: cases where some attempt returned JSON that fits the answer schema;
  ``first_attempt_ok_rate``: cases accepted without a re-ask; ``drafted_rate``: cases that
  ended with an accepted analysis (the rest are flagged for editors);
- ``grounding_rate``: cases whose final analysis (accepted, or the best effort a flagged
  draft keeps) passes the grounding checks again (excerpt and comparison quotes verbatim,
  cited provisions retrieved and in the catalogue); the field metrics score that analysis;
- ``category_*``, ``regulation_*`` (article level: ``gdpr:28(3)`` counts as ``gdpr:28``),
  ``jurisdiction_*``: micro precision/recall/F1 over cases (a flagged case predicts nothing);
  ``exposure_accuracy``;
- ``classifier_category_f1``: the offline classifier's hint against the same gold;
  ``candidate_recall``: share of expected regulations among the retrieved candidates (the
  ceiling for regulation recall);
- ``tokens_in_per_case``, ``tokens_out_per_case``, ``latency_s_per_case``,
  ``cost_usd_per_case``, ``attempts_per_case``, ``reasks_per_case``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clausewatch.core.errors import ClausewatchError
from clausewatch.evals.catalogue_check import check_provision_ids
from clausewatch.evals.gold import gold_file, load_jsonl
from clausewatch.evals.metrics import PRF, mean
from clausewatch.evals.registry import RunOptions
from clausewatch.llm.pricing import cost_usd
from clausewatch.schemas.evals import AnalysisCase, CaseResult, EvalReport
from clausewatch.schemas.jurisdictions import normalise_all

if TYPE_CHECKING:
    from clausewatch.drafting.context import ClauseInput

_ARTICLE = re.compile(r"^([a-z0-9-]+:[0-9A-Za-z.-]+?)(?:\(.*)?$")


def article_level(provision_id: str) -> str:
    """``gdpr:28(3)`` -> ``gdpr:28``; ``ccpa:1798.105(c)`` -> ``ccpa:1798.105``."""
    match = _ARTICLE.match(provision_id.strip())
    return match.group(1) if match else provision_id.strip()


class _Totals:
    def __init__(self) -> None:
        self.categories = PRF()
        self.regulations = PRF()
        self.jurisdictions = PRF()
        self.hint = PRF()
        # what the model answered itself, and the flags code derived, scored apart
        self.model_categories = PRF()
        self.model_regulations = PRF()
        self.model_jurisdictions = PRF()
        self.derived_jurisdictions = PRF()


def _score_case(
    case: AnalysisCase, analysis: Any, hint: list[str], candidates: list[str], totals: _Totals
) -> dict[str, Any]:
    exp = case.expected
    cats = list(analysis.categories) if analysis else []
    regs = (
        sorted({article_level(r.provision_id) for r in analysis.regulatory_landscape})
        if analysis
        else []
    )
    flags = [f.jurisdiction for f in analysis.jurisdiction_flags] if analysis else []
    juris = sorted(normalise_all(flags))
    model_flags = sorted(
        normalise_all(
            [f.jurisdiction for f in analysis.jurisdiction_flags if f.source == "model"]
            if analysis
            else []
        )
    )
    derived_flags = sorted(
        normalise_all(
            [f.jurisdiction for f in analysis.jurisdiction_flags if f.source == "derived"]
            if analysis
            else []
        )
    )
    said = (analysis.provenance.model_labels if analysis and analysis.provenance else {}) or {}
    model_cats = [str(c) for c in said.get("categories", [])]
    model_regs = sorted({article_level(str(r)) for r in said.get("regulations", [])})
    totals.model_categories.add(exp.categories, model_cats)
    totals.model_regulations.add(exp.regulations, model_regs)
    totals.model_jurisdictions.add(exp.jurisdictions, model_flags)
    totals.derived_jurisdictions.add(exp.jurisdictions, derived_flags)
    exposure = analysis.exposure.level if analysis else None
    totals.categories.add(exp.categories, cats)
    totals.regulations.add(exp.regulations, regs)
    totals.jurisdictions.add(exp.jurisdictions, juris)
    totals.hint.add(exp.categories, hint)
    cand = set(candidates)
    return {
        "metrics": {
            "category_f1": PRF().add(exp.categories, cats).f1,
            "regulation_f1": PRF().add(exp.regulations, regs).f1
            if exp.regulations or regs
            else 1.0,
            "jurisdiction_f1": PRF().add(exp.jurisdictions, juris).f1
            if exp.jurisdictions or juris
            else 1.0,
            "exposure_correct": float(exposure == exp.exposure),
            "model_exposure_correct": float(said.get("exposure", exposure) == exp.exposure),
            "candidate_recall": len(set(exp.regulations) & cand) / len(exp.regulations)
            if exp.regulations
            else 1.0,
        },
        "detail": {
            "expected": exp.model_dump(),
            "got": {
                "categories": cats,
                "regulations": regs,
                "exposure": exposure,
                "jurisdictions": juris,
                "jurisdiction_flags": flags,
                "model_labels": said,
            },
            "classifier_hint": hint,
            "candidates": candidates,
        },
    }


def analysis_cases(path: Path, limit: int | None) -> list[AnalysisCase]:
    """The gold cases of ``path`` (regulation ids checked against the catalogue), the first
    ``limit`` of them when given."""
    cases = load_jsonl(path, AnalysisCase)
    check_provision_ids(path, ((c.id, c.expected.regulations) for c in cases))
    return cases[:limit] if limit else cases


def case_clause(case: AnalysisCase) -> ClauseInput:
    """The clause a gold case gives to drafting."""
    from clausewatch.drafting.context import ClauseInput

    return ClauseInput(
        uid=f"eval-{case.id}", text=case.clause, platform=case.platform, doc_type=case.document_type
    )


class AnalysisSuite:
    name = "analysis"
    description = (
        "drafting on gold clauses: schema-valid and grounding rates, category/regulation/"
        "jurisdiction F1, exposure accuracy, tokens, latency, cost, re-asks per case"
    )
    data_format = (
        'JSONL: {"id", "platform", "document_type", "clause", "expected": {"categories", '
        '"regulations", "exposure", "jurisdictions"}}'
    )

    def default_data(self, split: str = "dev") -> Path:
        return gold_file("analysis", split)

    def run(self, options: RunOptions) -> EvalReport:
        from clausewatch.drafting.engine import draft_analysis
        from clausewatch.drafting.grounding import GroundingSources, check_grounding
        from clausewatch.drafting.service import build_context
        from clausewatch.llm.factory import get_llm
        from clausewatch.storage.db import session_scope

        cases = analysis_cases(options.data or self.default_data(options.split), options.limit)
        totals = _Totals()
        results: list[CaseResult] = []
        per: dict[str, list[float]] = {
            k: []
            for k in (
                "schema_valid",
                "first_ok",
                "drafted",
                "grounded",
                "exposure",
                "model_exposure",
                "tokens_in",
                "tokens_out",
                "latency_s",
                "cost",
                "attempts",
                "candidate_recall",
            )
        }
        unknown_price = False
        llm = get_llm(options.backend)
        try:
            for n, case in enumerate(cases):
                clause = case_clause(case)
                t0 = time.perf_counter()
                try:
                    with session_scope() as session:
                        ctx = build_context(session, clause, None)
                    outcome = draft_analysis(ctx, llm)
                except ClausewatchError as exc:
                    results.append(
                        CaseResult(id=case.id, ok=False, error=f"{type(exc).__name__}: {exc}")
                    )
                    for key in (
                        "schema_valid",
                        "first_ok",
                        "drafted",
                        "grounded",
                        "exposure",
                        "model_exposure",
                    ):
                        per[key].append(0.0)
                    totals.categories.add(case.expected.categories, [])
                    totals.regulations.add(case.expected.regulations, [])
                    totals.jurisdictions.add(case.expected.jurisdictions, [])
                    continue
                wall = time.perf_counter() - t0
                # an accepted analysis, else the best effort a flagged draft keeps for editors
                analysis = outcome.analysis or getattr(outcome, "best_effort", None)
                kinds = [a.get("outcome") for a in outcome.attempts]
                grounding_errors: list[str] = []
                if analysis is not None:
                    grounding_errors = check_grounding(
                        analysis,
                        GroundingSources(
                            clause_text=ctx.clause.text,
                            comparables={c.clause_id: c for c in ctx.comparables},
                            catalogue_ids=ctx.catalogue.keys(),
                            candidate_ids=[r.id for r in ctx.regulations],
                        ),
                    )
                candidates = [r.id for r in ctx.regulations]
                scored = _score_case(case, analysis, list(ctx.category_hint), candidates, totals)
                cost = cost_usd(
                    outcome.backend, outcome.model, outcome.tokens_in, outcome.tokens_out
                )
                unknown_price |= cost is None
                per["schema_valid"].append(
                    float(any(k in ("ok", "grounding", "quality") for k in kinds))
                )
                per["first_ok"].append(float(bool(kinds) and kinds[0] == "ok"))
                per["drafted"].append(float(outcome.analysis is not None))
                per["grounded"].append(float(analysis is not None and not grounding_errors))
                per["exposure"].append(scored["metrics"]["exposure_correct"])
                per["model_exposure"].append(scored["metrics"]["model_exposure_correct"])
                per["tokens_in"].append(float(outcome.tokens_in))
                per["tokens_out"].append(float(outcome.tokens_out))
                per["latency_s"].append(wall)
                per["cost"].append(cost or 0.0)
                per["attempts"].append(float(len(outcome.attempts)))
                per["candidate_recall"].append(scored["metrics"]["candidate_recall"])
                metrics = {
                    **scored["metrics"],
                    "attempts": float(len(outcome.attempts)),
                    "tokens_in": float(outcome.tokens_in),
                    "tokens_out": float(outcome.tokens_out),
                    "latency_s": round(wall, 3),
                }
                detail = {
                    **scored["detail"],
                    "attempt_outcomes": kinds,
                    "errors": outcome.errors[:5],
                    "grounding_errors": grounding_errors[:5],
                    "model": outcome.model,
                    "backend": outcome.backend,
                }
                ok = outcome.analysis is not None and not grounding_errors
                results.append(
                    CaseResult(
                        id=case.id,
                        ok=ok,
                        metrics=metrics,
                        detail=detail,
                        error=None if ok else "; ".join((outcome.errors or grounding_errors)[:3]),
                    )
                )
                if options.progress:
                    options.progress(n + 1, len(cases))
        finally:
            llm.close()
        summary = {
            "schema_valid_rate": mean(per["schema_valid"]),
            "first_attempt_ok_rate": mean(per["first_ok"]),
            "drafted_rate": mean(per["drafted"]),
            "grounding_rate": mean(per["grounded"]),
            "category_precision": totals.categories.precision,
            "category_recall": totals.categories.recall,
            "category_f1": totals.categories.f1,
            "regulation_precision": totals.regulations.precision,
            "regulation_recall": totals.regulations.recall,
            "regulation_f1": totals.regulations.f1,
            "exposure_accuracy": mean(per["exposure"]),
            "jurisdiction_precision": totals.jurisdictions.precision,
            "jurisdiction_recall": totals.jurisdictions.recall,
            "jurisdiction_f1": totals.jurisdictions.f1,
            "classifier_category_f1": totals.hint.f1,
            "model_category_f1": totals.model_categories.f1,
            "model_regulation_f1": totals.model_regulations.f1,
            "model_exposure_accuracy": mean(per["model_exposure"]),
            "jurisdiction_f1_model_flags": totals.model_jurisdictions.f1,
            "jurisdiction_f1_derived_flags": totals.derived_jurisdictions.f1,
            "candidate_recall": mean(per["candidate_recall"]),
            "tokens_in_per_case": mean(per["tokens_in"]),
            "tokens_out_per_case": mean(per["tokens_out"]),
            "latency_s_per_case": mean(per["latency_s"]),
            "cost_usd_per_case": mean(per["cost"]),
            "attempts_per_case": mean(per["attempts"]),
            "reasks_per_case": mean(a - 1 for a in per["attempts"]),
            "cases": float(len(results)),
            "errors": float(sum(1 for r in results if r.error and not r.metrics)),
        }
        meta: dict[str, Any] = {"model": getattr(llm, "model", ""), "llm_backend": llm.backend}
        if unknown_price:
            meta["note"] = "no price known for this model: cost_usd_per_case counts it as 0"
        return EvalReport(suite=self.name, metrics=summary, cases=results, meta=meta)


SUITE = AnalysisSuite()
