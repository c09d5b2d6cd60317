"""Alerts and digests delivered to a real HTTP server and a real SMTP server on loopback."""

from __future__ import annotations

import email
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from publication_support import UNAPPROVED_STATUSES, marker, seed

from clausewatch.core.settings import reset_settings
from clausewatch.publication.alerts import send_same_day_alerts
from clausewatch.publication.digest import send_weekly_digest, week_window
from clausewatch.publication.status import delivery_status
from clausewatch.publication.subscriptions import add_subscriber
from clausewatch.publication.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from clausewatch.storage.db import session_scope
from clausewatch.storage.models import Delivery, Draft, Subscriber
from tests.publication_demo import add_document, add_draft, add_version, clause_of

LONG_AGO = datetime(2020, 1, 1)


@dataclass
class Hook:
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)

    def bodies(self, path: str) -> list[bytes]:
        return [body for p, _, body in self.requests if p == path]


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append((self.path, dict(self.headers.items()), body))
            code = state.status.get(self.path, 200)
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
    ok = isinstance(auth, LoginPassword) and auth.login == b"cw" and auth.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


def _start_smtp(port: int, box: Mailbox) -> Controller:
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    return controller


@pytest.fixture
def delivery_env(db_workspace: Path, monkeypatch: pytest.MonkeyPatch, smtp_port: int) -> Path:
    monkeypatch.setenv("CLAUSEWATCH_DELIVERY_BACKOFF_S", "0.01")
    monkeypatch.setenv("CLAUSEWATCH_DELIVERY_ATTEMPTS", "3")
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_TIMEOUT_S", "5")
    monkeypatch.setenv("CLAUSEWATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLAUSEWATCH_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("CLAUSEWATCH_SMTP_STARTTLS", "false")
    monkeypatch.setenv("CLAUSEWATCH_SMTP_USERNAME", "cw")
    monkeypatch.setenv("CLAUSEWATCH_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("CLAUSEWATCH_SMTP_TIMEOUT_S", "5")
    # the test servers listen on loopback; the guard tests turn this off again
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    reset_settings()
    with session_scope() as session:
        seed(session)
    return db_workspace


def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "false")
    reset_settings()


def _store_subscriber(channel: str, target: str, **kwargs: Any) -> int:
    """A row as an older version (or a name whose address changed since) left it: written
    without the checks ``add_subscriber`` makes now."""
    with session_scope() as session:
        sub = Subscriber(
            channel=channel,
            target=target,
            secret="s" * 32 if channel == "webhook" else None,
            mode="alert",
            platforms=kwargs.get("platforms", []),
            categories=[],
            active=True,
            created_at=LONG_AGO,
        )
        session.add(sub)
        session.flush()
        return sub.id


def _subscribe(**kwargs: Any) -> tuple[int, str | None]:
    with session_scope() as session:
        sub = add_subscriber(session, **kwargs)
        sub.created_at = LONG_AGO
        return sub.id, sub.secret


def _no_markers(blobs: list[str]) -> None:
    assert blobs
    for status in UNAPPROVED_STATUSES:
        for blob in blobs:
            assert marker(status) not in blob


def test_webhooks_signed_retried_and_a_failing_endpoint_does_not_block(
    delivery_env: Path, hook: tuple[Hook, str]
) -> None:
    state, base = hook
    state.status["/bad"] = 500
    bad_id, _ = _subscribe(channel="webhook", target=f"{base}/bad", secret="b" * 32)
    good_id, good_secret = _subscribe(channel="webhook", target=f"{base}/good")
    assert good_secret and len(good_secret) == 64

    with session_scope() as session:
        report = send_same_day_alerts(session)
    assert (report.sent, report.failed) == (3, 3)
    good = [r for r in state.requests if r[0] == "/good"]
    assert len(good) == 3
    assert len(state.bodies("/bad")) == 9  # 3 alerts x 3 attempts with back-off
    titles = []
    for _, headers, body in good:
        assert headers[SIGNATURE_HEADER].startswith("sha256=")
        assert verify_signature(
            good_secret, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
        )
        assert not verify_signature(
            good_secret, body + b" ", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
        )
        assert not verify_signature(
            "x" * 64, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
        )
        assert headers["X-Clausewatch-Event"] == "analysis.published"
        payload = json.loads(body)
        assert payload["event"] == "analysis.published"
        assert payload["analysis"]["url"].startswith("https://clausewatch.example/platforms/")
        titles.append(payload["analysis"]["analysis"]["title"])
    assert "Nimbus AI <script>trains</script> on prompts & files" in titles
    _no_markers([b.decode() for _, _, b in state.requests])

    status = delivery_status(session)
    assert status["deliveries"]["sent"] == 3 and status["deliveries"]["failed"] == 3
    [failing] = status["failing_subscribers"]
    assert failing["subscriber_id"] == bad_id and failing["failed"] == 3
    assert "HTTP 500" in failing["last_error"]
    assert failing["target"].endswith("/…") and "/bad" not in failing["target"]

    # rerun: nothing new for the good endpoint; the failed ones are tried again
    with session_scope() as session:
        again = send_same_day_alerts(session)
    assert (again.sent, again.failed, again.already_sent) == (0, 3, 3)
    assert len(state.bodies("/good")) == 3
    assert len(state.bodies("/bad")) == 18

    # the endpoint recovers: the next run delivers the three alerts, once
    state.status["/bad"] = 200
    with session_scope() as session:
        healed = send_same_day_alerts(session)
        rows = session.query(Delivery).filter_by(subscriber_id=bad_id).all()
    assert (healed.sent, healed.failed) == (3, 0)
    assert len(state.bodies("/bad")) == 21
    assert {(r.status, r.attempts, r.runs) for r in rows} == {("sent", 7, 3)}
    with session_scope() as session:
        assert send_same_day_alerts(session).sent == 0
        assert delivery_status(session)["deliveries"]["sent"] == 6
    assert len(state.requests) == 24
    assert good_id != bad_id


def test_a_failed_delivery_gives_up_after_max_runs(
    delivery_env: Path, hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_DELIVERY_MAX_RUNS", "2")
    monkeypatch.setenv("CLAUSEWATCH_DELIVERY_ATTEMPTS", "1")
    reset_settings()
    state, base = hook
    state.status["/gone"] = 410
    _subscribe(channel="webhook", target=f"{base}/gone", platforms=["nimbus-ai"])
    with session_scope() as session:
        assert send_same_day_alerts(session).failed == 1
    with session_scope() as session:
        assert send_same_day_alerts(session).gave_up == 1
    with session_scope() as session:
        assert send_same_day_alerts(session).already_sent == 1
        assert delivery_status(session)["deliveries"]["gave_up"] == 1
    assert len(state.bodies("/gone")) == 2  # 4xx is not retried within a run


def test_filters_platform_category_exposure_and_start(
    delivery_env: Path, hook: tuple[Hook, str]
) -> None:
    state, base = hook
    _subscribe(channel="webhook", target=f"{base}/nimbus", platforms=["nimbus-ai"])
    _subscribe(channel="webhook", target=f"{base}/training", categories=["training-use"])
    _subscribe(channel="webhook", target=f"{base}/medium", min_exposure="Medium")
    _subscribe(channel="webhook", target=f"{base}/digest", mode="digest")
    with session_scope() as session:
        add_subscriber(session, channel="webhook", target=f"{base}/late")  # created now

    with session_scope() as session:
        send_same_day_alerts(session)

    def platforms(path: str) -> set[str]:
        return {json.loads(b)["analysis"]["platform"] for b in state.bodies(path)}

    assert platforms("/nimbus") == {"nimbus-ai"}
    assert platforms("/training") == {"nimbus-ai", "quillstone"}
    assert platforms("/medium") == {"nimbus-ai", "helix-labs"}  # quillstone is Low
    assert state.bodies("/digest") == [] and state.bodies("/late") == []


def test_email_alerts_over_smtp_with_both_parts(delivery_env: Path, smtp_port: int) -> None:
    box = Mailbox()
    controller = _start_smtp(smtp_port, box)
    try:
        _subscribe(channel="email", target="Ann <ann@example.org>", platforms=["nimbus-ai"])
        with session_scope() as session:
            report = send_same_day_alerts(session)
        assert report.sent == 1, report.errors
        with session_scope() as session:
            assert send_same_day_alerts(session).already_sent == 1
    finally:
        controller.stop()
    [(rcpt, msg)] = box.messages
    assert rcpt == ["ann@example.org"]
    assert msg["Subject"] == (
        "[clausewatch] Nimbus AI: Nimbus AI <script>trains</script> on prompts & files "
        "(High exposure)"
    )
    assert msg.is_multipart()
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    rich = html.get_content()
    assert "Summary of Nimbus AI <script>trains</script> on prompts & files." in plain
    assert "https://clausewatch.example/platforms/nimbus-ai/privacy-policy/" in plain
    assert "<script>" not in rich
    assert "Nimbus AI &lt;script&gt;trains&lt;/script&gt; on prompts &amp; files" in rich
    _no_markers([plain, rich])


def test_smtp_failure_is_recorded_then_retried(delivery_env: Path, smtp_port: int) -> None:
    sub_id, _ = _subscribe(channel="email", target="ops@example.org", categories=["data-retention"])
    with session_scope() as session:
        failed = send_same_day_alerts(session)
        [row] = delivery_status(session)["failing_subscribers"]
    assert failed.failed == 1 and row["subscriber_id"] == sub_id
    assert "smtp" in row["last_error"] and row["target"] == "ops@example.org"
    box = Mailbox()
    controller = _start_smtp(smtp_port, box)
    try:
        with session_scope() as session:
            retried = send_same_day_alerts(session)
            delivery = session.query(Delivery).filter_by(subscriber_id=sub_id).one()
    finally:
        controller.stop()
    assert retried.sent == 1 and len(box.messages) == 1
    assert (delivery.status, delivery.runs, delivery.last_error) == ("sent", 2, None)
    assert delivery.attempts == 4  # three refused connections, then one success


def test_weekly_digest_once_per_week_by_email_and_webhook(
    delivery_env: Path, smtp_port: int, hook: tuple[Hook, str]
) -> None:
    state, base = hook
    with session_scope() as session:
        # approved the week after the seeded ones: not in the digest of week 10
        doc = add_document(session, "quillstone", "terms_of_service")
        version = add_version(session, doc, datetime(2026, 3, 9), [("q-later", "Later text.")])
        add_draft(
            session,
            doc=doc,
            clause_uid="q-later",
            clause=clause_of(session, version, "q-later"),
            decided_at=datetime(2026, 3, 10, 8, 0),
            analysis=seed_analysis("Quillstone later change", "Later text."),
        )
    _subscribe(channel="email", target="digest@example.org", mode="digest")
    _subscribe(channel="webhook", target=f"{base}/weekly", mode="digest", platforms=["nimbus-ai"])
    _subscribe(channel="webhook", target=f"{base}/alerts", mode="alert")
    box = Mailbox()
    controller = _start_smtp(smtp_port, box)
    now = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert week_window(now)[0] == "2026-W10"
    try:
        with session_scope() as session:
            report = send_weekly_digest(session, now=now)
        assert report.sent == 2, report.errors
        with session_scope() as session:
            rerun = send_weekly_digest(session, now=now)
        assert (rerun.sent, rerun.already_sent) == (0, 2)
    finally:
        controller.stop()
    [(_, msg)] = box.messages
    assert msg["Subject"] == "[clausewatch] Weekly digest 2026-W10: 3 new analyses"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    for title in (
        "Nimbus AI <script>trains</script> on prompts & files",
        "Quillstone requires opt-in before training",
        "Helix Labs deletes conversation logs after 30 days",
    ):
        assert title in text
    assert "Quillstone later change" not in text
    assert "2 March 2026 to 8 March 2026" in text
    assert "<script>" not in html.get_content()
    [body] = state.bodies("/weekly")
    payload = json.loads(body)
    assert payload["event"] == "digest.weekly" and payload["week"] == "2026-W10"
    assert [a["platform"] for a in payload["analyses"]] == ["nimbus-ai"]
    assert state.bodies("/alerts") == []
    _no_markers([text, html.get_content(), body.decode()])


def test_failed_digest_is_retried_by_the_next_weeks_run(
    delivery_env: Path, hook: tuple[Hook, str]
) -> None:
    state, base = hook
    state.status["/weekly"] = 503
    _subscribe(channel="webhook", target=f"{base}/weekly", mode="digest")
    with session_scope() as session:
        assert send_weekly_digest(session, now=datetime(2026, 3, 9, tzinfo=UTC)).failed == 1
    state.status["/weekly"] = 200
    with session_scope() as session:
        later = send_weekly_digest(session, now=datetime(2026, 3, 17, tzinfo=UTC))
        rows = session.query(Delivery).order_by(Delivery.id).all()
    assert later.sent == 1  # week 10 retried; week 11 had nothing new
    assert [(r.item_key, r.status) for r in rows] == [("week:2026-W10", "sent")]
    assert len(state.bodies("/weekly")) == 4


def test_removing_a_subscriber_removes_its_records(
    delivery_env: Path, hook: tuple[Hook, str]
) -> None:
    from clausewatch.publication.subscriptions import remove_subscriber

    _, base = hook
    sub_id, _ = _subscribe(channel="webhook", target=f"{base}/x", platforms=["nimbus-ai"])
    with session_scope() as session:
        assert send_same_day_alerts(session).sent == 1
    with session_scope() as session:
        remove_subscriber(session, sub_id)
    with session_scope() as session:
        assert session.query(Subscriber).count() == 0
        assert session.query(Delivery).count() == 0


def seed_analysis(title: str, excerpt: str) -> dict[str, Any]:
    from publication_support import analysis

    return analysis(title, excerpt, categories=["training-use"], level="Low")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now.replace(year=now.year - 1))
        .not_valid_after(now.replace(year=now.year + 1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_email_over_starttls_with_login(
    delivery_env: Path, smtp_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=smtp_port,
        tls_context=tls,
        require_starttls=True,
        authenticator=_authenticator,
    )
    controller.start()
    try:
        _subscribe(channel="email", target="tls@example.org", platforms=["helix-labs"])
        with session_scope() as session:
            plain = send_same_day_alerts(session)  # no STARTTLS: no AUTH offered, refused
        assert plain.failed == 1 and "AUTH extension not supported" in plain.errors[0]
        monkeypatch.setenv("CLAUSEWATCH_SMTP_STARTTLS", "true")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our test CA only
        reset_settings()
        with session_scope() as session:
            report = send_same_day_alerts(session)
    finally:
        controller.stop()
    assert report.sent == 1, report.errors
    [(rcpt, msg)] = box.messages
    assert rcpt == ["tls@example.org"]
    assert "Helix Labs deletes conversation logs after 30 days" in msg["Subject"]


def test_failed_alert_of_an_unpublished_analysis_is_cancelled(
    delivery_env: Path, hook: tuple[Hook, str]
) -> None:
    state, base = hook
    state.status["/down"] = 503
    sub_id, _ = _subscribe(channel="webhook", target=f"{base}/down", platforms=["helix-labs"])
    with session_scope() as session:
        assert send_same_day_alerts(session).failed == 1
        helix = session.query(Delivery).filter_by(subscriber_id=sub_id).one()
        draft = session.get(Draft, helix.draft_ids[0])
        assert draft is not None
        draft.status = "superseded"  # unpublished before the endpoint came back
    state.status["/down"] = 200
    with session_scope() as session:
        report = send_same_day_alerts(session)
        status = delivery_status(session)
    assert (report.sent, report.cancelled) == (0, 1)
    assert status["deliveries"]["cancelled"] == 1 and status["failing_subscribers"] == []
    assert len(state.bodies("/down")) == 3


def _fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, str]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], int(port or 0)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_webhook_to_a_private_address_is_refused_at_delivery(
    delivery_env: Path, hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribers stored before the guard existed, or whose name now resolves to an internal
    address (DNS rebinding), get nothing: the guard runs again at every delivery."""
    state, base = hook
    port = base.rsplit(":", 1)[1]
    _guard_on(monkeypatch)
    _fake_dns(monkeypatch, {"hooks.rebind.example": "127.0.0.1"})
    literal = _store_subscriber("webhook", f"{base}/literal", platforms=["nimbus-ai"])
    named = _store_subscriber(
        "webhook", f"http://hooks.rebind.example:{port}/named", platforms=["nimbus-ai"]
    )
    with session_scope() as session:
        report = send_same_day_alerts(session)
        rows = {d.subscriber_id: d for d in session.query(Delivery).all()}
    assert (report.sent, report.failed) == (0, 2)
    assert state.requests == []  # nothing reached the loopback server
    assert "refused 127.0.0.1" in (rows[literal].last_error or "")
    assert "refused hooks.rebind.example" in (rows[named].last_error or "")
    assert "non-public address 127.0.0.1" in (rows[named].last_error or "")


def test_webhook_ignores_environment_proxies(
    delivery_env: Path, hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP(S)_PROXY`` would carry signed posts (and the guard's decision) elsewhere."""
    proxied: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            proxied.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(var, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        state, base = hook
        _subscribe(channel="webhook", target=f"{base}/direct", platforms=["nimbus-ai"])
        with session_scope() as session:
            assert send_same_day_alerts(session).sent == 1
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert proxied == [] and len(state.bodies("/direct")) == 1


class _Reply(BaseHTTPRequestHandler):
    """Replies with a status and, for /huge, an endless body (counted as it is sent)."""

    sent = 0
    done = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(500)
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while type(self).sent < 256 * 1024 * 1024:
                self.wfile.write(chunk)
                type(self).sent += len(chunk)
        except OSError:
            pass
        finally:
            type(self).done.set()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_reply_is_read_only_a_few_kilobytes_and_redirects_are_not_followed(
    delivery_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_DELIVERY_ATTEMPTS", "1")
    reset_settings()
    _Reply.sent, _Reply.done = 0, threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    huge = _store_subscriber("webhook", f"{base}/huge", platforms=["helix-labs"])
    moved = _store_subscriber("webhook", f"{base}/redirect", platforms=["helix-labs"])
    try:
        with session_scope() as session:
            report = send_same_day_alerts(session)
            rows = {d.subscriber_id: d for d in session.query(Delivery).all()}
        assert _Reply.done.wait(30)
    finally:
        server.shutdown()
        server.server_close()
    assert report.failed == 2
    # 4 KB read; the rest stopped in socket buffers (a full read would be 256 MB)
    assert _Reply.sent < 32 * 1024 * 1024, _Reply.sent
    error = rows[huge].last_error or ""
    assert error.startswith("webhook WebhookHTTPError: HTTP 500: xxxx") and len(error) < 300
    assert "HTTP 307" in (rows[moved].last_error or "")  # refused, not followed


def test_email_to_a_stored_address_list_is_refused(delivery_env: Path, smtp_port: int) -> None:
    """A row written before targets were validated whole mails nobody, not two people."""
    box = Mailbox()
    controller = _start_smtp(smtp_port, box)
    try:
        sub_id = _store_subscriber(
            "email", "Evil <a@example.org>, b@evil.example", platforms=["helix-labs"]
        )
        with session_scope() as session:
            report = send_same_day_alerts(session)
            row = session.query(Delivery).filter_by(subscriber_id=sub_id).one()
    finally:
        controller.stop()
    assert (report.sent, report.failed) == (0, 1)
    assert box.messages == []
    assert "one address per subscriber" in (row.last_error or "")
