"""A monitoring run on the sample with the scripted LLM: exposure-first drafting within the
drafting budget, progress lines as they happen, and live progress for ``clausewatch status``.

Nothing here depends on speed: the budget is 0 (only the first draft may start) or large.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import clausewatch.flows.cli
from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from clausewatch.drafting.priority import load_rule
from clausewatch.flows.monitor import monitor_flow
from clausewatch.flows.tasks import clause_categories, plan_drafts
from clausewatch.llm import fake
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.progress import CallProgress, report
from clausewatch.status import collect
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Change, Clause, Draft
from tests.flows_support import responder

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _score(change_id: int) -> float:
    with session_scope() as session:
        change = session.get(Change, change_id)
        assert change is not None
        clause = session.get(Clause, change.new_clause_id or change.old_clause_id)
        [categories] = clause_categories([clause])
        return load_rule().score(categories, change.kind)


def test_budget_drafts_highest_exposure_first_and_leaves_the_rest(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN", "0")
    reset_settings()
    with fake.scripted(responder=responder):
        first = monitor_flow()
    assert first.status == "ok", first.failures
    material = first.changes_pending
    assert material >= 8
    # the first draft always gets its chance; the budget stops the rest
    assert first.drafts_created + first.drafts_flagged == 1
    assert first.drafts_deferred == material - 1
    assert first.deferred_reason is not None
    assert first.deferred_reason.startswith(f"{material - 1} of {material} changes left pending")
    [drafted] = [d.change_id for d in first.drafts]
    left = plan_drafts()
    assert len(left) == material - 1  # pending for the next run
    assert drafted not in {p.change_id for p in left}
    assert _score(drafted) >= max(p.score for p in left)  # highest exposure first
    assert [p.score for p in left] == sorted((p.score for p in left), reverse=True)

    monkeypatch.setenv("CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN", "30")
    reset_settings()
    with fake.scripted(responder=responder):
        second = monitor_flow()
    assert second.drafts_created + second.drafts_flagged == material - 1
    assert (second.drafts_deferred, second.deferred_reason) == (0, None)
    assert plan_drafts() == []


def test_progress_lines_as_they_happen_and_live_status(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a terminal: each draft's phases are written line by line while the run goes on
    (not only at the end), and the run row carries the live state ``status`` shows."""
    lines: list[str] = []
    monkeypatch.setattr(clausewatch.flows.cli, "_line", lines.append)
    seen: list[dict[str, Any]] = []

    def answering(request: LLMRequest) -> Any:
        report(CallProgress("prompt", prompt_tokens=900))
        report(CallProgress("generating", tokens_generated=37, tokens_per_s=4.2))
        with session_scope() as session:
            running = collect(session)["running"]
        seen.append({"lines": list(lines), "running": running})
        return responder(request)

    with fake.scripted(responder=answering):
        result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 0, result.output

    first = seen[0]
    # before the first answer came back, its draft was already on the log
    assert any(" queued for the model" in line for line in first["lines"])
    assert any("reading the prompt (900 tokens)" in line for line in first["lines"])
    assert any("generating: 37 tokens, 4.2 tok/s" in line for line in first["lines"])
    # ... and in the run row, for `clausewatch status`
    snap = first["running"]["progress"]
    assert snap["done"] == 0 and snap["total"] >= 8
    [active] = snap["active"]
    assert active["phase"] in ("queued", "generating")
    # later drafts know the speed: the ETA shows on the lines of finished drafts
    assert any("ETA ~" in line for line in seen[-1]["lines"])
    done = [line for line in lines if ": pending in " in line or ": flagged in " in line]
    assert len(done) == snap["total"]
    with session_scope() as session:
        assert collect(session)["running"] is None  # the run is over
        assert len(session.scalars(select(Draft)).all()) == snap["total"]
