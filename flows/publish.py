"""Publication flows: build the static site and send same-day alerts; the weekly digest."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from clausewatch.flows import observe
from clausewatch.flows.progress import report
from clausewatch.flows.retry import only_transient
from clausewatch.flows.runs import finish_run, start_run
from clausewatch.storage.db import session_scope
from clausewatch.storage.files import site_url


@task(name="build-site", cache_policy=NO_CACHE, retries=1, retry_condition_fn=only_transient)
def build_site(out_dir: str) -> dict[str, Any]:
    from clausewatch.publication.site import build_site as build

    with session_scope() as session:
        result = build(session, out_dir)
    report("build site", advance=1, total=1)
    return {"written": result.written, "unchanged": result.unchanged, "removed": result.removed}


@task(name="same-day-alerts", cache_policy=NO_CACHE, retries=1, retry_condition_fn=only_transient)
def same_day_alerts() -> dict[str, Any]:
    from clausewatch.publication.alerts import send_same_day_alerts

    with session_scope() as session:
        result = send_same_day_alerts(session)
    report("send alerts", advance=1, total=1)
    return {**result.summary(), "errors": result.errors}


@task(name="weekly-digest", cache_policy=NO_CACHE, retries=1, retry_condition_fn=only_transient)
def weekly_digest() -> dict[str, Any]:
    from clausewatch.publication.digest import send_weekly_digest

    with session_scope() as session:
        result = send_weekly_digest(session)
    report("send digest", advance=1, total=1)
    return {**result.summary(), "errors": result.errors}


def _run(flow_name: str, steps: dict[str, Any]) -> dict[str, Any]:
    """Run ``steps`` in order, recorded in ``runs``; in Prefect, clausewatch's log lines go to
    the flow run's log and the summary to a Markdown artifact (``flows.observe``)."""
    with observe.run_logs():
        run_id = start_run(flow_name)
        summary: dict[str, Any] = {"run_id": run_id}
        status = "ok"
        try:
            for name, step in steps.items():
                summary[name] = step()
        except BaseException as exc:
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            summary["error"] = str(exc) or type(exc).__name__
            raise
        finally:
            finish_run(run_id, status, summary)
            observe.artifact(
                observe.mapping_markdown(f"{flow_name} run {run_id}: {status}", summary),
                f"clausewatch-{flow_name}-summary",
                f"clausewatch {flow_name} run {run_id}: {status}",
            )
    return summary


@flow(name="publish")
def publish_flow(out_dir: str | None = None, alerts: bool = True) -> dict[str, Any]:
    """Approved analyses -> provision pages, timelines, topics, dataset, feeds; then alerts."""
    target = out_dir or site_url()
    steps: dict[str, Any] = {"site": lambda: build_site(target)}
    if alerts:
        steps["alerts"] = same_day_alerts
    return _run("publish", steps)


@flow(name="digest")
def digest_flow() -> dict[str, Any]:
    """The weekly digest for subscribers who chose it."""
    return _run("digest", {"digest": weekly_digest})
