"""Run a suite by name and stamp its report with what was run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from clausewatch.evals.registry import RunOptions, get_suite
from clausewatch.schemas.evals import EvalReport


def run_suite(name: str, options: RunOptions) -> EvalReport:
    suite = get_suite(name)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    report = suite.run(options)
    meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 2),
        "data": str(options.data or suite.default_data(options.split)),
        "split": None if options.data else options.split,
        "limit": options.limit,
        "cases": len(report.cases),
    }
    if options.backend:
        meta["backend"] = options.backend
    if options.extra:
        meta["options"] = dict(options.extra)
    report.meta = {**meta, **report.meta}
    return report
