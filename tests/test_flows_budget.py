"""The drafting budget, the exposure-first order and the progress a run shows (no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clausewatch.core.errors import ConfigError
from clausewatch.drafting.priority import Candidate, PriorityRule, load_rule, rank
from clausewatch.flows.budget import DraftBudget, deferral_line, estimate_from_speed
from clausewatch.flows.live import RunProgress
from clausewatch.flows.progress import LineDisplay
from clausewatch.status import running_lines


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_draft_always_starts_even_past_the_budget() -> None:
    clock = Clock()
    budget = DraftBudget(budget_s=0.0, prior_estimate_s=3600.0, clock=clock)
    assert budget.may_start()  # the first draft gets its chance
    clock.now += 600
    budget.finished(600)
    assert not budget.may_start()


def test_budget_admits_drafts_while_they_fit() -> None:
    clock = Clock()
    budget = DraftBudget(budget_s=30 * 60, clock=clock)
    started = 0
    while budget.may_start():
        started += 1
        clock.now += 8 * 60  # every draft takes 8 minutes
        budget.finished(8 * 60)
        assert started < 100
    # 8, 16, 24 min elapsed: a 4th draft would end at 32 min > 30
    assert started == 3
    assert budget.estimate_s() == 8 * 60


def test_unknown_speed_does_not_stop_drafting() -> None:
    budget = DraftBudget(budget_s=60, clock=Clock())
    assert budget.may_start() and budget.may_start()  # nothing measured: no cut yet


def test_prior_estimate_from_measured_speed() -> None:
    assert estimate_from_speed(None) is None
    assert estimate_from_speed(0.0) is None
    slow, fast = estimate_from_speed(0.7), estimate_from_speed(19.0)
    assert slow is not None and fast is not None and slow > 25 * fast
    assert estimate_from_speed(10.0, tokens_in=300, tokens_out=500) == pytest.approx(60.0)


def test_deferral_line_says_how_many_and_why() -> None:
    clock = Clock()
    budget = DraftBudget(budget_s=30 * 60, clock=clock)
    budget.begin()
    clock.now += 29 * 60
    budget.finished(29 * 60)
    line = deferral_line(7, 8, budget, "0.7 tok/s")
    assert line.startswith("7 of 8 changes left pending for the next run")
    assert "CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN" in line and "0.7 tok/s" in line
    assert "30 min" in line and "highest-exposure" in line


def test_shipped_rule_ranks_exposure_first() -> None:
    rule = load_rule()
    candidates = [
        Candidate(1, "modified", ("governing-law",), recency=3.0),
        Candidate(2, "modified", ("training-use",), recency=1.0),
        Candidate(3, "removed", ("arbitration",), recency=2.0),
        Candidate(4, "added", (), recency=4.0),
        Candidate(5, "modified", ("data-collection", "limitation-of-liability"), recency=1.0),
    ]
    assert [c.change_id for c in rank(candidates, rule)] == [2, 3, 5, 1, 4]


def test_rule_ties_go_newest_first() -> None:
    rule = PriorityRule(version=1, categories={"training-use": 5})
    older = Candidate(1, "modified", ("training-use",), recency=1.0)
    newer = Candidate(2, "modified", ("training-use",), recency=2.0)
    assert [c.change_id for c in rank([older, newer], rule)] == [2, 1]


def test_rule_file_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "rule.yaml"
    bad.write_text("version: 1\ncategories:\n  no-such-category: 3\n")
    with pytest.raises(ConfigError, match="no-such-category"):
        load_rule(bad)


def _run(clock: Clock, concurrency: int = 1) -> RunProgress:
    budget = DraftBudget(budget_s=3600, clock=clock)
    run = RunProgress(7, budget, concurrency=concurrency, clock=clock)
    run.plan([(11, "nimbus-ai/privacy_policy modified"), (12, "quillstone/terms added")])
    return run


def test_eta_from_finished_drafts() -> None:
    clock = Clock()
    run = _run(clock)
    assert run.eta_s() is None  # nothing measured yet
    run.budget.may_start()
    run.started(11)
    run.call(11, "generating", tokens_generated=20, tokens_per_s=10.0)
    # the first draft's speed gives an ETA before any draft finished
    assert run.estimate_s() == pytest.approx(estimate_from_speed(10.0))
    assert run.eta_s() == pytest.approx(2 * (estimate_from_speed(10.0) or 0))
    clock.now += 100
    run.budget.finished(100)
    run.finished(11, "pending", 100)
    assert run.eta_s() == pytest.approx(100)  # one draft left at 100 s each
    run.started(12)
    clock.now += 40
    assert run.eta_s() == pytest.approx(60)
    snap = run.snapshot()
    assert (snap["done"], snap["active"][0]["change_id"], snap["eta_s"]) == (1, 12, 60)


def test_line_display_emits_each_phase_and_throttles_tokens() -> None:
    clock = Clock()
    lines: list[str] = []
    display = LineDisplay(lines.append, interval_s=30, clock=clock)
    run = _run(clock)
    run.listeners.append(display.drafts)
    run.started(11)
    run.call(11, "prompt", prompt_tokens=1200)
    run.call(11, "generating", tokens_generated=1, tokens_per_s=None)
    for n in range(2, 50):  # many token updates within the interval: one line
        run.call(11, "generating", tokens_generated=n, tokens_per_s=6.0)
    clock.now += 31
    run.call(11, "generating", tokens_generated=200, tokens_per_s=6.3)
    run.call(11, "done")
    run.budget.finished(31)
    run.finished(11, "pending", 31)
    assert lines == [
        "draft 1/2 change 11 (nimbus-ai/privacy_policy modified): queued for the model",
        "draft 1/2 change 11 (nimbus-ai/privacy_policy modified): reading the prompt (1200 tokens)",
        "draft 1/2 change 11 (nimbus-ai/privacy_policy modified): generating: 1 tokens",
        "draft 1/2 change 11 (nimbus-ai/privacy_policy modified): generating: 200 tokens, "
        "6.3 tok/s",
        "draft 1/2 change 11 (nimbus-ai/privacy_policy modified): pending in 31 s; "
        "1 to go, ETA ~31 s",
    ]


def test_status_lines_for_a_run_in_progress() -> None:
    clock = Clock()
    run = _run(clock)
    run.budget.may_start()
    run.started(11)
    clock.now += 90
    run.budget.finished(90)
    run.finished(11, "flagged", 90)
    run.started(12)
    run.call(12, "generating", tokens_generated=42, tokens_per_s=5.5)
    clock.now += 30
    running = {"id": 7, "flow": "monitor", "started_at": "2026-12-02T07:00:00"}
    lines = running_lines({**running, "progress": run.snapshot()}, now=clock.now + 5)
    assert lines[0] == (
        "run #7 (monitor) in progress since 2026-12-02T07:00:00: drafts 1/2 done, "
        "ETA ~60 s (~1 min 30 s per draft); updated 5 s ago"
    )
    assert lines[1] == (
        "  draft 2/2 change 12 (quillstone/terms added): generating: 42 tokens, 5.5 tok/s"
    )
    assert running_lines({**running, "progress": None})[0].endswith("not drafting yet")
