"""Webhook delivery: a JSON body signed with HMAC-SHA256, retried with exponential back-off.

Headers sent with every request::

    X-Clausewatch-Event: analysis.published | digest.weekly
    X-Clausewatch-Delivery: <delivery id>
    X-Clausewatch-Timestamp: <unix seconds>
    X-Clausewatch-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

Receivers recompute the HMAC over the timestamp, a dot and the raw body
(:func:`verify_signature`) and reject stale timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

SIGNATURE_HEADER = "X-Clausewatch-Signature"
TIMESTAMP_HEADER = "X-Clausewatch-Timestamp"
EVENT_HEADER = "X-Clausewatch-Event"
DELIVERY_HEADER = "X-Clausewatch-Delivery"


class DeliveryFailed(Exception):
    """A delivery did not succeed after ``attempts`` tries."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class WebhookHTTPError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours for this body and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    if age > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def new_client(timeout_s: float) -> httpx.Client:
    return httpx.Client(timeout=timeout_s, follow_redirects=False)


@contextmanager
def _client(shared: httpx.Client | None, timeout_s: float) -> Iterator[httpx.Client]:
    if shared is not None:
        yield shared
        return
    with new_client(timeout_s) as own:
        yield own


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, WebhookHTTPError):
        return exc.status >= 500 or exc.status in {408, 425, 429}
    return False


def post_webhook(
    url: str,
    secret: str,
    body: bytes,
    *,
    event: str,
    delivery_id: str,
    attempts: int,
    backoff_s: float,
    timeout_s: float,
    user_agent: str,
    client: httpx.Client | None = None,
) -> int:
    """POST ``body``; return the number of tries it took, or raise :class:`DeliveryFailed`.

    Pass a ``client`` to reuse connections across deliveries (one per run)."""
    tries = 0
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=backoff_s, min=backoff_s, max=60),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    try:
        with _client(client, timeout_s) as http:
            for attempt in retrying:
                with attempt:
                    tries += 1
                    timestamp = str(int(time.time()))
                    response = http.post(
                        url,
                        content=body,
                        headers={
                            "Content-Type": "application/json",
                            "User-Agent": user_agent,
                            EVENT_HEADER: event,
                            DELIVERY_HEADER: delivery_id,
                            TIMESTAMP_HEADER: timestamp,
                            SIGNATURE_HEADER: sign(secret, timestamp, body),
                        },
                    )
                    if not 200 <= response.status_code < 300:
                        raise WebhookHTTPError(response.status_code, response.text)
    except (httpx.HTTPError, WebhookHTTPError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryFailed(f"webhook {type(exc).__name__}: {reason}", tries) from exc
    return tries
