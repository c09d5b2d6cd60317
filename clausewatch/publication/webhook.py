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

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from clausewatch.core.errors import ClausewatchError
from clausewatch.core.retry import is_retryable
from clausewatch.publication.names import clean_text

SIGNATURE_HEADER = "X-Clausewatch-Signature"
TIMESTAMP_HEADER = "X-Clausewatch-Timestamp"
EVENT_HEADER = "X-Clausewatch-Event"
DELIVERY_HEADER = "X-Clausewatch-Delivery"
REPLY_LIMIT = 4096  # bytes of a reply read at most (the rest is never received)
REPLY_SHOWN = 200  # characters of a failed reply kept in the error


class DeliveryFailed(Exception):
    """A delivery did not succeed after ``attempts`` tries."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class WebhookHTTPError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        text = clean_text(" ".join(body.decode("utf-8", "replace").split()))
        super().__init__(f"HTTP {status}: {text[:REPLY_SHOWN]}".rstrip(": "))
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


def read_prefix(response: httpx.Response, limit: int = REPLY_LIMIT) -> bytes:
    """At most ``limit`` bytes of a streamed reply, as sent (no decompression): a receiver
    cannot make a delivery read a huge or endless body, or a small gzip bomb."""
    data = bytearray()
    for chunk in response.iter_raw(chunk_size=min(limit, 4096)):
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def post_webhook(
    url: str,
    secret: str,
    body: bytes,
    *,
    event: str,
    delivery_id: str,
    attempts: int,
    backoff_s: float,
    user_agent: str,
    client: httpx.Client,
) -> int:
    """POST ``body``; return the number of tries it took, or raise :class:`DeliveryFailed`.

    ``client`` comes from :func:`publication.targets.webhook_client` (SSRF-guarded, no
    proxies, no redirects) and is shared by a run's deliveries. Only the first
    ``REPLY_LIMIT`` bytes of a reply are read."""
    tries = 0
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=backoff_s, min=backoff_s, max=60),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                tries += 1
                timestamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "Accept-Encoding": "identity",
                    "User-Agent": user_agent,
                    EVENT_HEADER: event,
                    DELIVERY_HEADER: delivery_id,
                    TIMESTAMP_HEADER: timestamp,
                    SIGNATURE_HEADER: sign(secret, timestamp, body),
                }
                with client.stream("POST", url, content=body, headers=headers) as response:
                    reply = read_prefix(response)
                    if not 200 <= response.status_code < 300:
                        raise WebhookHTTPError(response.status_code, reply)
    except (httpx.HTTPError, WebhookHTTPError, ClausewatchError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryFailed(f"webhook {type(exc).__name__}: {reason}", tries) from exc
    return tries
