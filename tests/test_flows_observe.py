"""What a flow run shows in Prefect: clausewatch's log lines, a summary artifact, its state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow

from clausewatch.core.settings import SAMPLE_SOURCES
from clausewatch.flows import observe
from clausewatch.flows.monitor import RunIncomplete, monitor_flow
from clausewatch.flows.publish import publish_flow
from clausewatch.llm import fake
from clausewatch.schemas.runs import DraftResult, Failure, LLMUsage, RunSummary
from tests.flows_support import responder

pytestmark = pytest.mark.usefixtures("prefect_harness")

SAMPLE_HISTORY = SAMPLE_SOURCES.parent / "history"


@contextmanager
def prefect_console_quiet() -> Iterator[None]:
    """What ``clausewatch run`` does (PREFECT_LOGGING_LEVEL=WARNING): Prefect's own run
    loggers drop INFO lines, so they can carry none of clausewatch's to the API."""
    logger = logging.getLogger("prefect")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(saved)


def _logs(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the API log worker sends in batches
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs]


def _artifacts(flow_run_id: UUID, key: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    with get_client(sync_client=True) as client:
        return list(
            client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            )
        )


def test_log_lines_of_a_run_reach_its_prefect_log_even_from_our_threads(
    workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    probe_log = logging.getLogger("clausewatch.probe")
    chatty = logging.getLogger("clausewatch.chatty")  # configured by the user: INFO shown
    caplog.set_level(logging.INFO, logger="clausewatch.chatty")
    before = (logging.getLogger("clausewatch").level, logging.getLogger("clausewatch").propagate)

    @flow(name="probe")
    def probe() -> None:
        with observe.run_logs():
            probe_log.info("said in the flow")
            thread = threading.Thread(target=lambda: probe_log.info("said in a thread of ours"))
            thread.start()
            thread.join()
            probe_log.debug("below INFO: not sent")
            probe_log.warning("a warning")
            chatty.info("chatty info")

    with prefect_console_quiet():
        state = probe(return_state=True)
    lines = _logs(state.state_details.flow_run_id)  # type: ignore[arg-type]
    assert {"said in the flow", "said in a thread of ours", "a warning"} <= set(lines)
    assert "below INFO: not sent" not in lines
    # the console (root handlers) saw what it would have seen without the run's logs
    shown = [r.getMessage() for r in caplog.records if r.name.startswith("clausewatch")]
    assert shown == ["a warning", "chatty info"]
    # afterwards, logging is as it was
    after = (logging.getLogger("clausewatch").level, logging.getLogger("clausewatch").propagate)
    assert after == before
    probe_log.info("after the run")  # no run: nothing is sent, nothing breaks


def _sources(tmp_path: Path) -> Path:
    good = tmp_path / "privacy.html"
    good.write_bytes((SAMPLE_HISTORY.parent / "live" / "helix-labs" / "privacy.html").read_bytes())
    junk = tmp_path / "junk.html"
    junk.write_bytes(b"\x00\x01\x02\xff" * 200)  # binary junk: a recorded failure
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - platform: helix-labs\n    doc_type: privacy_policy\n    url: {good.as_uri()}\n"
        f"  - platform: gone-ai\n    doc_type: privacy_policy\n    url: {junk.as_uri()}\n"
    )
    return sources


@pytest.mark.slow
def test_a_partial_monitoring_run_in_prefect_logs_summary_artifact_and_state(
    workspace: Path, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    with prefect_console_quiet(), fake.scripted(responder=responder):
        state = monitor_flow(
            sources_file=str(_sources(tmp_path)),
            history_dir=str(SAMPLE_HISTORY),
            return_state=True,
        )
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    incomplete = state.result(raise_on_failure=False)
    assert isinstance(incomplete, RunIncomplete)
    summary = incomplete.summary
    assert summary.status == "partial" and summary.drafts_created + summary.drafts_flagged > 0

    # the state on the server says what happened
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(run_id).state
    assert stored is not None and stored.is_failed() and stored.name == "Partial"
    assert "gone-ai/privacy_policy" in (stored.message or "")

    lines = _logs(run_id)
    assert "fetch sources: helix-labs/privacy_policy" in lines
    assert any(line.startswith("draft 1/") and "change" in line for line in lines), lines
    assert any(line.startswith(f"monitoring run {summary.run_id} partial:") for line in lines)
    assert any(line.startswith("llm call ") for line in lines)  # clausewatch.llm, a module logger

    (artifact,) = _artifacts(run_id, observe.MONITOR_ARTIFACT_KEY)
    assert artifact.type == "markdown"
    text = str(artifact.data)
    assert text.startswith(f"# Monitoring run {summary.run_id}: partial")
    assert f"{summary.new_versions} new, {summary.imported_versions} imported" in text
    assert f"{summary.llm.tokens_in:,} tokens in" in text and summary.llm.tokens_in > 0
    assert "gone-ai/privacy\\_policy" in text  # the failure, escaped
    assert f"| {summary.drafts[0].change_id} |" in text


def test_publish_runs_leave_a_summary_artifact(workspace: Path, tmp_path: Path) -> None:
    state = publish_flow(out_dir=str(tmp_path / "site"), alerts=False, return_state=True)
    assert state.is_completed()
    (artifact,) = _artifacts(state.state_details.flow_run_id, "clausewatch-publish-summary")  # type: ignore[arg-type]
    assert "| site written |" in str(artifact.data)


def test_the_summary_markdown_is_inert_and_complete() -> None:
    summary = RunSummary(
        run_id=7,
        status="partial",
        new_versions=2,
        imported_versions=1,
        unchanged=3,
        changes_pending=4,
        drafts_created=1,
        drafts_flagged=1,
        drafts_deferred=2,
        llm_seconds=12.5,
        seconds=30.0,
        llm=LLMUsage(calls=3, failed=1, tokens_in=12345, tokens_out=678),
        failures=[
            Failure(
                stage="track",
                item="evil/terms_of_service",
                reason="<img src=x onerror=alert(1)> | [click](http://evil.example) ![i](x)\nline",
            )
        ],
        drafts=[DraftResult(change_id=11, draft_id=5, status="pending", tokens_in=10)],
    )
    text = observe.summary_markdown(summary)
    assert text.startswith("# Monitoring run 7: partial\n")
    for part in (
        "| versions | 2 new, 1 imported from history, 3 unchanged",
        "| changes | 4 to draft, 2 left for the next run |",
        "| drafts | 1 queued for review, 1 flagged for an editor",
        "| LLM | 3 calls (1 failed, 0 invalid), 12,345 tokens in, 678 out, 12.5 s drafting |",
        "| time | 30.0 s |",
        "| 11 | 5 | pending | 10 / 0 | 0.0 |",
    ):
        assert part in text, text
    (failure_row,) = [line for line in text.splitlines() if "evil" in line]
    reason = failure_row.split(" | ", 2)[2]
    assert "<" not in reason and "](" not in reason and "![" not in reason
    assert reason.count("|") == reason.count("\\|") + 1  # only the row's closing bar is bare
