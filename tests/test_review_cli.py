"""The review CLI: users, queue, decisions, audit export, and redrafts through drafting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drafting_support import CLAUSE, answer
from review_helpers import PASSWORD, add_user, context, seed_draft, stub_drafting_retrieval
from typer.testing import CliRunner, Result

from clausewatch.cli import app
from clausewatch.review import service
from clausewatch.review.errors import ReviewError
from clausewatch.storage.db import session_scope


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
    add_user("erin")
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
    blank = run("review", "reject", str(r), "--reason", " ", "--as", "erin")
    assert "reason is required" in str(blank.exception)
    assert run("review", "reject", str(r), "--reason", "Off topic.", "--as", "erin").exit_code == 0
    queued = run(
        "review", "redraft", str(d), "--instructions", "Be precise.", "--queue-only", "--as", "erin"
    )
    assert queued.exit_code == 0 and "requested" in queued.output
    twice = run("review", "approve", str(a), "--as", "erin")
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
    from clausewatch.llm import fake

    ctx = context(after=CLAUSE)
    ctx["change"] = None
    with session_scope() as db:
        old = seed_draft(db, platform="acme", ctx=ctx)
    add_user("erin")
    new_title = "Business API data: the agreement is not public"
    with fake.scripted([answer(title=new_title)]) as llm:
        result = run(
            "review",
            "redraft",
            str(old),
            "--instructions",
            "Say the agreement is not public.",
            "--as",
            "erin",
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


def main_output(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the installed entry point (clausewatch.cli:main) in-process: exit code, stderr."""
    import sys

    from clausewatch.cli import main

    argv = sys.argv
    sys.argv = ["clausewatch", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    return code, capsys.readouterr().err


HUGE = "99999999999999999999"


def test_draft_ids_beyond_the_database_range_are_one_line_errors(
    db_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user("erin")
    commands = [
        ("review", "show", HUGE),
        ("review", "show", HUGE, "--json"),
        ("review", "approve", HUGE, "--as", "erin"),
        ("review", "reject", HUGE, "--reason", "Off topic.", "--as", "erin"),
        ("review", "redraft", HUGE, "--instructions", "x", "--queue-only", "--as", "erin"),
        ("review", "audit", HUGE),
        ("review", "show", str(2**31)),
    ]
    for args in commands:
        code, err = main_output(capsys, *args)
        assert code == 2, args
        assert err.strip() == f"error: no draft {args[2]}", args


def test_no_traceback_from_the_command_itself(workspace: Path) -> None:
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "CLAUSEWATCH_HOME": str(workspace)}
    done = subprocess.run(
        [sys.executable, "-m", "clausewatch", "review", "show", HUGE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: no draft {HUGE}"]


def test_the_cli_decides_only_as_an_existing_user_allowed_to_decide(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clausewatch.storage.models.review import User

    with session_scope() as db:
        a, r, d = (seed_draft(db) for _ in range(3))
        db.add(User(name="guest", role="reader", password_hash="x"))  # a role that may not decide
    add_user("erin")
    monkeypatch.setattr("getpass.getuser", lambda: "osuser")
    refused = [
        (("review", "approve", str(a), "--as", "nobody"), "nobody"),
        (("review", "reject", str(r), "--reason", "No.", "--as", "nobody"), "nobody"),
        (
            ("review", "redraft", str(d), "--instructions", "x", "--queue-only", "--as", "nobody"),
            "nobody",
        ),
        (("review", "approve", str(a)), "osuser"),  # no --as: the login name, not a review user
        (("review", "approve", str(a), "--as", "guest"), "guest"),
    ]
    for args, who in refused:
        code, err = main_output(capsys, *args)
        assert code == 2, args
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert repr(who) in err, err
    with session_scope() as db:
        for draft_id in (a, r, d):
            draft = service.get_draft(db, draft_id)
            assert draft.status == "pending" and draft.decided_by is None
            assert [e.action for e in service.events_of(db, draft_id)] == ["drafted"]
    # the login name is used when it is a review user
    add_user("osuser")
    assert main_output(capsys, "review", "approve", str(a))[0] == 0
    assert (
        main_output(capsys, "review", "reject", str(r), "--reason", "No.", "--as", "erin")[0] == 0
    )
    with session_scope() as db:
        assert service.get_draft(db, a).decided_by == "osuser"
        assert service.get_draft(db, r).decided_by == "erin"
        events = service.audit_export(db)["events"]
        assert {(e["draft_id"], e["actor"]) for e in events if e["action"] != "drafted"} == {
            (a, "osuser"),
            (r, "erin"),
        }
