"""End to end in a real browser: Playwright driving Debian's chromium against uvicorn."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_helpers import add_user, analysis, seed_draft

from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CLAUSEWATCH_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.chromium
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(workspace: Path) -> Iterator[str]:
    import uvicorn

    from clausewatch.review.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_editor_edits_and_approves_a_draft_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    from clausewatch.storage.db import session_scope

    add_user("erin", "editor")
    with session_scope() as db:
        target = seed_draft(db)
        other = seed_draft(
            db,
            platform="cirrus",
            data=analysis(
                title="Cirrus may train on <b>prompts</b> unless you opt out",
                exposure={"level": "High", "rationale": "Training use by default."},
                categories=["training-use", "user-choice"],
            ),
        )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{server}/queue")
            expect(page).to_have_url(f"{server}/login?next=%2Fqueue")
            page.fill("#username", "erin")
            page.fill("#password", "correct horse battery")
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{server}/queue")
            expect(page.locator("tr[data-href]")).to_have_count(2)
            page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)

            page.click(f"a[href='/drafts/{target}']")
            expect(page.locator("h1")).to_contain_text("separate processing agreement")
            expect(page.locator(".diff ins", has_text="90")).to_have_count(1)
            expect(page.locator(".diff del", has_text="30")).to_have_count(1)
            page.fill("#f-title", "Enterprise API data: separate agreement, 90-day retention")
            page.keyboard.press("Control+s")  # the keyboard shortcut submits the edit form
            expect(page.locator(".flash-ok")).to_contain_text("Saved: title")
            expect(page.locator(".audit")).to_contain_text("90-day retention")
            page.screenshot(path=str(ARTIFACTS / "review-draft.png"), full_page=True)
            page.screenshot(path=str(ARTIFACTS / "review-draft-top.png"))

            page.click("#approve-btn")
            expect(page).to_have_url(f"{server}/queue")
            expect(page.locator(".flash-ok")).to_contain_text(f"Draft #{target} approved")
            expect(page.locator(f"a[href='/drafts/{target}']")).to_have_count(0)
            expect(page.locator(f"a[href='/drafts/{other}']")).to_have_count(1)
            expect(page.locator(".row-link").first).to_have_text(
                "Cirrus may train on <b>prompts</b> unless you opt out"
            )
            page.screenshot(path=str(ARTIFACTS / "review-after-approve.png"), full_page=True)
            assert errors == []  # no CSP violations or script errors
        finally:
            browser.close()

    from clausewatch.review import service

    with session_scope() as db:
        draft = service.get_draft(db, target)
        assert draft.status == "approved"
        assert draft.decided_by == "erin"
        assert draft.analysis is not None
        assert draft.analysis["title"].endswith("90-day retention")
        actions = [(e.action, e.field) for e in service.events_of(db, target)]
        assert actions == [("drafted", None), ("edit", "title"), ("approve", "status")]
