"""One answer to "is this retryable?" for fetch, LLM, embedder, webhook, mailer, vector store."""

from __future__ import annotations

import errno
import smtplib
import socket

import httpx
import openai
import pytest

from clausewatch.archive.fetch import HTTPStatusError, HTTPTransientError
from clausewatch.core.errors import ConfigError, InputError, TransientError
from clausewatch.core.retry import is_retryable, retryable_http_status, retryable_smtp_code
from clausewatch.publication.webhook import WebhookHTTPError

RETRYABLE = {408, 425, 429, 500, 502, 503, 504, 599}
NOT_RETRYABLE = {200, 204, 301, 304, 400, 401, 403, 404, 409, 410, 413, 422, 451, 600}


def test_http_status_table() -> None:
    assert {s for s in RETRYABLE | NOT_RETRYABLE if retryable_http_status(s)} == RETRYABLE
    assert [s for s in range(100, 700) if retryable_http_status(s)] == [
        408,
        425,
        429,
        *range(500, 600),
    ]


def test_smtp_code_table() -> None:
    assert [c for c in (250, 421, 450, 451, 452, 500, 550, 554) if retryable_smtp_code(c)] == [
        421,
        450,
        451,
        452,
    ]


def _openai_status(status: int) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://llm.test/v1/chat/completions")
    response = httpx.Response(status, request=request)
    return openai.APIStatusError("refused", response=response, body=None)


@pytest.mark.parametrize("status", sorted(RETRYABLE | NOT_RETRYABLE))
def test_every_client_gives_the_same_answer_for_a_status(status: int) -> None:
    """The fetcher, the LLM and embedding clients (openai) and the webhook agree."""
    request = httpx.Request("GET", "http://site.test/")
    expected = status in RETRYABLE
    answers = {
        "openai": is_retryable(_openai_status(status)),
        "webhook": is_retryable(WebhookHTTPError(status, b"")),
        "httpx": is_retryable(
            httpx.HTTPStatusError(
                "x", request=request, response=httpx.Response(status, request=request)
            )
        ),
    }
    assert answers == dict.fromkeys(answers, expected)


def test_fetch_errors_say_their_own_answer() -> None:
    assert is_retryable(HTTPTransientError("HTTP 503", 503))
    assert not is_retryable(HTTPStatusError("HTTP 404", 404))


def test_no_answer_at_all_is_retryable() -> None:
    request = httpx.Request("GET", "http://site.test/")
    assert is_retryable(httpx.ConnectError("refused", request=request))
    assert is_retryable(httpx.ReadTimeout("slow", request=request))
    assert is_retryable(openai.APIConnectionError(request=request))
    assert is_retryable(openai.APITimeoutError(request=request))
    assert is_retryable(ConnectionRefusedError())
    assert is_retryable(TimeoutError())
    assert is_retryable(socket.gaierror(-2, "Name or service not known"))
    assert is_retryable(OSError(101, "Network is unreachable"))


def test_storage_client_errors_are_known_by_name() -> None:
    """botocore/aiohttp connection failures (s3fs), without importing either."""

    class EndpointConnectionError(Exception):
        pass

    class ServerDisconnectedError(EndpointConnectionError):
        pass

    assert is_retryable(EndpointConnectionError("could not connect to the endpoint"))
    assert is_retryable(ServerDisconnectedError())
    assert is_retryable(OSError(errno.EBUSY, "SlowDown"))  # s3fs's mapping of a throttle


def test_local_file_errors_and_plain_bugs_are_not() -> None:
    assert not is_retryable(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_retryable(OSError("no errno at all"))
    assert not is_retryable(FileNotFoundError("x"))
    assert not is_retryable(PermissionError("x"))
    assert not is_retryable(ValueError("x"))
    assert not is_retryable(KeyError("x"))


def test_clausewatch_errors_carry_their_own_answer() -> None:
    assert is_retryable(TransientError("busy"))
    assert not is_retryable(InputError("bad"))
    assert not is_retryable(ConfigError("wrong"))


def test_smtp_errors() -> None:
    assert is_retryable(smtplib.SMTPResponseException(421, b"try later"))
    assert is_retryable(smtplib.SMTPSenderRefused(451, b"greylisted", "a@b.c"))
    assert not is_retryable(smtplib.SMTPSenderRefused(550, b"no", "a@b.c"))
    assert not is_retryable(smtplib.SMTPAuthenticationError(535, b"bad login"))
    assert not is_retryable(smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}))
    assert is_retryable(smtplib.SMTPServerDisconnected("gone"))
    assert not is_retryable(smtplib.SMTPNotSupportedError("no STARTTLS"))
