"""``clausewatch publish``, ``digest`` and ``subscribers`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from publication_support import seed
from typer.testing import CliRunner

from clausewatch.cli import app
from storage.db import session_scope

runner = CliRunner()


def test_subscribers_add_list_remove(workspace: Path) -> None:
    added = runner.invoke(
        app,
        [
            "subscribers",
            "add",
            "--webhook",
            "https://hooks.example.org/cw?token=abc",
            "--platform",
            "nimbus-ai",
            "--category",
            "training-use",
            "--min-exposure",
            "high",
            "--name",
            "legal team",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "subscriber 1 added: webhook alert" in added.output
    assert "signing secret (keep it; shown once): " in added.output
    mail = runner.invoke(app, ["subscribers", "add", "--email", "dpo@example.org", "--digest"])
    assert mail.exit_code == 0, mail.output

    listed = runner.invoke(app, ["subscribers", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["id"], r["channel"], r["mode"]) for r in rows] == [
        (1, "webhook", "alert"),
        (2, "email", "digest"),
    ]
    assert rows[0]["target"] == "https://hooks.example.org/…"  # no token shown
    assert rows[0]["min_exposure"] == "High" and rows[0]["categories"] == ["training-use"]

    removed = runner.invoke(app, ["subscribers", "remove", "1"])
    assert removed.exit_code == 0
    assert [
        r["id"] for r in json.loads(runner.invoke(app, ["subscribers", "list", "--json"]).output)
    ] == [2]


def test_subscribers_bad_input_is_a_clear_error(workspace: Path) -> None:
    from clausewatch.errors import InputError

    for args, reason in (
        (["--email", "not-an-address"], "not an e-mail address"),
        (["--webhook", "ftp://example.org/x"], "webhook URL must be http(s)"),
        (["--email", "a@example.org", "--category", "nonsense"], "unknown categories nonsense"),
        (["--email", "a@example.org", "--min-exposure", "extreme"], "minimum exposure"),
        ([], "exactly one of"),
    ):
        result = runner.invoke(app, ["subscribers", "add", *args])
        assert isinstance(result.exception, InputError), args
        assert reason in str(result.exception)
    gone = runner.invoke(app, ["subscribers", "remove", "42"])
    assert isinstance(gone.exception, InputError)


def test_publish_and_digest_commands(workspace: Path, tmp_path: Path) -> None:
    with session_scope() as session:
        seed(session)
    out = tmp_path / "site"
    first = runner.invoke(app, ["publish", "--out", str(out), "--no-alerts"])
    assert first.exit_code == 0, first.output
    assert "3 analyses" in first.output and "0 removed" in first.output
    assert "alerts:" not in first.output
    assert (out / "index.html").exists() and (out / "data/dataset.json").exists()
    second = runner.invoke(app, ["publish", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert "0 files written" in second.output
    assert "alerts: 0 sent" in second.output
    digest = runner.invoke(app, ["digest", "--now", "2026-03-11"])
    assert digest.exit_code == 0, digest.output
    assert "digest 2026-W10: 0 sent" in digest.output
    bad = runner.invoke(app, ["digest", "--now", "next tuesday"])
    assert "ISO 8601" in str(bad.exception)
