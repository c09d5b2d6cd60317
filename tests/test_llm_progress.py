"""clausewatch.llm.progress: progress callbacks by context, per-draft budgets, measured speed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from clausewatch.core.errors import TransientError
from clausewatch.llm import progress
from clausewatch.llm.progress import (
    BudgetExceeded,
    CallProgress,
    StallTimeout,
    check_budget,
    draft_budget,
    measured_speed,
    record_speed,
    remaining_budget,
    report,
    reporting,
)


@pytest.fixture(autouse=True)
def _runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_LLM_RUNTIME_DIR", str(tmp_path / "rt"))
    progress.reset_speed()


def test_updates_reach_the_callbacks_of_the_context_only() -> None:
    outer: list[CallProgress] = []
    inner: list[CallProgress] = []
    report(CallProgress("queued"))  # nobody listening: nothing happens
    with reporting(outer.append):
        report(CallProgress("queued", queue_position=1))
        with reporting(inner.append):
            report(CallProgress("generating", tokens_generated=5, tokens_per_s=2.5))
        report(CallProgress("done"))
    report(CallProgress("done"))
    assert [p.phase for p in outer] == ["queued", "generating", "done"]
    assert [p.phase for p in inner] == ["generating"]
    assert inner[0].tokens_generated == 5


def test_other_threads_do_not_see_this_context() -> None:
    seen: list[CallProgress] = []
    with reporting(seen.append):
        thread = threading.Thread(target=report, args=(CallProgress("prompt"),))
        thread.start()
        thread.join()
    assert seen == []


def test_a_failing_callback_does_not_break_the_call() -> None:
    seen: list[CallProgress] = []

    def broken(_: CallProgress) -> None:
        raise RuntimeError("display crashed")

    with reporting(seen.append), reporting(broken):
        report(CallProgress("prompt"))
    assert len(seen) == 1


def test_budget_nests_keeping_the_earlier_deadline() -> None:
    assert remaining_budget() is None
    check_budget()  # no budget: never raises
    with draft_budget(100):
        left = remaining_budget()
        assert left is not None and 99 < left <= 100
        with draft_budget(1000):
            inner = remaining_budget()
            assert inner is not None and inner <= 100
        with draft_budget(0.05):
            time.sleep(0.06)
            with pytest.raises(BudgetExceeded):
                check_budget()
        check_budget()
    assert remaining_budget() is None


def test_errors_are_transient_but_not_retried() -> None:
    assert isinstance(StallTimeout("x"), TransientError)
    assert isinstance(BudgetExceeded("x"), TransientError)
    assert StallTimeout("x").retryable is False
    assert StallTimeout("x", retryable=True).retryable is True
    assert BudgetExceeded("x").retryable is False


def test_measured_speed_in_process_then_from_disk() -> None:
    assert measured_speed() is None
    record_speed(6.4, backend="local", model="m")
    assert measured_speed() == 6.4
    assert measured_speed("local") == 6.4
    progress.reset_speed()  # a new process: reads what the last one recorded
    assert measured_speed() == 6.4
    assert measured_speed("openai-compatible") is None
    record_speed(0.0)
    assert measured_speed() == 6.4
