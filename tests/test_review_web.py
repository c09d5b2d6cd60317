"""HTTP tests of every route of the review app (FastAPI TestClient)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from review_helpers import (
    PASSWORD,
    add_user,
    analysis,
    context,
    csrf_of,
    lock_version_of,
    login,
    page_token,
    seed_draft,
)

from clausewatch.review import service
from clausewatch.storage.db import session_scope

XSS_SCRIPT = "<script>alert('pwned')</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def app(db_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    from clausewatch.core.settings import reset_settings
    from clausewatch.review.web.app import create_app

    monkeypatch.setenv("CLAUSEWATCH_REVIEW_RUN_REDRAFTS", "false")  # on in the redraft test
    reset_settings()
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def draft_id(app: FastAPI) -> int:
    with session_scope() as db:
        return seed_draft(db)


def _routes(method: str) -> list[str]:
    """Every route of the app's routers (the app includes exactly these modules)."""
    from clausewatch.review.web import routes_admin, routes_api, routes_auth, routes_review

    return sorted(
        r.path
        for module in (routes_auth, routes_review, routes_api, routes_admin)
        for r in module.router.routes
        if isinstance(r, APIRoute) and method in (r.methods or set())
    )


def _post_routes(app: FastAPI) -> list[str]:
    return _routes("POST")


def _fill(path: str, draft_id: int, name: str = "bob") -> str:
    return path.replace("{draft_id}", str(draft_id)).replace("{name}", name)


HTML_GETS = ["/", "/queue", "/drafts/{draft_id}", "/admin/users"]
JSON_GETS = [
    "/api/drafts",
    "/api/drafts/{draft_id}",
    "/drafts/{draft_id}/audit.json",
    "/audit.json",
]


def test_route_inventory_is_what_the_tests_cover(app: FastAPI) -> None:
    from clausewatch.review.web import app as app_module

    source = Path(app_module.__file__).read_text()
    assert "(routes_auth, routes_review, routes_api, routes_admin)" in source
    gets = _routes("GET")
    assert gets == sorted([*HTML_GETS, *JSON_GETS, "/login", "/healthz"])
    assert _post_routes(app) == sorted(
        [
            "/login",
            "/logout",
            "/drafts/{draft_id}/edit",
            "/drafts/{draft_id}/approve",
            "/drafts/{draft_id}/reject",
            "/drafts/{draft_id}/redraft",
            "/admin/users",
            "/admin/users/{name}/remove",
            "/admin/users/{name}/password",
        ]
    )


def test_unauthenticated_html_redirects_to_login_and_json_gets_401(
    app: FastAPI, client: TestClient, draft_id: int
) -> None:
    for path in HTML_GETS:
        resp = client.get(_fill(path, draft_id), follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/login?next=%2F"), path
    for path in JSON_GETS:
        resp = client.get(_fill(path, draft_id), follow_redirects=False)
        assert resp.status_code == 401, path
        assert resp.json() == {"detail": "sign in required"}
    token = page_token(client, "/login")  # a session with a CSRF token, but no user
    for path in _post_routes(app):
        if path == "/login":
            continue
        resp = client.post(
            _fill(path, draft_id), data={"csrf_token": token}, follow_redirects=False
        )
        if path == "/logout":
            assert resp.status_code == 303 and resp.headers["location"] == "/login"
        else:
            assert resp.status_code == 303, path
            assert resp.headers["location"].startswith("/login?next="), path
    with session_scope() as db:
        assert service.get_draft(db, draft_id).status == "pending"
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/login").status_code == 200


def test_login_logout_and_session_cookie(client: TestClient) -> None:
    add_user("erin")
    page = client.get("/login?next=/drafts/1")
    assert 'value="/drafts/1"' in page.text
    token = csrf_of(page.text)
    bad = client.post(
        "/login", data={"username": "erin", "password": "nope-nope", "csrf_token": token}
    )
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    resp = client.post(
        "/login",
        data={
            "username": "erin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/queue"  # no open redirect
    cookie = resp.headers["set-cookie"]
    assert "clausewatch_session=" in cookie
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert client.get("/login", follow_redirects=False).status_code == 303  # already signed in
    queue = client.get("/queue")
    assert queue.status_code == 200 and "erin" in queue.text
    assert client.post("/logout", data={"csrf_token": csrf_of(queue.text)}).status_code == 200
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_login_is_rate_limited_per_user_and_address_across_restarts(
    app: FastAPI, client: TestClient
) -> None:
    from clausewatch.review.web.app import create_app

    add_user("erin")
    token = page_token(client, "/login")
    for _ in range(5):
        resp = client.post(
            "/login", data={"username": "erin", "password": "wrong-password", "csrf_token": token}
        )
        assert resp.status_code == 401
    blocked = client.post(
        "/login", data={"username": "erin", "password": PASSWORD, "csrf_token": token}
    )
    assert blocked.status_code == 429 and "too many failed logins" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    restarted = TestClient(create_app())
    token2 = page_token(restarted, "/login")
    again = restarted.post(
        "/login", data={"username": "erin", "password": PASSWORD, "csrf_token": token2}
    )
    assert again.status_code == 429


def test_editor_cannot_reach_admin_routes(app: FastAPI, client: TestClient, draft_id: int) -> None:
    add_user("erin")
    add_user("bob")
    login(client, "erin")
    token = page_token(client)
    assert client.get("/admin/users").status_code == 403
    for path in ("/admin/users", "/admin/users/{name}/remove", "/admin/users/{name}/password"):
        resp = client.post(
            _fill(path, draft_id),
            data={"csrf_token": token, "name": "mallory", "role": "admin", "password": "x" * 12},
        )
        assert resp.status_code == 403, path
    from clausewatch.review.accounts import list_users

    with session_scope() as db:
        assert [u.name for u in list_users(db)] == ["bob", "erin"]
    assert "/admin/users" not in client.get("/queue").text  # no link for editors


def test_admin_manages_users(client: TestClient) -> None:
    add_user("root", "admin")
    login(client, "root")
    page = client.get("/admin/users")
    assert page.status_code == 200
    token = csrf_of(page.text)
    added = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "name": "newbie",
            "role": "editor",
            "password": "long enough pw",
        },
    )
    assert added.status_code == 200 and "User newbie added as editor" in added.text
    short = client.post(
        "/admin/users",
        data={"csrf_token": token, "name": "x", "role": "editor", "password": "short"},
    )
    assert short.status_code == 422 and "at least 8" in short.text
    changed = client.post(
        "/admin/users/newbie/password", data={"csrf_token": token, "password": "another long pw"}
    )
    assert "Password of newbie changed" in changed.text
    other = TestClient(client.app)
    login(other, "newbie", "another long pw")
    assert other.get("/queue").status_code == 200
    client.post("/admin/users/newbie/password", data={"csrf_token": token, "password": "third pw!"})
    assert other.get("/queue", follow_redirects=False).status_code == 303  # password changed
    own = client.post(
        "/admin/users/root/password", data={"csrf_token": token, "password": "root pw 2"}
    )
    assert "Password of root changed" in own.text  # this session goes on
    login(other, "newbie", "third pw!")
    self_remove = client.post("/admin/users/root/remove", data={"csrf_token": token})
    assert self_remove.status_code == 422
    removed = client.post("/admin/users/newbie/remove", data={"csrf_token": token})
    assert "User newbie removed" in removed.text
    # the removed user's session no longer works
    assert other.get("/queue", follow_redirects=False).status_code == 303


def test_every_form_without_its_csrf_token_is_refused(
    app: FastAPI, client: TestClient, draft_id: int
) -> None:
    add_user("root", "admin")
    add_user("bob")
    login(client, "root")
    forms = {
        "title": "Changed",
        "text": "a reason",
        "name": "mallory",
        "role": "admin",
        "password": "long enough pw",
        "lock_version": "1",
        "username": "root",
    }
    for path in _post_routes(app):
        url = _fill(path, draft_id)
        missing = client.post(url, data=forms, follow_redirects=False)
        assert missing.status_code == 403, path
        assert "Form refused" in missing.text
        forged = client.post(url, data={**forms, "csrf_token": "forged"}, follow_redirects=False)
        assert forged.status_code == 403, path
    token = page_token(client)
    cross = client.post(
        f"/drafts/{draft_id}/approve",
        data={"csrf_token": token, "lock_version": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    with session_scope() as db:
        draft = service.get_draft(db, draft_id)
        assert draft.status == "pending" and draft.lock_version == 1
    from clausewatch.review.accounts import list_users

    with session_scope() as db:
        assert [u.name for u in list_users(db)] == ["bob", "root"]
    assert client.get("/queue").status_code == 200  # still signed in


def test_hostile_clause_text_is_shown_as_text(client: TestClient) -> None:
    hostile = f"We may share data {XSS_SCRIPT} with partners {XSS_IMG} at any time."
    with session_scope() as db:
        draft_id = seed_draft(
            db,
            platform="evil<b>co",
            data=analysis(title=f"Title {XSS_SCRIPT}", excerpt=hostile, summary=XSS_IMG),
            ctx=context(before="We may share data with partners.", after=hostile),
        )
    add_user("erin")
    login(client, "erin")
    for page in (client.get("/queue"), client.get(f"/drafts/{draft_id}")):
        assert page.status_code == 200
        html = page.text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
        assert "evil&lt;b&gt;co" in html
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/review.js" defer>']
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-frame-options"] == "DENY"
    api = client.get(f"/api/drafts/{draft_id}")
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["analysis"]["summary"] == XSS_IMG


def test_draft_page_shows_diff_context_provenance_and_audit(
    client: TestClient, draft_id: int
) -> None:
    add_user("erin")
    login(client, "erin")
    html = client.get(f"/drafts/{draft_id}").text
    assert "<del>30</del>" in html and "<ins>90</ins>" in html
    assert "Privacy Policy › Enterprise customers" in html
    assert "Customer Content submitted through the API is processed under the DPA." in html
    assert "gdpr:28" in html and "Processing by a processor is governed" in html
    assert "qwen2.5-coder-1.5b-instruct-q4_k_m" in html and "provision-analysis v3" in html
    assert "1834 in · 512 out" in html
    assert "drafted in 1 attempt(s)" in html  # the audit trail
    assert f'href="/drafts/{draft_id}/audit.json"' in html
    assert client.get("/drafts/999").status_code == 404
    assert client.get("/static/review.css").status_code == 200


def test_edit_validation_errors_are_shown_by_field(client: TestClient, draft_id: int) -> None:
    add_user("erin")
    login(client, "erin")
    page = client.get(f"/drafts/{draft_id}").text
    data = _form_of(page)
    data["title"] = "   "
    data["exposure-level"] = "Severe"
    data["comparisons-1-platform"] = "Only a platform"  # the blank row, half filled
    resp = client.post(f"/drafts/{draft_id}/edit", data=data)
    assert resp.status_code == 422
    assert "Not saved: fix the fields marked below." in resp.text
    assert 'id="f-title" name="title" value="   " maxlength="200" aria-invalid="true"' in resp.text
    assert 'id="err-exposure-level"' in resp.text
    assert 'id="err-comparisons-1-excerpt"' in resp.text  # mapped to the row the editor filled
    assert 'value="Only a platform"' in resp.text  # what was typed is kept
    with session_scope() as db:
        assert service.get_draft(db, draft_id).lock_version == 1


def _form_of(html: str) -> dict[str, object]:
    """The edit form's current values, as a browser would submit them."""
    form = html.split('id="edit-form"', 1)[1].split("</form>", 1)[0]
    import html as html_mod

    data: dict[str, object] = {}
    for m in re.finditer(r"<input ([^>]*)>", form):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        if "name" not in attrs:
            continue
        if attrs.get("type") == "checkbox":
            if " checked" in m.group(1):
                data.setdefault(attrs["name"], [])
                cast(list[str], data[attrs["name"]]).append(attrs["value"])
            continue
        data[attrs["name"]] = html_mod.unescape(attrs.get("value", ""))
    for m in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[m.group(1)] = html_mod.unescape(m.group(2))
    for m in re.finditer(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    return data


def test_second_of_two_concurrent_saves_is_refused(app: FastAPI, draft_id: int) -> None:
    add_user("ann")
    add_user("bob")
    ann, bob = TestClient(app), TestClient(app)
    login(ann, "ann")
    login(bob, "bob")
    ann_form = _form_of(ann.get(f"/drafts/{draft_id}").text)
    bob_form = _form_of(bob.get(f"/drafts/{draft_id}").text)
    assert ann_form["lock_version"] == bob_form["lock_version"] == "1"
    ann_form["title"] = "Ann's title"
    bob_form["title"] = "Bob's title"
    first = ann.post(f"/drafts/{draft_id}/edit", data=ann_form)
    assert first.status_code == 200 and "Saved: title" in first.text
    second = bob.post(f"/drafts/{draft_id}/edit", data=bob_form)
    assert second.status_code == 409
    assert "was changed by someone else since you opened it" in second.text
    assert "nothing was saved" in second.text
    assert 'value="Bob&#39;s title"' in second.text  # Bob's edit is still in his form
    with session_scope() as db:
        draft = service.get_draft(db, draft_id)
        assert draft.analysis is not None and draft.analysis["title"] == "Ann's title"
        edits = [e for e in service.events_of(db, draft_id) if e.action == "edit"]
        assert [(e.actor, e.field) for e in edits] == [("ann", "title")]
    # a decision taken on the stale version is refused too
    stale = bob.post(
        f"/drafts/{draft_id}/approve",
        data={"csrf_token": bob_form["csrf_token"], "lock_version": "1"},
    )
    assert stale.status_code == 409
    with session_scope() as db:
        assert service.get_draft(db, draft_id).status == "pending"


def test_decisions_through_the_web(client: TestClient) -> None:
    with session_scope() as db:
        a, r, d = (seed_draft(db) for _ in range(3))
    add_user("erin")
    login(client, "erin")
    token = page_token(client)

    def post(draft: int, action: str, text: str = "") -> Any:
        html = client.get(f"/drafts/{draft}").text
        version = lock_version_of(html)
        return client.post(
            f"/drafts/{draft}/{action}",
            data={"csrf_token": token, "lock_version": str(version), "text": text},
        )

    approved = post(a, "approve")
    assert f"Draft #{a} approved." in approved.text
    no_reason = post(r, "reject", "  ")
    assert no_reason.status_code == 422
    assert "a reason is required" in no_reason.text
    assert f"Draft #{r} rejected." in post(r, "reject", "Wrong exposure.").text
    assert post(d, "redraft").status_code == 422
    done = post(d, "redraft", "Say the agreement is not public.")
    assert "Redraft of" in done.text
    queue = client.get("/queue").text
    for draft in (a, r, d):
        assert f'href="/drafts/{draft}"' not in queue  # all left the open queue
    assert f'href="/drafts/{a}"' in client.get("/queue?status=approved").text
    again = post(a, "reject", "changed my mind")
    assert again.status_code == 409
    export = client.get(f"/drafts/{d}/audit.json")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    assert [e["action"] for e in export.json()["events"]] == ["drafted", "redraft_request"]
    assert export.json()["events"][-1]["note"] == "Say the agreement is not public."
    everything = client.get("/audit.json").json()
    assert {e["draft_id"] for e in everything["events"]} == {a, r, d}
    assert client.get("/drafts/999/audit.json").status_code == 404
    with session_scope() as db:
        assert service.get_draft(db, r).decision_reason == "Wrong exposure."
        assert service.get_draft(db, d).status == "redraft_requested"


def test_queue_filters_sorting_counts_and_json(client: TestClient) -> None:
    with session_scope() as db:
        low = seed_draft(
            db, platform="alpha", data=analysis(exposure={"level": "Low", "rationale": "r"})
        )
        high = seed_draft(
            db,
            platform="beta",
            data=analysis(categories=["arbitration"], exposure={"level": "High", "rationale": "r"}),
        )
        seed_draft(db, platform="alpha", status="rejected")
    add_user("erin")
    login(client, "erin")
    page = client.get("/queue?sort=exposure").text
    assert page.index(f'href="/drafts/{high}"') < page.index(f'href="/drafts/{low}"')
    assert re.search(r'aria-current="page">open <span class="count">2</span>', page)
    assert re.search(r'>rejected <span class="count">1</span>', page)
    only_beta = client.get("/queue?platform=beta").text
    assert f'href="/drafts/{high}"' in only_beta and f'href="/drafts/{low}"' not in only_beta
    arb = client.get("/queue?category=arbitration").text
    assert f'href="/drafts/{high}"' in arb and f'href="/drafts/{low}"' not in arb
    low_only = client.get("/queue?exposure=Low").text
    assert f'href="/drafts/{low}"' in low_only and f'href="/drafts/{high}"' not in low_only
    assert client.get("/queue?status=nonsense").status_code == 400
    assert client.get("/").url.path == "/queue"
    api = client.get("/api/drafts?sort=exposure").json()
    assert [d["id"] for d in api["drafts"]] == [high, low]
    assert api["counts"]["rejected"] == 1
    assert client.get("/api/drafts?exposure=Severe").status_code == 400
    one = client.get(f"/api/drafts/{low}").json()
    assert one["exposure"] == "Low" and one["events"][0]["action"] == "drafted"
    assert client.get("/api/drafts/999").status_code == 404


def test_redraft_request_from_the_web_brings_a_new_draft_to_the_queue(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drafting_support import CLAUSE, answer
    from review_helpers import stub_drafting_retrieval

    from clausewatch.llm import fake

    stub_drafting_retrieval(monkeypatch)
    app.state.run_redrafts = True  # the default (CLAUSEWATCH_REVIEW_RUN_REDRAFTS=true)
    ctx = context(after=CLAUSE)
    ctx["change"] = None
    with session_scope() as db:
        old = seed_draft(db, platform="acme", ctx=ctx)
    add_user("erin")
    login(client, "erin")
    html = client.get(f"/drafts/{old}").text
    with fake.scripted([answer(title="Redrafted: agreement not public")]) as llm:
        resp = client.post(
            f"/drafts/{old}/redraft",
            data={
                "csrf_token": csrf_of(html),
                "lock_version": str(lock_version_of(html)),
                "text": "Say that the agreement is not public.",
            },
        )
    assert resp.status_code == 200 and f"Redraft of #{old} requested" in resp.text
    assert len(llm.requests) == 1  # the app ran drafting after the response
    with session_scope() as db:
        (new,) = service.redrafts_of(db, old)
        assert service.get_draft(db, old).status == "superseded"
    queue = client.get("/queue").text
    assert f'href="/drafts/{new}"' in queue and "Redrafted: agreement not public" in queue
    page = client.get(f"/drafts/{new}").text
    assert f'Redraft of <a href="/drafts/{old}">#{old}</a>' in page
    assert "Say that the agreement is not public." in page


def test_session_key_is_generated_once_and_private(workspace: Path) -> None:
    from clausewatch.core.errors import ConfigError
    from clausewatch.core.settings import Settings, get_settings
    from clausewatch.review.web.secret import KEY_FILE, secret_key

    settings = get_settings()
    first = secret_key(settings)
    path = settings.home / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32 and secret_key(settings) == first  # persisted, stable
    assert secret_key(Settings(secret_key="k" * 40)) == "k" * 40
    with pytest.raises(ConfigError, match="at least 32"):
        secret_key(Settings(secret_key="short"))


def test_a_flagged_draft_can_be_written_by_the_editor_then_approved(client: TestClient) -> None:
    ctx = context()
    ctx["errors"] = ["excerpt is not a verbatim quote of the clause"]
    with session_scope() as db:
        flagged = seed_draft(db, status="flagged", data={}, ctx=ctx)
        service.get_draft(db, flagged).analysis = None  # the model never produced one
    add_user("erin")
    login(client, "erin")
    page = client.get(f"/drafts/{flagged}")
    assert page.status_code == 200
    assert "Why this draft was flagged" in page.text
    assert "excerpt is not a verbatim quote of the clause" in page.text
    form = _form_of(page.text)
    assert form["title"] == "" and "categories" not in form
    refused = client.post(
        f"/drafts/{flagged}/approve",
        data={"csrf_token": form["csrf_token"], "lock_version": form["lock_version"]},
    )
    assert refused.status_code == 409 and "does not validate" in refused.text
    written = analysis()
    form.update(
        {
            "title": written["title"],
            "categories": written["categories"],
            "summary": written["summary"],
            "key_point": written["key_point"],
            "interpretive_note": written["interpretive_note"],
            "what_this_means": written["what_this_means"],
            "excerpt": "your data is handled pursuant to the data processing agreement",
            "exposure-level": "Low",
            "exposure-rationale": written["exposure"]["rationale"],
            "contract_vendor_implications": written["contract_vendor_implications"],
            "compliance_considerations": "Ask for the agreement.\n\n  Review it yearly.  \n",
        }
    )
    saved = client.post(f"/drafts/{flagged}/edit", data=form)
    assert saved.status_code == 200 and "Saved:" in saved.text
    with session_scope() as db:
        draft = service.get_draft(db, flagged)
        assert draft.analysis is not None
        assert draft.analysis["compliance_considerations"] == [
            "Ask for the agreement.",
            "Review it yearly.",
        ]
        assert draft.analysis["change"] is None and draft.analysis["comparisons"] == []
    version = lock_version_of(saved.text)
    done = client.post(
        f"/drafts/{flagged}/approve",
        data={"csrf_token": form["csrf_token"], "lock_version": str(version)},
    )
    assert f"Draft #{flagged} approved." in done.text


def test_the_edit_form_covers_every_editable_field_of_the_schema() -> None:
    from clausewatch.review.web import forms
    from clausewatch.schemas.analysis import ProvisionAnalysis

    assert forms.form_fields() == set(service.EDITABLE_FIELDS)
    assert set(ProvisionAnalysis.model_fields) - forms.form_fields() == {"provenance"}
    # a stored analysis goes through the form and back unchanged
    stored = analysis()
    parsed = forms.to_changes(forms.from_analysis(stored))
    rebuilt = {**stored, **parsed.changes}
    assert ProvisionAnalysis.model_validate(rebuilt).model_dump(mode="json") == stored


def test_a_long_queue_says_it_was_cut(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "QUEUE_LIMIT", 2)
    with session_scope() as db:
        for _ in range(3):
            seed_draft(db)
    add_user("erin")
    login(client, "erin")
    page = client.get("/queue").text
    assert page.count('<tr data-href="/drafts/') == 2
    assert "Only the first 2 drafts are shown" in page
    monkeypatch.setattr(service, "QUEUE_LIMIT", 3)
    assert "Only the first" not in client.get("/queue").text
