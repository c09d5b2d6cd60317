"""The rendering fetcher: pages that need JavaScript, rendered by the system Chromium.

Every request the page makes goes through the SSRF guard and the size and time limits;
downloads are refused; without a browser the fetch fails with a clear, recorded reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server
from sqlalchemy import select
from typer.testing import CliRunner
from wall_pages import POLICY_CLAUSES, cloudflare_challenge, spa_script, spa_shell

from clausewatch.archive.fetch import Fetcher
from clausewatch.archive.render import Renderer
from clausewatch.archive.track import track_source
from clausewatch.cli import app
from clausewatch.core.errors import InputError
from clausewatch.core.settings import Settings, reset_settings
from clausewatch.schemas.sources import SourceDecl
from clausewatch.storage.db import session_scope
from clausewatch.storage.models.archive import FetchAttempt, Version

HTML = {"Content-Type": "text/html; charset=utf-8"}
JS = {"Content-Type": "text/javascript"}


def settings(tmp_path: Path, **kw: object) -> Settings:
    base: dict[str, object] = {
        "home": tmp_path / "home",
        "allow_private_addresses": True,
        "fetch_backoff_s": 0.0,
        "fetch_timeout_s": 10.0,
        "fetch_retries": 0,
        "render_settle_s": 2.0,
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_BACKOFF_S", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_RETRIES", "0")
    monkeypatch.setenv("CLAUSEWATCH_FETCH_TIMEOUT_S", "10")
    monkeypatch.setenv("CLAUSEWATCH_RENDER_SETTLE_S", "2")
    reset_settings()


def _spa_routes(srv) -> None:  # type: ignore[no-untyped-def]
    srv.routes["/privacy"] = Reply(200, spa_shell(), HTML)
    srv.routes["/static/app.js"] = Reply(200, spa_script(), JS)
    data = {"title": "Privacy Policy", "clauses": POLICY_CLAUSES}
    srv.routes["/api/policy"] = Reply(
        200, json.dumps(data).encode(), {"Content-Type": "application/json"}
    )


@pytest.mark.chromium
def test_track_renders_a_page_whose_text_is_inserted_by_script(
    workspace: Path, loopback: None
) -> None:
    with http_server() as srv:
        _spa_routes(srv)
        plain = SourceDecl(platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"))
        rendered = plain.model_copy(update={"doc_type": "ai_policy", "render": True})
        # without rendering, the shell is an "enable JavaScript" wall, never a version
        shell = track_source(session_scope, plain, now=datetime(2026, 3, 1))
        assert shell.status == "failed" and "JavaScript" in (shell.reason or "")
        assert srv.hits["/static/app.js"] == 0
        first = track_source(session_scope, rendered, now=datetime(2026, 3, 1))
        assert first.status == "new", first.reason
        assert srv.hits["/static/app.js"] == 1 and srv.hits["/api/policy"] == 1
        again = track_source(session_scope, rendered, now=datetime(2026, 3, 2))
        assert again.status == "unchanged", again.reason
        # the page's own requests ask for the same language as the fetcher
        assert all(r["accept-language"].startswith("en-US") for r in srv.requests)
        # a challenge stays a challenge in a browser too: a failure, never a version
        srv.routes["/privacy"] = Reply(200, cloudflare_challenge(), HTML)
        walled = track_source(session_scope, rendered, now=datetime(2026, 3, 3))
        assert walled.status == "failed" and "Cloudflare" in (walled.reason or "")
        assert srv.hits["/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"] == 1
    with session_scope() as s:
        versions = s.scalars(select(Version)).all()
        assert len(versions) == 1
        text = versions[0].markdown
        assert all(clause in text for clause in POLICY_CLAUSES)
        assert "enable JavaScript to run this app" not in text and "Pricing" not in text


@pytest.mark.chromium
def test_every_request_of_the_page_goes_through_the_guard(tmp_path: Path) -> None:
    """The main document is allowed (fetched for this test with private addresses allowed);
    every request the page then makes is vetted again: loopback is refused, so none of them
    reaches the server, whatever its kind (script, fetch, image, WebSocket, frame)."""
    with http_server() as srv:
        page = f"""<!doctype html><html><head><title>Terms</title>
<script src="/static/app.js"></script></head><body><main><h1>Terms</h1>
<p id="t">These terms govern your use of Nimbus.</p></main>
<img src="/pixel.png"><iframe src="/frame"></iframe>
<script>
fetch("/secret").then(r => r.text()).then(t => {{ document.getElementById("t").textContent = t; }});
fetch("file:///etc/passwd").catch(() => 0);
try {{ new WebSocket("ws://127.0.0.1:{srv.port}/ws"); }} catch (e) {{}}
</script></body></html>""".encode()
        srv.routes["/terms"] = Reply(200, page, HTML)
        srv.routes["/secret"] = Reply(200, b"internal admin token", {"Content-Type": "text/plain"})
        guarded = settings(tmp_path, allow_private_addresses=False)
        with (
            Fetcher(settings(tmp_path)) as main_fetcher,
            Renderer(guarded, fetcher=main_fetcher) as renderer,
        ):
            result = renderer.fetch(srv.url("/terms"), wait_for=["main"])
        html = result.body.decode()
        assert "These terms govern your use of Nimbus." in html
        assert "internal admin token" not in html
        assert srv.hits["/terms"] == 1
        for path in ("/secret", "/static/app.js", "/pixel.png", "/frame", "/ws"):
            assert srv.hits[path] == 0, path


@pytest.mark.chromium
def test_size_cap_applies_to_the_page_as_a_whole(tmp_path: Path) -> None:
    """Also: rendering works from a thread that runs an event loop (as Prefect's may)."""
    with http_server() as srv:
        page = (
            b"<!doctype html><html><body><main><p>Short page.</p></main>"
            b'<script>fetch("/big").then(r => r.text())</script></body></html>'
        )
        srv.routes["/p"] = Reply(200, page, HTML)
        srv.routes["/big"] = Reply(200, b"x" * 300_000, {"Content-Type": "text/plain"})

        async def in_a_loop() -> None:
            with Renderer(settings(tmp_path, fetch_max_bytes=100_000)) as renderer:
                renderer.fetch(srv.url("/p"))

        with pytest.raises(InputError, match="size cap"):
            asyncio.run(in_a_loop())
        assert srv.hits["/big"] == 1


@pytest.mark.chromium
def test_slow_requests_time_out_and_downloads_are_refused(tmp_path: Path) -> None:
    with http_server() as srv:
        page = b"""<!doctype html><html><body><main><p id="t">Policy text.</p></main><script>
fetch("/slow").then(r => r.text()).then(t => { document.getElementById("t").textContent = t; });
setTimeout(() => { location.href = "/export.zip"; }, 100);
</script></body></html>"""
        srv.routes["/p"] = Reply(200, page, HTML)
        srv.routes["/slow"] = Reply(200, b"late text", {"Content-Type": "text/plain"}, delay_s=6)
        srv.routes["/export.zip"] = Reply(
            200,
            b"PK\x03\x04 not really a zip",
            {"Content-Type": "application/zip", "Content-Disposition": "attachment"},
        )
        started = time.monotonic()
        with Renderer(settings(tmp_path, fetch_timeout_s=2.0, render_settle_s=1.0)) as r:
            result = r.fetch(srv.url("/p"))
        elapsed = time.monotonic() - started
        assert srv.hits["/export.zip"] == 1 and srv.hits["/slow"] == 1
    html = result.body.decode()
    assert "Policy text." in html and "late text" not in html
    assert result.url == srv.url("/p")  # the download did not replace the page
    assert elapsed < 3 * 2.0 + 20  # the render's budget, plus starting the browser


def test_rendering_needs_an_http_url(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    with Renderer(settings(tmp_path)) as r, pytest.raises(InputError, match="http"):
        r.fetch(page.as_uri())


def test_no_browser_is_a_clear_recorded_failure(
    db_workspace: Path, loopback: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_CHROMIUM", str(db_workspace / "no-chromium-here"))
    reset_settings()
    with http_server() as srv:
        _spa_routes(srv)
        src = SourceDecl(
            platform="nimbus-ai", doc_type="privacy_policy", url=srv.url("/privacy"), render=True
        )
        out = track_source(session_scope, src, now=datetime(2026, 3, 1))
        assert srv.hits["/privacy"] == 0  # nothing fetched without a browser to render it
    assert out.status == "failed" and not out.retryable
    assert "no Chromium" in (out.reason or "") and "CLAUSEWATCH_CHROMIUM" in (out.reason or "")
    with session_scope() as s:
        (attempt,) = s.scalars(select(FetchAttempt)).all()
        assert attempt.outcome == "failed" and "no Chromium" in (attempt.reason or "")


def test_browser_check_without_a_browser(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_CHROMIUM", str(workspace / "no-chromium-here"))
    reset_settings()
    result = CliRunner().invoke(app, ["browser", "check", "--json"])
    assert result.exit_code != 0
    data = json.loads(result.output[: result.output.rindex("}") + 1])
    assert data["ok"] is False and "no Chromium" in data["reason"]


@pytest.mark.chromium
def test_browser_check_renders_a_page(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import chromium_path

    monkeypatch.setenv("CLAUSEWATCH_CHROMIUM", chromium_path())
    reset_settings()
    result = CliRunner().invoke(app, ["browser", "check"])
    assert result.exit_code == 0, result.output
    assert "works" in result.output
