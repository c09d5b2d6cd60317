"""The review CLI: users, queue, decisions, audit export, and redrafts through drafting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drafting_support import CLAUSE, answer
from review_helpers import PASSWORD, context, seed_draft, stub_drafting_retrieval
from typer.testing import CliRunner, Result

from clausewatch.cli import app
from review import service
from review.errors import ReviewError
from storage.db import session_scope


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})


def test_users_add_list_remove(workspace: Path) -> None:
    added = run("users", "add", "ann", "--role", "admin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "user ann added (admin)" in added.output
    assert run("users", "add", "bob", stdin=PASSWORD + "\n").exit_code == 0
    short = run("users", "add", "cat", stdin="short\n")
    assert isinstance(short.exception, ReviewError) and "at least 8" in str(short.exception)
    empty = run("users", "add", "dan", stdin="")
    assert empty.exit_code != 0 and "no password" in str(empty.exception)
    listed = json.loads(run("users", "list", "--json").output)
    assert [(u["name"], u["role"]) for u in listed] == [("ann", "admin"), ("bob", "editor")]
    assert "PASSWORD" not in run("users", "list").output
    assert run("users", "passwd", "bob", stdin="a brand new pw\n").exit_code == 0
    assert run("users", "remove", "bob").exit_code == 0
    last = run("users", "remove", "ann")
    assert "last admin" in str(last.exception)
    assert [u["name"] for u in json.loads(run("users", "list", "--json").output)] == ["ann"]


def test_review_list_show_decide_and_audit(workspace: Path, tmp_path: Path) -> None:
    with session_scope() as db:
        a, r, d = (seed_draft(db) for _ in range(3))
    listed = json.loads(run("review", "list", "--json").output)
    assert [x["id"] for x in listed["drafts"]] == [d, r, a]
    assert listed["counts"]["open"] == 3
    table = run("review", "list")
    assert table.exit_code == 0 and "Enterprise API data" in table.output
    shown = json.loads(run("review", "show", str(a), "--json").output)
    assert shown["analysis"]["exposure"]["level"] == "Medium"
    assert shown["events"][0]["action"] == "drafted"
    assert "Business customers of the Nimbus API" in run("review", "show", str(a)).output

    assert run("review", "approve", str(a), "--as", "erin").exit_code == 0
    missing = run("review", "reject", str(r))
    assert missing.exit_code == 2  # --reason is required
    blank = run("review", "reject", str(r), "--reason", " ")
    assert "reason is required" in str(blank.exception)
    assert run("review", "reject", str(r), "--reason", "Off topic.", "--as", "erin").exit_code == 0
    queued = run("review", "redraft", str(d), "--instructions", "Be precise.", "--queue-only")
    assert queued.exit_code == 0 and "requested" in queued.output
    twice = run("review", "approve", str(a))
    assert "only pending or flagged" in str(twice.exception)
    assert "no draft 999" in str(run("review", "show", "999").exception)

    left = json.loads(run("review", "list", "--json").output)
    assert left["drafts"] == [] and left["counts"]["approved"] == 1
    out = tmp_path / "audit.json"
    exported = run("review", "audit", "-o", str(out))
    assert exported.exit_code == 0
    events = json.loads(out.read_text())["events"]
    assert [(e["draft_id"], e["action"]) for e in events if e["action"] != "drafted"] == [
        (a, "approve"),
        (r, "reject"),
        (d, "redraft_request"),
    ]
    one = json.loads(run("review", "audit", str(r)).output)
    assert {e["draft_id"] for e in one["events"]} == {r}
    with session_scope() as db:
        assert service.get_draft(db, a).decided_by == "erin"


@pytest.fixture
def stub_retrieval(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_drafting_retrieval(monkeypatch)


def test_redraft_runs_drafting_and_the_new_draft_joins_the_queue(
    workspace: Path, stub_retrieval: None
) -> None:
    from llm import fake

    ctx = context(after=CLAUSE)
    ctx["change"] = None
    with session_scope() as db:
        old = seed_draft(db, platform="acme", ctx=ctx)
    new_title = "Business API data: the agreement is not public"
    with fake.scripted([answer(title=new_title)]) as llm:
        result = run(
            "review", "redraft", str(old), "--instructions", "Say the agreement is not public."
        )
    assert result.exit_code == 0, result.output
    assert "Say the agreement is not public." in llm.requests[0].messages[1]["content"]
    with session_scope() as db:
        assert service.get_draft(db, old).status == "superseded"
        (new,) = service.redrafts_of(db, old)
        assert f"new draft(s) in the queue: #{new}" in result.output
        queue = service.list_drafts(db)
        assert [(s.id, s.title, s.redraft_of) for s in queue] == [(new, new_title, old)]
        actions = [e.action for e in service.events_of(db, old)]
        assert actions == ["drafted", "redraft_request", "superseded"]
