"""The drafting budget of a run: start a draft only when it can finish within the budget.

The first draft always starts (a run never ends with nothing drafted because the model was
slow); each later one starts only when the time spent drafting so far plus the estimated time
of one draft stays within ``CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN``. The estimate is the mean
duration of this run's finished drafts, or, before any finished, a prior estimate from the
model's measured speed. A draft that has started is never cut by the run budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class DraftBudget:
    budget_s: float
    prior_estimate_s: float | None = None  # before any draft finished (measured speed)
    clock: Callable[[], float] = time.monotonic
    started_at: float | None = None
    durations: list[float] = field(default_factory=list)
    starts: int = 0

    def begin(self) -> None:
        """Drafting starts now (the budget counts from here)."""
        if self.started_at is None:
            self.started_at = self.clock()

    @property
    def elapsed_s(self) -> float:
        return 0.0 if self.started_at is None else self.clock() - self.started_at

    def estimate_s(self) -> float | None:
        """Seconds one draft takes: this run's mean, else the prior estimate, else unknown."""
        if self.durations:
            return sum(self.durations) / len(self.durations)
        return self.prior_estimate_s

    def may_start(self) -> bool:
        """Whether the next draft may start; counts it as started when it may."""
        self.begin()
        estimate = self.estimate_s()
        allowed = self.starts == 0 or estimate is None or self.elapsed_s + estimate <= self.budget_s
        if allowed:
            self.starts += 1
        return allowed

    def finished(self, seconds: float) -> None:
        self.durations.append(max(0.0, seconds))

    def queue_s(self, drafts: int) -> float | None:
        """Estimated seconds to draft ``drafts`` more, one at a time."""
        estimate = self.estimate_s()
        return None if estimate is None else estimate * drafts


# a draft's usual size when this workspace has none yet (the sample's drafts, local model)
TYPICAL_TOKENS_IN = 1500
TYPICAL_TOKENS_OUT = 600
PROMPT_SPEEDUP = 3.0  # llama.cpp on a CPU reads a prompt ~3x faster than it generates


def estimate_from_speed(
    tokens_per_s: float | None,
    tokens_in: float = TYPICAL_TOKENS_IN,
    tokens_out: float = TYPICAL_TOKENS_OUT,
) -> float | None:
    """Seconds one draft takes at a measured generation speed (``None``: not measured)."""
    if not tokens_per_s or tokens_per_s <= 0:
        return None
    return tokens_out / tokens_per_s + tokens_in / (tokens_per_s * PROMPT_SPEEDUP)


def minutes(seconds: float) -> str:
    """``"45 s"``, ``"4 min 05 s"``, ``"12 min"``, ``"1 h 05 min"``: durations people read."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 600:
        whole = round(seconds)
        return f"{whole // 60} min {whole % 60:02d} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def deferral_line(deferred: int, total: int, budget: DraftBudget, speed: str | None) -> str:
    """The one line a run prints when it leaves changes for the next run."""
    estimate = budget.estimate_s()
    per_draft = f"~{minutes(estimate)} per draft" if estimate is not None else "speed unknown"
    if speed:
        per_draft += f" at {speed}"
    return (
        f"{deferred} of {total} changes left pending for the next run: the drafting budget of "
        f"{minutes(budget.budget_s)} (CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN) was reached after "
        f"{minutes(budget.elapsed_s)} ({per_draft}); the highest-exposure changes were drafted "
        "first"
    )
