"""``labels``: the labels a draft gets from code, without an LLM — the classifier's categories,
the regulation mapper's proposals, the exposure rubric and the derived jurisdictions — on the
analysis gold (same format as the ``analysis`` suite, same metrics for those fields).

Fast (no model), so it runs in CI on dev; report the test part with ``--split test``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clausewatch.evals.gold import gold_file
from clausewatch.evals.metrics import PRF, mean
from clausewatch.evals.registry import RunOptions
from clausewatch.evals.suites.analysis import analysis_cases, article_level, case_clause
from clausewatch.schemas.evals import CaseResult, EvalReport


class LabelsSuite:
    name = "labels"
    description = (
        "labels decided by code (classifier categories, regulation mapper, exposure rubric, "
        "derived jurisdictions) on the analysis gold: F1 per field, exposure accuracy; no LLM"
    )
    data_format = "same as analysis"

    def default_data(self, split: str = "dev") -> Path:
        return gold_file("analysis", split)

    def run(self, options: RunOptions) -> EvalReport:
        from clausewatch.drafting.labels import decide_labels
        from clausewatch.drafting.service import build_context

        cases = analysis_cases(options.data or self.default_data(options.split), options.limit)
        cats, regs, juris = PRF(), PRF(), PRF()
        exposure: list[float] = []
        results: list[CaseResult] = []
        for n, case in enumerate(cases):
            ctx = build_context(None, case_clause(case), None)
            decided = decide_labels(
                hint=ctx.category_hint,
                model_categories=[],
                proposed=ctx.regulation_map.proposed if ctx.regulation_map else [],
                catalogue=ctx.catalogue,
                text=case.clause,
                change_kind=None,
            )
            exp = case.expected
            got_regs = sorted({article_level(p) for p in decided.regulations})
            cats.add(exp.categories, decided.categories)
            regs.add(exp.regulations, got_regs)
            juris.add(exp.jurisdictions, decided.jurisdictions)
            correct = float(decided.exposure.level == exp.exposure)
            exposure.append(correct)
            detail: dict[str, Any] = {
                "expected": exp.model_dump(),
                "got": {
                    "categories": decided.categories,
                    "regulations": got_regs,
                    "exposure": decided.exposure.level,
                    "exposure_rule": decided.exposure.rule,
                    "jurisdictions": decided.jurisdictions,
                },
                "shortlist": [r.id for r in ctx.regulations],
            }
            case_cats = PRF().add(exp.categories, decided.categories).f1
            results.append(
                CaseResult(
                    id=case.id,
                    ok=bool(correct) and case_cats == 1.0,
                    metrics={"category_f1": case_cats, "exposure_correct": correct},
                    detail=detail,
                )
            )
            if options.progress:
                options.progress(n + 1, len(cases))
        metrics = {
            "category_precision": cats.precision,
            "category_recall": cats.recall,
            "category_f1": cats.f1,
            "regulation_precision": regs.precision,
            "regulation_recall": regs.recall,
            "regulation_f1": regs.f1,
            "jurisdiction_precision": juris.precision,
            "jurisdiction_recall": juris.recall,
            "jurisdiction_f1": juris.f1,
            "exposure_accuracy": mean(exposure),
            "cases": float(len(results)),
        }
        return EvalReport(suite=self.name, metrics=metrics, cases=results)


SUITE = LabelsSuite()
