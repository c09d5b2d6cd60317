"""``clausewatch publish``, ``digest`` and ``subscribers`` through the real CLI app."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from publication_support import seed
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.storage.db import session_scope

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
    from clausewatch.core.errors import InputError

    for args, reason in (
        (["--email", "not-an-address"], "not an e-mail address"),
        (["--email", "Evil <a@example.org>, b@evil.example"], "one address per subscriber"),
        (["--email", "a@example.org, b@evil.example"], "not an e-mail address"),
        (["--email", "a@example.org\nBcc: b@evil.example"], "not an e-mail address"),
        (["--email", "A <a@example.org> <b@evil.example>"], "not an e-mail address"),
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


def test_subscribers_add_refuses_private_webhooks(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetcher's SSRF rules: loopback, private, link-local (cloud metadata), local names,
    and names that resolve to any of those are refused when the subscriber is added."""
    from clausewatch.core.errors import InputError

    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.corp.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", int(port or 0)))]
        if host == "hooks.unresolved.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://localhost:9000/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "https://hooks.corp.example/hook",
    ):
        result = runner.invoke(app, ["subscribers", "add", "--webhook", url])
        assert isinstance(result.exception, InputError), (url, result.output)
        assert "refused" in str(result.exception), url
    listed = runner.invoke(app, ["subscribers", "list", "--json"])
    assert json.loads(listed.stdout) == []

    public = runner.invoke(app, ["subscribers", "add", "--webhook", "https://93.184.215.14/h"])
    assert public.exit_code == 0, public.output
    later = runner.invoke(
        app, ["subscribers", "add", "--webhook", "https://hooks.unresolved.example/h"]
    )
    assert later.exit_code == 0, later.output
    assert "host not found" in later.stderr and "checked at every delivery" in later.stderr


def test_email_subscriber_keeps_one_address_and_its_name(workspace: Path) -> None:
    added = runner.invoke(
        app, ["subscribers", "add", "--email", "Data Officer <DPO@Example.org>", "--digest"]
    )
    assert added.exit_code == 0, added.output
    [row] = json.loads(runner.invoke(app, ["subscribers", "list", "--json"]).stdout)
    assert (row["target"], row["name"]) == ("DPO@example.org", "Data Officer")
