"""Live state of a run's drafting: per draft its phase, tokens and speed, and an ETA.

The monitoring flow owns one ``RunProgress``; draft tasks feed it the ``CallProgress``
updates of their LLM calls; displays (``flows.progress``) and the run row in the database
(``clausewatch status``) read its ``snapshot()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from clausewatch.flows.budget import DraftBudget, estimate_from_speed

ACTIVE = ("waiting", "queued", "prompt", "generating")
RECENT_FINISHED = 8  # finished drafts kept in a snapshot


@dataclass
class DraftState:
    change_id: int
    label: str
    position: int  # 1-based order in the run
    phase: str = "waiting"  # waiting | queued | prompt | generating | done | failed | deferred
    queue_position: int | None = None
    prompt_tokens: int = 0
    tokens_generated: int = 0
    tokens_per_s: float | None = None
    started: float | None = None  # wall clock
    seconds: float | None = None
    outcome: str | None = None  # pending | flagged | failed


Listener = Callable[["RunProgress", DraftState | None], None]


@dataclass
class RunProgress:
    run_id: int
    budget: DraftBudget
    concurrency: int = 1
    drafts: dict[int, DraftState] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    note: str | None = None  # the plan or the deferral line
    clock: Callable[[], float] = time.time
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- changes from the flow and the draft tasks ---------------------------------------
    def plan(self, items: list[tuple[int, str]]) -> None:
        with self._lock:
            for position, (change_id, label) in enumerate(items, start=1):
                self.drafts[change_id] = DraftState(change_id, label, position)
        self._notify(None)

    def set_note(self, note: str) -> None:
        with self._lock:
            self.note = note
        self._notify(None)

    def started(self, change_id: int) -> None:
        self._change(change_id, phase="queued", started=self.clock())

    def call(self, change_id: int, phase: str, **fields: Any) -> None:
        """An LLM call's progress (``llm.progress.CallProgress`` fields)."""
        if phase == "done":
            return  # a draft may make several calls (re-asks): only finished() ends it
        self._change(change_id, phase=phase, **fields)

    def finished(self, change_id: int, outcome: str, seconds: float) -> None:
        phase = "failed" if outcome == "failed" else "done"
        self._change(change_id, phase=phase, outcome=outcome, seconds=round(seconds, 1))

    def deferred(self, change_ids: list[int]) -> None:
        with self._lock:
            for change_id in change_ids:
                if change_id in self.drafts:
                    self.drafts[change_id].phase = "deferred"
        self._notify(None)

    def _change(self, change_id: int, **fields: Any) -> None:
        with self._lock:
            state = self.drafts.get(change_id)
            if state is None:
                return
            for key, value in fields.items():
                setattr(state, key, value)
        self._notify(state)

    def _notify(self, state: DraftState | None) -> None:
        for listener in list(self.listeners):
            listener(self, state)

    # -- reading -----------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self._lock:
            phases = [d.phase for d in self.drafts.values()]
        return {
            "total": len(phases),
            "done": sum(p in ("done", "failed") for p in phases),
            "active": sum(p in ACTIVE[1:] for p in phases),
            "waiting": phases.count("waiting"),
            "deferred": phases.count("deferred"),
        }

    def estimate_s(self) -> float | None:
        """Seconds per draft: the budget's estimate, else one from the speed the drafts in
        progress report (the first draft of a run on a fresh machine)."""
        estimate = self.budget.estimate_s()
        if estimate is not None:
            return estimate
        with self._lock:
            speeds = [
                d.tokens_per_s
                for d in self.drafts.values()
                if d.phase in ACTIVE[1:] and d.tokens_per_s
            ]
        return estimate_from_speed(sum(speeds) / len(speeds)) if speeds else None

    def eta_s(self) -> float | None:
        """Seconds until the drafts not yet finished (and not deferred) are done."""
        estimate = self.estimate_s()
        if estimate is None:
            return None
        now = self.clock()
        with self._lock:
            active = [d for d in self.drafts.values() if d.phase in ACTIVE[1:]]
            waiting = sum(d.phase == "waiting" for d in self.drafts.values())
        left = sum(max(0.0, estimate - (now - (d.started or now))) for d in active)
        return (left + waiting * estimate) / max(1, self.concurrency)

    def speed_text(self) -> str | None:
        """``"6.3 tok/s"``: the mean generation speed the drafts of this run reported."""
        with self._lock:
            speeds = [d.tokens_per_s for d in self.drafts.values() if d.tokens_per_s]
        return f"{sum(speeds) / len(speeds):.1f} tok/s" if speeds else None

    def snapshot(self) -> dict[str, Any]:
        """JSON for the run row: counts, ETA, the active and the latest finished drafts."""
        with self._lock:
            states = sorted(self.drafts.values(), key=lambda d: d.position)
            active = [asdict(d) for d in states if d.phase in ACTIVE[1:]]
            finished = [asdict(d) for d in states if d.phase in ("done", "failed")]
        eta = self.eta_s()
        estimate = self.estimate_s()
        return {
            "updated_at": self.clock(),
            **self.counts(),
            "eta_s": None if eta is None else round(eta),
            "seconds_per_draft": None if estimate is None else round(estimate, 1),
            "budget_s": self.budget.budget_s,
            "elapsed_s": round(self.budget.elapsed_s),
            "note": self.note,
            "active": active,
            "finished": finished[-RECENT_FINISHED:],
        }
