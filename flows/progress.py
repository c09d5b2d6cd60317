"""Progress of a flow for people: a rich display on a terminal, lines in a log otherwise.

Tasks call ``report(stage, advance=..., total=...)``; the monitoring flow's drafting state
(``flows.live.RunProgress``) is shown through the same display. The CLI installs one with
``use(display)``: ``RichDisplay`` on a terminal, ``LineDisplay`` when output goes to a file or
a pipe (cron, CI). Whatever the display (none under a Prefect worker), the same events are
logged as lines by the ``clausewatch.run`` logger (``NARRATIVE``), which ``flows.observe``
sends to the flow run's log on the Prefect API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from clausewatch.flows.budget import minutes
from clausewatch.flows.live import DraftState, RunProgress

log = logging.getLogger("clausewatch.run")

LINE_INTERVAL_S = 30.0  # while a draft generates, at most one line per draft this often


class Display(Protocol):
    def stage(self, stage: str, advance: float, total: float | None, note: str | None) -> None: ...

    def drafts(self, run: RunProgress, state: DraftState | None) -> None: ...

    def message(self, text: str) -> None: ...


def describe(state: DraftState) -> str:
    """``generating 140 tokens, 6.3 tok/s`` and the like."""
    if state.phase == "waiting":
        return "waiting"
    if state.phase == "queued":
        where = f" (position {state.queue_position})" if state.queue_position else ""
        return f"queued for the model{where}"
    if state.phase == "prompt":
        size = f" ({state.prompt_tokens} tokens)" if state.prompt_tokens else ""
        return f"reading the prompt{size}"
    speed = f", {state.tokens_per_s:.1f} tok/s" if state.tokens_per_s else ""
    if state.phase == "generating":
        return f"generating: {state.tokens_generated} tokens{speed}"
    if state.phase == "deferred":
        return "left for the next run"
    took = f" in {minutes(state.seconds)}" if state.seconds is not None else ""
    return f"{state.outcome or state.phase}{took}"


def eta_text(run: RunProgress) -> str:
    counts = run.counts()
    left = counts["total"] - counts["done"] - counts["deferred"]
    if left <= 0:
        return "all done" if not counts["deferred"] else f"{counts['deferred']} deferred"
    eta = run.eta_s()
    return f"{left} to go, ETA ~{minutes(eta)}" if eta is not None else f"{left} to go"


class RichDisplay:
    """A bar per stage and a row per draft (phase, tokens, tokens/s), with the run's ETA."""

    KEEP_FINISHED = 8

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._stages: dict[str, TaskID] = {}
        self._drafts: dict[int, TaskID] = {}
        self._finished: list[int] = []
        self._note: str | None = None
        self._lock = threading.Lock()

    def stage(self, stage: str, advance: float, total: float | None, note: str | None) -> None:
        with self._lock:
            if stage not in self._stages:
                self._stages[stage] = self.progress.add_task(stage, total=total)
            description = f"{stage} [dim]{note}[/dim]" if note is not None else None
            self.progress.update(
                self._stages[stage], advance=advance, total=total, description=description
            )

    def message(self, text: str) -> None:
        self.progress.console.print(text, style="dim", markup=False, highlight=False)

    def drafts(self, run: RunProgress, state: DraftState | None) -> None:
        counts = run.counts()
        with self._lock:
            if "draft analyses" not in self._stages:
                self._stages["draft analyses"] = self.progress.add_task("draft analyses")
            self.progress.update(
                self._stages["draft analyses"],
                total=counts["total"] - counts["deferred"],
                completed=counts["done"],
                description=f"draft analyses [dim]{eta_text(run)}[/dim]",
            )
        if state is None:
            if run.note and run.note != self._note:
                self._note = run.note
                self.progress.console.print(run.note, style="yellow", markup=False)
            return
        if state.phase in ("waiting", "deferred"):
            return
        with self._lock:
            label = (
                f"  change {state.change_id} [dim]{escape(state.label)}[/dim]: "
                f"{escape(describe(state))}"
            )
            task = self._drafts.get(state.change_id)
            if task is None:
                task = self.progress.add_task(label, total=1)
                self._drafts[state.change_id] = task
            done = state.phase in ("done", "failed")
            self.progress.update(task, description=label, completed=1 if done else 0)
            if done and state.change_id not in self._finished:
                self._finished.append(state.change_id)
                if len(self._finished) > self.KEEP_FINISHED:
                    old = self._finished.pop(0)
                    self.progress.remove_task(self._drafts.pop(old))


class LineDisplay:
    """One line per event, flushed as it happens: for logs, pipes, cron and CI."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.emit = emit
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[int, tuple[str, float]] = {}
        self._note: str | None = None
        self._lock = threading.Lock()

    def message(self, text: str) -> None:
        self.emit(text)

    def stage(self, stage: str, advance: float, total: float | None, note: str | None) -> None:
        if stage == "draft analyses":
            return  # drafting has its own lines
        parts = [stage]
        if note:
            parts.append(note)
        self.emit(": ".join(parts))

    def drafts(self, run: RunProgress, state: DraftState | None) -> None:
        with self._lock:
            if state is None:
                if run.note and run.note != self._note:
                    self._note = run.note
                    self.emit(run.note)
                return
            if state.phase in ("waiting", "deferred"):
                return
            now = self.clock()
            last = self._last.get(state.change_id)
            if last is not None and last[0] == state.phase and now - last[1] < self.interval_s:
                return
            self._last[state.change_id] = (state.phase, now)
        total = run.counts()["total"]
        line = f"draft {state.position}/{total} change {state.change_id} ({state.label}): "
        line += describe(state)
        if state.phase in ("done", "failed"):
            line += f"; {eta_text(run)}"
        self.emit(line)


def log_line(line: str) -> None:
    """One line of a run's narrative: the ``clausewatch.run`` logger (the flow run's log)."""
    log.info(line)


# stage events as log lines, beside whatever display shows them to people (a run's drafting
# lines come from its own LineDisplay(log_line): see flows.monitor)
NARRATIVE = LineDisplay(log_line)


_lock = threading.Lock()
_display: Display | None = None
_run: RunProgress | None = None


@contextmanager
def use(display: Display) -> Iterator[None]:
    global _display
    with _lock:
        _display = display
    try:
        yield
    finally:
        with _lock:
            _display = None


def installed() -> Display | None:
    with _lock:
        return _display


def report(
    stage: str, *, advance: float = 0, total: float | None = None, note: str | None = None
) -> None:
    with _lock:
        display = _display
    if display is not None:
        display.stage(stage, advance, total, note)
    NARRATIVE.stage(stage, advance, total, note)


@contextmanager
def tracking(run: RunProgress) -> Iterator[RunProgress]:
    """Make ``run`` the drafting state draft tasks of this process report to."""
    global _run
    with _lock:
        _run = run
    try:
        yield run
    finally:
        with _lock:
            _run = None


def current_run() -> RunProgress | None:
    with _lock:
        return _run


def rich_progress(console: object) -> Progress:
    from rich.console import Console

    assert isinstance(console, Console)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
