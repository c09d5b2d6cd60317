"""Monitoring-run benchmarks (issue 5). Prints figures; run on demand, never in the tests.

1. Prefect start-up: an empty flow run without PREFECT_API_URL (temporary server).
2. Unchanged rerun over the whole real corpus (../shared/data/policies imported, every
   document declared as a file:// source of its newest version): wall time of the run and
   the pipeline's own work inside the flow. Target: dominated by Prefect start-up; the
   pipeline's own work < 2 s. The first run drafts with a scripted fake model (this
   benchmark measures the pipeline, not the model).
3. A full run of the shipped sample with the configured backend (default: the local model):
   share of the run spent outside the LLM (target < 10 % of LLM time).

    .venv/bin/python benchmarks/bench_monitor.py [--skip-corpus] [--skip-sample]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO.parent / "shared" / "data" / "policies"
sys.path.insert(0, str(REPO))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _workspace(name: str) -> Path:
    from clausewatch.core.settings import reset_settings
    from clausewatch.storage.db import forget_engines

    home = Path(tempfile.mkdtemp(prefix=f"cw-bench-{name}-"))
    os.environ["CLAUSEWATCH_HOME"] = str(home)
    reset_settings()
    forget_engines()
    return home


def prefect_startup() -> float:
    from prefect import flow

    @flow(name="empty")
    def empty() -> int:
        return 1

    t = time.monotonic()
    empty()
    return time.monotonic() - t


def corpus_rerun() -> None:
    from sqlalchemy import func, select

    from clausewatch.archive.importer import import_tree
    from clausewatch.flows.monitor import run_monitor
    from clausewatch.llm import fake
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import Draft
    from tests.flows_support import responder

    home = _workspace("corpus")
    os.environ["CLAUSEWATCH_LLM_BACKEND"] = "fake"
    os.environ["CLAUSEWATCH_FILE_ROOT"] = str(POLICIES)  # the sources are the shared files
    lines = ["sources:"]
    for doc_dir in sorted(p for p in POLICIES.glob("*/*") if p.is_dir()):
        newest = sorted(doc_dir.glob("*.md"))[-1]
        lines += [
            f"  - platform: {doc_dir.parent.name}",
            f"    doc_type: {doc_dir.name}",
            f"    url: {newest.as_uri()}",
        ]
    sources = home / "sources.yaml"
    sources.write_text("\n".join(lines) + "\n")

    t = time.monotonic()
    summary = import_tree(POLICIES)
    print(f"import: {summary.added} versions in {time.monotonic() - t:.1f} s")

    fake.install(responder=responder)
    t = time.monotonic()
    first = run_monitor(sources_file=str(sources))
    with session_scope() as session:
        drafts = session.scalar(select(func.count(Draft.id)))
    print(
        f"first run: {time.monotonic() - t:.1f} s wall, {first.seconds:.1f} s in the flow, "
        f"{first.embedded} clauses embedded, {drafts} drafts (fake model), status {first.status}"
    )
    t = time.monotonic()
    again = run_monitor(sources_file=str(sources))
    wall = time.monotonic() - t
    print(
        f"unchanged rerun: {wall:.2f} s wall, pipeline's own work {again.seconds:.2f} s "
        f"(new versions {again.new_versions}, embedded {again.embedded}, "
        f"changes to draft {again.changes_pending})"
    )


def sample_full_run(backend: str | None) -> None:
    from sqlalchemy import func, select

    from clausewatch.flows.monitor import run_monitor
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import LLMCall

    _workspace("sample")
    os.environ.pop("CLAUSEWATCH_LLM_BACKEND", None)
    from clausewatch.core.settings import reset_settings

    reset_settings()
    t = time.monotonic()
    summary = run_monitor(backend=backend)
    wall = time.monotonic() - t
    with session_scope() as session:
        llm_ms, calls = session.execute(
            select(func.coalesce(func.sum(LLMCall.latency_ms), 0), func.count(LLMCall.id))
        ).one()
    llm_s = llm_ms / 1000
    outside = summary.seconds - llm_s
    print(
        f"sample full run: {wall:.1f} s wall, {summary.seconds:.1f} s in the flow, "
        f"{calls} LLM calls taking {llm_s:.1f} s; outside the LLM {outside:.1f} s = "
        f"{100 * outside / max(llm_s, 1e-9):.1f} % of LLM time "
        f"({summary.drafts_created} drafts, {summary.drafts_flagged} flagged)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    _workspace("startup")
    print(f"Prefect start-up + empty flow (temporary server): {prefect_startup():.1f} s")
    if not args.skip_corpus:
        corpus_rerun()
    if not args.skip_sample:
        sample_full_run(args.backend)


if __name__ == "__main__":
    main()
