"""Drafts per minute on Prefect task workers (issue 16), with a scripted model of fixed latency.

One machine, real servers: PostgreSQL (a fresh database), a Prefect server, a chroma server,
and ``clausewatch worker`` processes whose scripted model answers each call after a fixed
pause (``--latency``). The bundled corpus (``../shared/data/policies``) is imported and indexed
once; its material changes are the queue. Then:

  1. scaling: for 1, 2 and 4 workers, ``--drafts`` changes drafted the way a
     ``clausewatch run --draft-mode wait`` drafts them (``flows.dispatch.draft_on_workers``:
     queue, ``draft-next.delay()``, wait), after a warm-up draft per worker. Reported: drafts
     per minute, the ideal (workers x 60 / latency), the overhead per draft that Prefect and
     the database add (wall x workers / drafts - latency), and the part of it spent inside the
     worker between claim and done (retrieval, prompt, storing);
  2. backfill: ``--backfill`` more changes (0: all of the corpus's) with ``--backfill-workers``
     workers at ``--backfill-latency``; the time of the whole corpus is extrapolated from it.

    CLAUSEWATCH_TEST_DATABASE_URL=postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres \\
      .venv/bin/python benchmarks/bench_fanout.py [--latency 2 --drafts 16 --backfill 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
POLICIES = REPO.parent / "shared" / "data" / "policies"

WORKER = """
import os, sys, time
from clausewatch.llm import fake
from tests.flows_support import responder
delay = float(os.environ["BENCH_LATENCY_S"])
def answer(request):
    time.sleep(delay)
    return responder(request)
fake.install(responder=answer)
from clausewatch.cli import main
sys.argv = ["clausewatch", "worker"]
main()
"""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _database(base: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    name = f"cw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from clausewatch.storage.db import forget_engines

        forget_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


def _workers_ready(api: str, count: int, timeout: float = 120) -> None:
    import httpx

    from clausewatch.flows.workers import draft_next

    deadline = time.monotonic() + timeout
    body = {"task_worker_filter": {"task_keys": [draft_next.task_key]}}
    while time.monotonic() < deadline:
        try:
            found = httpx.post(f"{api}/task_workers/filter", json=body, timeout=5).json()
            if len(found) >= count:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{count} task workers did not subscribe within {timeout:.0f} s")


class Workers:
    """Worker processes, added a few at a time (warm ones are kept between measurements)."""

    def __init__(self, latency: float, env: dict[str, str], logs: Path) -> None:
        self.latency, self.env, self.logs = latency, env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def grow_to(self, count: int, api: str) -> None:
        while len(self.procs) < count:
            log = (self.logs / f"worker-{self.latency}-{len(self.procs)}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", WORKER],
                    cwd=REPO,
                    env={**self.env, "BENCH_LATENCY_S": str(self.latency)},
                    stdout=log,
                    stderr=log,
                )
            )
        _workers_ready(api, count, timeout=900)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _draft(queue: list[Any], count: int) -> dict[str, Any]:
    """Draft the next ``count`` changes of ``queue`` on the workers, as a waiting run does."""
    from sqlalchemy import select

    from clausewatch.flows.budget import DraftBudget
    from clausewatch.flows.dispatch import draft_on_workers
    from clausewatch.flows.live import RunProgress
    from clausewatch.flows.runs import finish_run, start_run
    from clausewatch.schemas.runs import RunSummary
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import DraftClaim

    plan = [queue.pop(0) for _ in range(min(count, len(queue)))]
    summary = RunSummary(run_id=start_run("bench"))
    budget = DraftBudget(3600 * 4)
    live = RunProgress(summary.run_id, budget)
    live.plan([(p.change_id, p.label) for p in plan])
    started = time.monotonic()
    draft_on_workers(summary, plan, live, budget, handoff=False)
    wall = time.monotonic() - started
    finish_run(summary.run_id, "ok", {})
    with session_scope() as session:
        rows = session.execute(
            select(DraftClaim.claimed_at, DraftClaim.finished_at, DraftClaim.worker).where(
                DraftClaim.change_id.in_([p.change_id for p in plan])
            )
        ).all()
    inside = [(f - c).total_seconds() for c, f, _ in rows if c and f]
    return {
        "drafts": len(summary.drafts),
        "failures": [f.reason for f in summary.failures][:3],
        "wall_s": round(wall, 2),
        "in_worker_s": round(sum(inside) / len(inside), 3) if inside else None,
        "workers_used": len({w for _, _, w in rows}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("CLAUSEWATCH_TEST_DATABASE_URL"))
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model call")
    parser.add_argument("--drafts", type=int, default=16, help="drafts per worker count")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--backfill", type=int, default=200, help="0: every corpus change")
    parser.add_argument("--backfill-workers", type=int, default=4)
    parser.add_argument("--backfill-latency", type=float, default=0.0)
    parser.add_argument("--no-index", action="store_true", help="skip embedding the corpus")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("needs PostgreSQL: --database-url or CLAUSEWATCH_TEST_DATABASE_URL")

    results: dict[str, Any] = {"latency_s": args.latency}
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cw-bench-")))
        url, drop = _database(args.database_url)
        stack.callback(drop)
        env = {
            "CLAUSEWATCH_HOME": str(home / "home"),
            "CLAUSEWATCH_DATABASE_URL": url,
            "CLAUSEWATCH_LLM_BACKEND": "fake",
            "CLAUSEWATCH_LLM_CACHE": "false",
            "CLAUSEWATCH_DRAFTING_QUALITY_REASKS": "0",  # one model call per draft
            "CLAUSEWATCH_DRAFT_RECENT_VERSIONS": "1000",  # the whole history is the queue
            "CLAUSEWATCH_DRAFT_LEASE_S": "60",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        os.environ.update(env)

        from clausewatch.flows.prefect_server import TemporaryServer
        from tests.vectorstore_helpers import chroma_server

        server = TemporaryServer(home / "prefect-server.log")
        server.start(120)
        stack.callback(server.stop)
        chroma = stack.enter_context(chroma_server(home / "chroma"))
        os.environ.update({"PREFECT_API_URL": server.api_url, "CLAUSEWATCH_CHROMA_URL": chroma})
        from prefect.settings import PREFECT_API_URL, temporary_settings

        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
        child_env = {**os.environ, "PYTHONPATH": str(REPO)}
        child_env["PREFECT_LOGGING_LEVEL"] = "INFO"

        from sqlalchemy import func, select

        from clausewatch.archive.importer import import_tree
        from clausewatch.storage.db import session_scope
        from clausewatch.storage.models import Change

        t0 = time.monotonic()
        imported = import_tree(POLICIES)
        results["import_s"] = round(time.monotonic() - t0, 1)
        results["versions_imported"] = imported.added
        with session_scope() as session:
            results["changes_material"] = int(
                session.scalar(
                    select(func.count())
                    .select_from(Change)
                    .where(
                        Change.old_version_id.is_not(None),
                        Change.kind.in_(("added", "removed", "modified")),
                    )
                )
                or 0
            )
        _say(f"imported: {results}")
        if not args.no_index:
            from clausewatch.vectorstore.indexing import index_provisions

            t0 = time.monotonic()
            with session_scope() as session:
                results["embedded"] = int(index_provisions(session).embedded)
            results["index_s"] = round(time.monotonic() - t0, 1)
            _say(f"indexed {results['embedded']} clauses in {results['index_s']} s")

        from clausewatch.flows.tasks import PendingDraft

        with session_scope() as session:  # every material change, oldest first (the
            # run's priority rule would run the classifier on every clause: not measured here)
            queue = [
                PendingDraft(change_id=c.id, key="", label=f"change {c.id} {c.kind}", score=0)
                for c in session.scalars(
                    select(Change)
                    .where(
                        Change.old_version_id.is_not(None),
                        Change.kind.in_(("added", "removed", "modified")),
                    )
                    .order_by(Change.id)
                )
            ]
        _say(f"queue: {len(queue)} changes")

        scaling = []
        workers = Workers(args.latency, child_env, home)
        try:
            for count in [int(n) for n in args.workers.split(",")]:
                workers.grow_to(count, server.api_url)
                _draft(queue, count)  # warm-up: one draft per worker
                row = _draft(queue, args.drafts)
                per_min = row["drafts"] * 60 / row["wall_s"]
                row.update(
                    workers=count,
                    drafts_per_min=round(per_min, 1),
                    ideal_per_min=round(count * 60 / args.latency, 1),
                    overhead_per_draft_s=round(
                        row["wall_s"] * count / max(1, row["drafts"]) - args.latency, 3
                    ),
                    in_worker_overhead_s=(
                        round(row["in_worker_s"] - args.latency, 3) if row["in_worker_s"] else None
                    ),
                )
                scaling.append(row)
                _say(f"scaling: {row}")
        finally:
            workers.stop()
        results["scaling"] = scaling

        workers = Workers(args.backfill_latency, child_env, home)
        try:
            workers.grow_to(args.backfill_workers, server.api_url)
            count = len(queue) if args.backfill == 0 else min(args.backfill, len(queue))
            row = _draft(queue, count)
        finally:
            workers.stop()
        rate = row["drafts"] / row["wall_s"]
        row.update(
            workers=args.backfill_workers,
            latency_s=args.backfill_latency,
            drafts_per_min=round(rate * 60, 1),
            corpus_changes=results["changes_material"],
            corpus_hours_at_this_rate=round(results["changes_material"] / rate / 3600, 2),
        )
        results["backfill"] = row
        _say(f"backfill: {row}")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
