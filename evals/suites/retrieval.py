"""``regulation-retrieval``: clause-like queries -> expected regulation provision ids.

Gold: JSON Lines ``{"id", "query", "expected": [provision ids]}``. Metrics: recall@1/3/5/10
(share of expected ids in the top k, averaged over queries) and MRR (reciprocal rank of the
first expected id in the top 20). ``--set mode=hybrid|dense|keyword`` picks the retriever.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import cast

from clausewatch.core.errors import InputError
from clausewatch.evals.catalogue_check import check_provision_ids
from clausewatch.evals.gold import gold_file, load_jsonl
from clausewatch.evals.metrics import mean, recall_at_k, reciprocal_rank
from clausewatch.evals.registry import RunOptions
from clausewatch.schemas.evals import CaseResult, EvalReport, RetrievalCase

KS = (1, 3, 5, 10)
DEPTH = 20
MODES = ("hybrid", "dense", "keyword")


class RetrievalSuite:
    name = "regulation-retrieval"
    description = "regulation candidates for a clause: recall@k, MRR"
    data_format = 'JSONL: {"id", "query", "expected": ["gdpr:28", ...]}'

    def default_data(self, split: str = "dev") -> Path:
        return gold_file("regulation-retrieval", split)

    def run(self, options: RunOptions) -> EvalReport:
        from clausewatch.regulations.search import Mode, regulation_candidates

        path = options.data or self.default_data(options.split)
        cases = load_jsonl(path, RetrievalCase)
        check_provision_ids(path, ((c.id, c.expected) for c in cases))
        cases = cases[: options.limit] if options.limit else cases
        mode = options.extra.get("mode", "hybrid")
        if mode not in MODES:
            raise InputError(f"mode={mode!r}: choose from {', '.join(MODES)}")
        retriever = cast(Mode, mode)
        results: list[CaseResult] = []
        latencies: list[float] = []
        for i, case in enumerate(cases):
            t0 = time.perf_counter()
            ranked = [c.id for c in regulation_candidates(case.query, k=DEPTH, mode=retriever)]
            latencies.append(1000 * (time.perf_counter() - t0))
            metrics = {f"recall@{k}": recall_at_k(case.expected, ranked, k) for k in KS}
            metrics["rr"] = reciprocal_rank(case.expected, ranked)
            results.append(
                CaseResult(
                    id=case.id,
                    ok=metrics["recall@5"] > 0,
                    metrics=metrics,
                    detail={"expected": case.expected, "top": ranked[:10]},
                )
            )
            if options.progress:
                options.progress(i + 1, len(cases))
        summary = {f"recall@{k}": mean(r.metrics[f"recall@{k}"] for r in results) for k in KS}
        summary["mrr"] = mean(r.metrics["rr"] for r in results)
        summary["queries"] = float(len(results))
        summary["latency_ms_mean"] = mean(latencies)
        return EvalReport(suite=self.name, metrics=summary, cases=results, meta={"mode": mode})


SUITE = RetrievalSuite()
