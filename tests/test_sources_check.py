"""``clausewatch sources check``: every declared page fetched once over loopback HTTP,
its status reported, nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.settings import reset_settings
from tests.conftest import chromium_path
from tests.wall_pages import POLICY_CLAUSES, cloudflare_challenge, spa_script, spa_shell

POLICY = b"<html><body><nav>Menu</nav><main><p>We keep your data 30 days.</p></main></body></html>"
SHELL = b'<html><body><div id="root"></div><script src="/app.js"></script></body></html>'
HTML = {"Content-Type": "text/html"}


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    reset_settings()


def _declare(tmp_path: Path, url: object) -> Path:
    assert callable(url)
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"""sources:
  - {{platform: acme, doc_type: privacy_policy, url: "{url("/privacy")}", select: [main]}}
  - {{platform: acme, doc_type: terms_of_service, url: "{url("/gone")}"}}
  - {{platform: acme, doc_type: dpa, url: "{url("/dpa")}", select: [article.dpa]}}
  - {{platform: acme, doc_type: cookie_policy, url: "{url("/app")}", select: ["#root p"],
      render: true}}
  - {{platform: acme, doc_type: imprint, url: "{url("/imprint")}"}}
  - platform: acme
    doc_type: acceptable_use_policy
    parts:
      - {{url: "{url("/privacy")}", select: [main]}}
      - {{url: "{url("/busy")}"}}
""",
        encoding="utf-8",
    )
    return path


def test_check_reports_each_page(loopback: None, tmp_path: Path) -> None:
    with http_server() as srv:
        srv.routes["/privacy"] = Reply(200, POLICY, HTML)
        srv.routes["/dpa"] = Reply(200, POLICY, HTML)  # the declared selector matches nothing
        srv.routes["/app"] = Reply(200, SHELL, HTML)  # text only after JavaScript
        srv.routes["/busy"] = Reply(503, b"busy")
        srv.routes["/imprint"] = Reply(403, cloudflare_challenge(), HTML)  # a bot wall
        path = _declare(tmp_path, srv.url)
        args = ["sources", "check", str(path), "--json", "--retries", "0", "--workers", "3"]
        result = CliRunner().invoke(app, [*args, "--no-render"])
        hits = dict(srv.hits)
    assert result.exit_code == 1, result.output  # a page failed
    report = json.loads(result.stdout)
    pages = [(p["doc_type"], p["part"], p["status"], p["http_status"]) for p in report["pages"]]
    assert pages == [
        ("privacy_policy", 1, "ok", 200),
        ("terms_of_service", 1, "failed", 404),
        ("dpa", 1, "failed", 200),
        ("cookie_policy", 1, "unrendered", 200),
        ("imprint", 1, "failed", 403),
        ("acceptable_use_policy", 1, "ok", 200),
        ("acceptable_use_policy", 2, "failed", 503),
    ]
    assert (report["ok"], report["unrendered"], report["failed"]) == (2, 1, 4)
    assert report["pages"][0]["words"] == 6
    assert "matched nothing" in report["pages"][2]["reason"]
    assert "JavaScript" in report["pages"][3]["reason"]
    assert hits["/busy"] == 1 and hits["/privacy"] == 2  # once per page, no retry
    assert not (tmp_path / "home" / "clausewatch.db").exists()  # nothing recorded


def test_check_table_and_success_exit(loopback: None, tmp_path: Path) -> None:
    with http_server() as srv:
        srv.routes["/privacy"] = Reply(200, POLICY, HTML)
        path = tmp_path / "ok.yaml"
        url = srv.url("/privacy")
        decl = f'  - {{platform: acme, doc_type: privacy_policy, url: "{url}"}}\n'
        path.write_text(f"sources:\n{decl}", encoding="utf-8")
        result = CliRunner().invoke(app, ["sources", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "acme/privacy_policy" in result.stdout
    assert "ok: 1, unrendered (need JavaScript): 0, walls: 0, failed: 0" in result.stdout


@pytest.mark.chromium
def test_check_renders_pages_that_need_javascript(
    loopback: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose text a script inserts is ok when rendered, unrendered without the
    browser; a challenge served with 200 is reported as the wall it is."""
    monkeypatch.setenv("CLAUSEWATCH_CHROMIUM", chromium_path())
    reset_settings()
    with http_server() as srv:
        srv.routes["/privacy"] = Reply(200, spa_shell(), HTML)
        srv.routes["/static/app.js"] = Reply(200, spa_script(), {"Content-Type": "text/javascript"})
        data = json.dumps({"title": "Privacy Policy", "clauses": POLICY_CLAUSES}).encode()
        srv.routes["/api/policy"] = Reply(200, data, {"Content-Type": "application/json"})
        srv.routes["/terms"] = Reply(200, cloudflare_challenge(), HTML)
        path = tmp_path / "spa.yaml"
        privacy, terms = srv.url("/privacy"), srv.url("/terms")
        path.write_text(
            "sources:\n"
            f'  - {{platform: nimbus-ai, doc_type: privacy_policy, url: "{privacy}",'
            " select: [main], render: true}\n"
            f'  - {{platform: nimbus-ai, doc_type: terms_of_service, url: "{terms}"}}\n',
            encoding="utf-8",
        )
        rendered = CliRunner().invoke(app, ["sources", "check", str(path), "--json"])
        static = CliRunner().invoke(app, ["sources", "check", str(path), "--json", "--no-render"])
    assert rendered.exit_code == 1, rendered.output  # the wall
    pages = json.loads(rendered.stdout)["pages"]
    assert pages[0]["status"] == "ok" and pages[0]["rendered"], pages[0]
    assert pages[0]["words"] > 100
    assert pages[1]["status"] == "wall" and pages[1]["http_status"] == 200
    unrendered = json.loads(static.stdout)["pages"][0]
    assert unrendered["status"] == "unrendered" and not unrendered["rendered"]
