"""The monitoring run: track -> detect changes -> index -> retrieve + draft -> review queue."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from archive.selection import configured_refs, is_sample
from clausewatch.settings import SAMPLE_SOURCES, get_settings
from flows import tasks
from flows.progress import report
from flows.runs import finish_run, start_run
from schemas.runs import DraftResult, Failure, RunSummary, TrackResult
from storage.runlock import run_lock

SAMPLE_HISTORY = SAMPLE_SOURCES.parent / "history"


def _failure(stage: str, item: str, exc: BaseException) -> Failure:
    return Failure(
        stage=stage,
        item=item,
        reason=str(exc) or type(exc).__name__,
        retryable=bool(getattr(exc, "retryable", False)),
    )


RUNNER: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(max_workers=4)


@flow(name="monitor", task_runner=RUNNER, log_prints=False)  # type: ignore[arg-type]
def monitor_flow(
    sources_file: str | None = None,
    history_dir: str | None = None,
    backend: str | None = None,
    max_drafts: int | None = None,
    sources: list[str] | None = None,
) -> RunSummary:
    """One pass of the whole pipeline over the declared sources.

    ``sources``: bundled list names and declaration files (see archive.selection); else
    ``sources_file``; else the configured selection.

    Per-document and per-change failures are recorded and never stop the others. One run at
    a time per database: the run lock (storage.runlock) is held for the whole pass; a run
    that cannot get it within CLAUSEWATCH_RUN_LOCK_WAIT_S fails with RunBusyError.
    """
    with run_lock(command="clausewatch monitor flow"):
        refs = list(sources) if sources else [sources_file] if sources_file else None
        return _monitor(refs or configured_refs(), history_dir, backend, max_drafts)


def _monitor(
    refs: list[str],
    history_dir: str | None,
    backend: str | None,
    max_drafts: int | None,
) -> RunSummary:
    settings = get_settings()
    started = time.monotonic()
    summary = RunSummary(run_id=start_run("monitor"))
    if history_dir is None and is_sample(refs):
        history_dir = str(SAMPLE_HISTORY)  # the shipped demo brings its earlier versions
    try:
        if history_dir:
            summary.imported_versions = tasks.import_history(history_dir)

        declared = tasks.load_sources(refs)
        tracking = [tasks.track.submit(s, len(declared)) for s in declared]
        wait(tracking)
        for source, fut in zip(declared, tracking, strict=True):
            try:
                result: TrackResult = fut.result()
            except Exception as exc:  # recorded, the other documents go on
                item = f"{source.get('platform')}/{source.get('doc_type')}"
                summary.failures.append(_failure("track", item, exc))
                continue
            summary.tracked.append(result)
            if result.outcome == "new":
                summary.new_versions += 1
            elif result.outcome == "suspect":  # held until a later fetch confirms it
                summary.suspect += 1
            elif result.outcome == "failed":
                item = f"{result.platform}/{result.doc_type}"
                summary.failures.append(
                    Failure(stage="track", item=item, reason=result.reason or "failed")
                )
            else:
                summary.unchanged += 1

        try:
            summary.embedded = tasks.index()
        except Exception as exc:  # drafting still works with fewer comparables
            summary.failures.append(_failure("index", "provisions", exc))

        try:
            summary.redrafts = tasks.redrafts(backend)
        except Exception as exc:
            summary.failures.append(_failure("redraft", "queue", exc))

        pending = tasks.pending_changes(max_drafts)
        summary.changes_pending = len(pending)
        report("draft analyses", total=len(pending))
        database = settings.db_url
        drafting = [tasks.draft.submit(cid, key, backend, database) for cid, key in pending]
        wait(drafting)
        for (change_id, key), dfut in zip(pending, drafting, strict=True):
            try:
                d: DraftResult = dfut.result()
                if not tasks.draft_exists(d.draft_id, change_id):  # stale cached result
                    d = tasks.draft.with_options(refresh_cache=True)(
                        change_id, key, backend, database
                    )
            except Exception as exc:
                summary.failures.append(_failure("draft", f"change {change_id}", exc))
                continue
            summary.drafts.append(d)
            summary.llm_seconds += d.seconds
            if d.status == "flagged":
                summary.drafts_flagged += 1
            else:
                summary.drafts_created += 1
    except BaseException as exc:  # errors, and interruptions (Ctrl-C, SIGTERM)
        summary.failures.append(_failure("run", "monitor", exc))
        summary.status = "failed" if isinstance(exc, Exception) else "interrupted"
        raise
    finally:
        if summary.status not in ("failed", "interrupted"):
            summary.status = "partial" if summary.failures else "ok"
        summary.seconds = round(time.monotonic() - started, 3)
        summary.llm_seconds = round(summary.llm_seconds, 3)
        finish_run(summary.run_id, summary.status, summary.model_dump(mode="json"))
    return summary
