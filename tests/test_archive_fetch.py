"""Fetching over a real HTTP server on loopback, the SSRF guard, encodings, PDF, HTML."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from archive_helpers import Reply, http_server, make_pdf

from clausewatch.archive import ssrf
from clausewatch.archive.fetch import Fetcher
from clausewatch.archive.loader import load_markdown
from clausewatch.archive.normalize import html_to_markdown, normalise_markdown, to_markdown
from clausewatch.core.errors import InputError, TransientError
from clausewatch.core.settings import Settings

HTML = b"""<!doctype html><html><head><title>T</title><script>var x = 1;</script>
<style>p {color: red}</style></head><body>
<nav><a href="/">Home</a></nav><div id="cookie-banner">We use cookies</div>
<main><h1>Acme Privacy Policy</h1><p>We collect your e-mail address.</p>
<ul><li>We keep logs for 30 days.</li><li>We do not sell data.</li></ul></main>
<footer>Copyright Acme</footer></body></html>"""


def settings(tmp_path: Path, **kw: object) -> Settings:
    base: dict[str, object] = {
        "home": tmp_path / "home",
        "allow_private_addresses": True,
        "fetch_backoff_s": 0.0,
        "fetch_timeout_s": 2.0,
        "fetch_retries": 2,
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


# -- HTTP ---------------------------------------------------------------------------------


def test_etag_and_last_modified_give_304(tmp_path: Path) -> None:
    def route(handler, n):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(
            200,
            HTML,
            {
                "Content-Type": "text/html; charset=utf-8",
                "ETag": '"v1"',
                "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
            },
        )

    with http_server() as srv, Fetcher(settings(tmp_path)) as f:
        srv.routes["/p"] = route
        first = f.fetch(srv.url("/p"))
        assert first.status == 200 and first.etag == '"v1"' and not first.not_modified
        again = f.fetch(srv.url("/p"), etag=first.etag, last_modified=first.last_modified)
        assert again.not_modified and again.body == b"" and again.etag == '"v1"'
        assert srv.requests[-1]["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
        assert "clausewatch" in srv.requests[-1]["user-agent"]


def test_redirects_followed_and_bounded(tmp_path: Path) -> None:
    with http_server() as srv, Fetcher(settings(tmp_path, fetch_max_redirects=2)) as f:
        srv.routes["/a"] = Reply(301, headers={"Location": "/b"})
        srv.routes["/b"] = Reply(302, headers={"Location": srv.url("/c")})
        srv.routes["/c"] = Reply(200, b"# Title\n\nText.\n", {"Content-Type": "text/markdown"})
        assert f.fetch(srv.url("/a")).url == srv.url("/c")
        srv.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
        with pytest.raises(InputError, match="too many redirects"):
            f.fetch(srv.url("/loop"))
        assert srv.hits["/loop"] == 3  # first request + 2 redirects, no retries
        srv.routes["/file"] = Reply(302, headers={"Location": "file:///etc/passwd"})
        with pytest.raises(InputError, match="non-http"):
            f.fetch(srv.url("/file"))


def test_redirect_hop_is_rechecked_by_ssrf_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pretend 127.0.0.1 is public: the guard must still refuse the redirect's 127.0.0.2
    real = ssrf.is_public
    monkeypatch.setattr(ssrf, "is_public", lambda a: str(a) == "127.0.0.1" or real(a))
    with http_server() as srv, Fetcher(settings(tmp_path, allow_private_addresses=False)) as f:
        srv.routes["/ok"] = Reply(200, b"plain text", {"Content-Type": "text/plain"})
        assert f.fetch(srv.url("/ok")).body == b"plain text"
        srv.routes["/r"] = Reply(302, headers={"Location": f"http://127.0.0.2:{srv.port}/ok"})
        with pytest.raises(ssrf.BlockedAddressError, match=r"127\.0\.0\.2"):
            f.fetch(srv.url("/r"))
        assert srv.hits["/ok"] == 1


def test_ssrf_guard_refuses_private_addresses(tmp_path: Path) -> None:
    with http_server() as srv, Fetcher(settings(tmp_path, allow_private_addresses=False)) as f:
        srv.routes["/p"] = Reply(200, b"secret")
        with pytest.raises(ssrf.BlockedAddressError, match=r"127\.0\.0\.1"):
            f.fetch(srv.url("/p"))
        with pytest.raises(ssrf.BlockedAddressError):
            f.fetch(f"http://localhost:{srv.port}/p")
        assert srv.hits["/p"] == 0
    for host in ("10.1.2.3", "169.254.169.254", "192.168.0.1", "[::1]", "224.0.0.1", "0.0.0.0"):
        with pytest.raises(ssrf.BlockedAddressError):
            ssrf.vetted_addresses(host, 80, allow_private=False)
    assert ssrf.vetted_addresses("10.1.2.3", 80, allow_private=True)
    assert ssrf.is_public(ipaddress.ip_address("93.184.215.14"))
    assert not ssrf.is_public(ipaddress.ip_address("::ffff:10.0.0.1"))


def test_guard_checks_addresses_at_connect_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolves to an allowed address for the pre-check and to a
    private one when connecting; the connection is refused."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    monkeypatch.setattr(
        ssrf,
        "resolve",
        lambda host, port: [ipaddress.ip_address(a) for a in next(answers)],
    )
    real = ssrf.is_public
    monkeypatch.setattr(ssrf, "is_public", lambda a: str(a) == "127.0.0.1" or real(a))
    with (
        Fetcher(settings(tmp_path, allow_private_addresses=False)) as f,
        pytest.raises(ssrf.BlockedAddressError, match=r"10\.0\.0\.1"),
    ):
        f.fetch("http://rebind.test:1/x")


def test_size_cap_enforced_with_and_without_content_length(tmp_path: Path) -> None:
    big = b"x" * 300_000
    with http_server() as srv, Fetcher(settings(tmp_path, fetch_max_bytes=100_000)) as f:
        srv.routes["/declared"] = Reply(200, big, {"Content-Type": "text/plain"})
        srv.routes["/chunked"] = Reply(200, big, {"Content-Type": "text/plain"}, chunked=True)
        for path in ("/declared", "/chunked"):
            with pytest.raises(InputError, match="size cap"):
                f.fetch(srv.url(path))
            assert srv.hits[path] == 1  # not retried
    small = tmp_path / "big.md"
    small.write_bytes(big)
    with pytest.raises(InputError, match="size cap"):
        load_markdown(str(small), settings=settings(tmp_path, fetch_max_bytes=1000))


def test_transient_errors_retried_4xx_not(tmp_path: Path) -> None:
    ok = Reply(200, b"# Doc\n\nBody.\n", {"Content-Type": "text/markdown"})
    with http_server() as srv, Fetcher(settings(tmp_path, fetch_timeout_s=0.3)) as f:
        srv.routes["/flaky"] = [Reply(503), Reply(500), ok]
        assert f.fetch(srv.url("/flaky")).body.startswith(b"# Doc")
        assert srv.hits["/flaky"] == 3
        srv.routes["/slow"] = [Reply(200, b"late", delay_s=1.0), ok]
        assert f.fetch(srv.url("/slow")).body.startswith(b"# Doc")
        assert srv.hits["/slow"] == 2
        srv.routes["/down"] = Reply(502)
        with pytest.raises(TransientError, match="HTTP 502"):
            f.fetch(srv.url("/down"))
        assert srv.hits["/down"] == 3  # 1 + fetch_retries
        srv.routes["/gone"] = Reply(404)
        with pytest.raises(InputError, match="HTTP 404") as exc:
            f.fetch(srv.url("/gone"))
        assert exc.value.http_status == 404  # type: ignore[attr-defined]
        assert srv.hits["/gone"] == 1
        srv.routes["/busy"] = [Reply(429, headers={"Retry-After": "0"}), ok]
        assert f.fetch(srv.url("/busy")).status == 200


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    with http_server() as srv:
        port = srv.port
    with Fetcher(settings(tmp_path)) as f, pytest.raises(TransientError):
        f.fetch(f"http://127.0.0.1:{port}/")


# -- encodings ------------------------------------------------------------------------------

TEXT = "Données personnelles: « café », naïve — 30 €"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            f"<html><body><p>{TEXT}</p></body></html>".encode("cp1252"),
            "text/html; charset=iso-8859-1",
        ),
        (
            (
                f'<html><head><meta charset="windows-1252"></head><body><p>{TEXT}</p></body></html>'
            ).encode("cp1252"),
            "text/html",
        ),
        (f"<html><body><p>{TEXT}</p></body></html>".encode("utf-16"), "text/html"),
        (("\ufeff" + TEXT).encode("utf-8"), "text/plain"),
        ((TEXT + "\n").encode("utf-16-be"), "text/plain; charset=utf-16-be"),
    ],
)
def test_encodings_detected(body: bytes, content_type: str) -> None:
    assert TEXT in to_markdown(body, content_type=content_type)


def test_meta_charset_is_honoured() -> None:
    russian = "Мы собираем ваши персональные данные только с вашего согласия."
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
        f"</head><body><p>{russian}</p></body></html>"
    ).encode("koi8-r")
    assert russian in to_markdown(body, content_type="text/html")


def test_undeclared_latin1_is_detected() -> None:
    text = (
        "Nous collectons vos données personnelles lorsque vous créez un compte. "
        "Vous pouvez demander la suppression de vos données à tout moment. "
    ) * 5
    out = to_markdown(text.encode("latin-1"), content_type="text/plain")
    assert "données" in out and "créez" in out


def test_wrong_declared_charset_falls_back_to_detection() -> None:
    body = f"<p>{TEXT}</p>".encode()
    assert TEXT in to_markdown(body, content_type="text/html; charset=ascii-but-not-really")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n\t  ", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        (b"hello\x00world\x00" * 50, "binary"),
        (bytes(range(1, 32)) * 40, "binary|undecodable"),
        (b"<html><body><p>  </p></body></html>", "empty"),
    ],
)
def test_bad_bytes_are_input_errors(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        to_markdown(body, content_type="")


# -- PDF ------------------------------------------------------------------------------------


def test_pdf_text_extracted_and_broken_pdf_is_clear(tmp_path: Path) -> None:
    pdf = make_pdf(["Acme Data Processing Agreement", "The processor shall delete data."])
    out = to_markdown(pdf, content_type="application/pdf")
    assert "Acme Data Processing Agreement" in out
    assert "The processor shall delete data." in out
    path = tmp_path / "dpa.pdf"
    path.write_bytes(pdf)
    assert load_markdown(str(path), settings=settings(tmp_path)) == out
    with pytest.raises(InputError, match="PDF does not parse"):
        to_markdown(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF garbage", content_type="")
    with pytest.raises(InputError, match="PDF"):
        to_markdown(pdf[: len(pdf) // 3], content_type="application/pdf")
    with pytest.raises(InputError, match="no extractable text"):
        to_markdown(make_pdf([]), content_type="application/pdf")


def test_pdf_over_http(tmp_path: Path) -> None:
    pdf = make_pdf(["Terms of Service", "You may not resell the service."])
    with http_server() as srv:
        srv.routes["/terms"] = Reply(200, pdf, {"Content-Type": "application/pdf"})
        out = load_markdown(srv.url("/terms"), settings=settings(tmp_path))
    assert "You may not resell the service." in out


# -- HTML and Markdown -----------------------------------------------------------------------


def test_html_noise_dropped_and_selectors_applied() -> None:
    md = to_markdown(HTML, content_type="text/html")
    assert md.startswith("# Acme Privacy Policy\n")
    assert "- We keep logs for 30 days." in md
    for noise in ("var x", "color: red", "Home", "cookies", "Copyright"):
        assert noise not in md
    kept = html_to_markdown(HTML.decode(), select=["ul"], remove=["li:last-child"])
    assert kept == "- We keep logs for 30 days.\n"
    with pytest.raises(InputError, match="matched nothing"):
        html_to_markdown(HTML.decode(), select=["article.legal"])


def test_normalised_output_is_stable() -> None:
    once = to_markdown(HTML, content_type="text/html")
    assert to_markdown(HTML, content_type="text/html") == once
    assert normalise_markdown(once) == once
    crlf = "# T\r\n\r\n\r\n\r\nLine  \r\nnext\u00a0word\u200b\r\n"
    assert normalise_markdown(crlf) == "# T\n\nLine\nnext word\n"


def test_load_markdown_errors(tmp_path: Path) -> None:
    s = settings(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        load_markdown(str(tmp_path / "missing.md"), settings=s)
    with pytest.raises(InputError, match="not a file"):
        load_markdown(str(tmp_path), settings=s)
    with pytest.raises(InputError, match="unsupported URL scheme"):
        load_markdown("ftp://example.com/x", settings=s)
    doc = tmp_path / "p.md"
    doc.write_text("# Policy\n\nWe   collect data.\n", encoding="utf-8")
    assert load_markdown(doc.as_uri(), settings=s) == "# Policy\n\nWe   collect data.\n"


def test_hostile_nesting_is_a_clear_error() -> None:
    deep = b"<html><body>" + b"<div>" * 20000 + b"<p>x</p>" + b"</div>" * 20000 + b"</body></html>"
    with pytest.raises(InputError, match="nested too deeply"):
        to_markdown(deep, content_type="text/html")
    ok = b"<html><body>" + b"<div>" * 150 + b"<p>fine</p>" + b"</div>" * 150 + b"</body></html>"
    assert to_markdown(ok, content_type="text/html") == "fine\n"
