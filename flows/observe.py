"""What a flow run shows in Prefect: its log lines and a Markdown summary artifact.

**Logs.** While a flow runs, ``run_logs()`` sends every ``clausewatch.*`` log record at INFO
and above to that flow run's log on the Prefect API (the UI's run page), through Prefect's own
``APILogHandler``. It does not depend on ``PREFECT_LOGGING_LEVEL`` (the CLI quiets Prefect's
console with it), on ``PREFECT_LOGGING_EXTRA_LOGGERS`` being set before Prefect was imported,
or on the record being made inside a run context: a record from a thread of ours (model
streaming, progress writers) is attributed to the run in progress. The console shows exactly
what it showed before (warnings and errors, unless logging was configured lower).

**Artifact.** ``summary_artifact(summary)`` publishes the run summary (versions, changes,
drafts, failures, LLM calls, tokens and time) as a Markdown artifact of the flow run, under a
fixed key so the UI's Artifacts page keeps its history across runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from clausewatch.schemas.runs import RunSummary

LOGGER = "clausewatch"
log = logging.getLogger("clausewatch.flows")

MONITOR_ARTIFACT_KEY = "clausewatch-monitor-summary"


def _in_run_context() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def _current_flow_run_id() -> UUID | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    flow_run = getattr(context, "flow_run", None)
    return flow_run.id if flow_run is not None else None


class _ToPrefect(logging.Handler):
    """Hands records to Prefect's API log handler, naming the flow run when the record was
    made outside any run context (a thread of ours) and exactly one run is in progress."""

    def __init__(self) -> None:
        from prefect.logging.handlers import APILogHandler

        super().__init__(level=logging.INFO)
        self.api = APILogHandler()
        self.runs: list[UUID] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "flow_run_id", None) and not _in_run_context():
            if len(self.runs) != 1:
                return  # no run, or several: which one it belongs to is unknown
            record.__dict__["flow_run_id"] = self.runs[0]  # as `extra=` would; read by Prefect
        self.api.handle(record)


class _ToParent(logging.Handler):
    """Propagation as before: a record goes on to the root logger's handlers when it is at or
    above the level its logger had (``threshold``, the ``clausewatch`` logger's former
    effective level, unless a logger below it has a level of its own)."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def _level_before(self, name: str) -> int:
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None and logger.name != LOGGER:
            if logger.level:
                return logger.level
            logger = logger.parent
        return self.threshold

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= self._level_before(record.name):
            logging.getLogger().handle(record)


_lock = threading.Lock()
_handler: _ToPrefect | None = None
_saved: tuple[int, bool, _ToParent | None] | None = None


def _install(run_id: UUID) -> None:
    global _handler, _saved
    logger = logging.getLogger(LOGGER)
    if _handler is None:
        _handler = _ToPrefect()
        logger.addHandler(_handler)
        bridge = None
        threshold = logger.getEffectiveLevel()
        saved_level, saved_propagate = logger.level, logger.propagate
        if threshold > logging.INFO:
            # INFO records must be made for the API, without reaching the console
            logger.setLevel(logging.INFO)
            if logger.propagate:
                bridge = _ToParent(threshold)
                logger.addHandler(bridge)
                logger.propagate = False
        _saved = (saved_level, saved_propagate, bridge)
    _handler.runs.append(run_id)


def _uninstall(run_id: UUID) -> None:
    global _handler, _saved
    logger = logging.getLogger(LOGGER)
    if _handler is None:
        return
    if run_id in _handler.runs:
        _handler.runs.remove(run_id)
    if _handler.runs:
        return
    logger.removeHandler(_handler)
    _handler = None
    if _saved is not None:
        level, propagate, bridge = _saved
        if bridge is not None:
            logger.removeHandler(bridge)
        logger.setLevel(level)
        logger.propagate = propagate
        _saved = None


@contextmanager
def run_logs() -> Iterator[None]:
    """Inside a flow: ``clausewatch.*`` log records go to this flow run's Prefect log."""
    run_id = _current_flow_run_id()
    if run_id is None:  # not in a flow run (a plain call in a test): nothing to attach to
        yield
        return
    with _lock:
        _install(run_id)
    try:
        yield
    finally:
        with _lock:
            _uninstall(run_id)


# ---------------------------------------------------------------------------------------------
# the run summary as Markdown

_MD_SPECIAL = set("\\`*_{}[]()#+!|<>~")


def cell(text: object, limit: int = 300) -> str:
    """``text`` as inert Markdown table-cell text: one line, specials escaped, bounded.

    Failure reasons can quote fetched pages (untrusted): nothing in them may become a link,
    an image, HTML or a new table cell."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    out = []
    for ch in flat:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _table(rows: list[tuple[str, str]]) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {label} | {value} |" for label, value in rows)]


def summary_markdown(summary: RunSummary) -> str:
    """The monitoring run summary as Markdown: totals, then failures and drafts."""
    s, llm = summary, summary.llm
    rows = [
        ("status", f"**{cell(s.status)}**"),
        (
            "versions",
            f"{s.new_versions} new, {s.imported_versions} imported from history, "
            f"{s.unchanged} unchanged, {s.suspect} held until seen again",
        ),
        ("clauses embedded", str(s.embedded)),
        (
            "changes",
            f"{s.changes_pending} to draft, {s.drafts_deferred} left for the next run",
        ),
        (
            "drafts",
            f"{s.drafts_created} queued for review, {s.drafts_flagged} flagged for an editor, "
            f"{s.redrafts} redrafts",
        ),
        ("failures", str(len(s.failures))),
        (
            "LLM",
            f"{llm.calls} calls ({llm.failed} failed, {llm.invalid} invalid), "
            f"{llm.tokens_in:,} tokens in, {llm.tokens_out:,} out, "
            f"{s.llm_seconds:.1f} s drafting",
        ),
        ("time", f"{s.seconds:.1f} s"),
    ]
    lines = [f"# Monitoring run {s.run_id}: {cell(s.status)}", "", *_table(rows)]
    if s.deferred_reason:
        lines += ["", cell(s.deferred_reason, 1000)]
    if llm.last_error:
        lines += ["", f"Last LLM error ({cell(llm.last_error_at)}): {cell(llm.last_error, 500)}"]
    if s.failures:
        lines += ["", "## Failures", "", "| stage | item | reason |", "|---|---|---|"]
        lines += [f"| {cell(f.stage)} | {cell(f.item)} | {cell(f.reason)} |" for f in s.failures]
    if s.drafts:
        lines += [
            "",
            "## Drafts",
            "",
            "| change | draft | status | tokens in / out | seconds |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {d.change_id} | {d.draft_id if d.draft_id is not None else '-'} | "
            f"{cell(d.status)} | {d.tokens_in:,} / {d.tokens_out:,} | {d.seconds:.1f} |"
            for d in s.drafts
        ]
    return "\n".join(lines) + "\n"


def mapping_markdown(title: str, data: Mapping[str, Any]) -> str:
    """A flat two-column table of a flow's summary (nested mappings one level deep)."""
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            rows += [(cell(f"{key} {k}"), cell(v)) for k, v in value.items()]
        else:
            rows.append((cell(key), cell(value)))
    return "\n".join([f"# {cell(title)}", "", *_table(rows)]) + "\n"


def artifact(markdown: str, key: str, description: str) -> None:
    """A Markdown artifact of the current flow run; a failure is logged, never raised (the
    run's work is done and recorded whatever happens to its report)."""
    from prefect.artifacts import create_markdown_artifact

    if _current_flow_run_id() is None:
        return
    try:
        create_markdown_artifact(markdown=markdown, key=key, description=description)
    except Exception as exc:
        log.warning("could not create the run summary artifact: %s", exc)


def summary_artifact(summary: RunSummary) -> None:
    artifact(
        summary_markdown(summary),
        MONITOR_ARTIFACT_KEY,
        f"clausewatch monitoring run {summary.run_id}: {summary.status}",
    )
