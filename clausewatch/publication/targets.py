"""Where subscribers' messages may go: webhook URLs behind the fetcher's SSRF guard, and
exactly one e-mail address per subscriber.

A webhook is a URL someone typed into ``subscribers add``: clausewatch then POSTs to it and
records part of the reply, so it gets the same guard as fetching a source
(:mod:`archive.ssrf`): private, loopback, link-local, metadata and reserved addresses are
refused when the subscriber is added and again at every delivery (DNS may have changed), the
connection goes only to the address that was vetted (:class:`archive.fetch.GuardedTransport`),
environment proxies are ignored and redirects are not followed. Only
``CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES=true`` lifts the guard, for fetching and delivery alike.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

from clausewatch.archive.fetch import GuardedTransport
from clausewatch.archive.ssrf import BlockedAddressError, vetted_addresses
from clausewatch.core.errors import InputError, TransientError
from clausewatch.core.settings import Settings

# Names that only ever mean "this machine" or "this site's network", resolvable or not.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


def _port(scheme: str, port: int | None) -> int:
    return port or (443 if scheme == "https" else 80)


def parse_webhook_url(url: str) -> tuple[str, str, int]:
    """``(url, host, port)`` of an http(s) URL with a host; :class:`InputError` otherwise."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"webhook URL is not a valid URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise InputError(f"webhook URL must be http(s)://host/...: {url!r}")
    if any(c.isspace() for c in url):
        raise InputError(f"webhook URL contains white space: {url!r}")
    return url, parts.hostname, _port(scheme, port)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """Vet ``url`` now: raise :class:`BlockedAddressError` when its host is or resolves to a
    non-public address (unless ``allow_private``), :class:`InputError` when it is not an
    http(s) URL or its host is not found, ``TransientError`` when DNS fails."""
    url, host, port = parse_webhook_url(url)
    name = host.lower().rstrip(".")
    if not allow_private and (name == "localhost" or name.endswith(_LOCAL_SUFFIXES)):
        raise BlockedAddressError(
            f"refused {host}: a local name (set CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES=true to allow)"
        )
    vetted_addresses(host, port, allow_private=allow_private)
    return url


def check_new_webhook(url: str, *, allow_private: bool) -> tuple[str, str | None]:
    """Vet a webhook URL being added: ``(url, warning)``.

    An IP literal, a local name or a name that resolves to a non-public address is refused.
    A name that cannot be resolved from here (no DNS, not registered yet) is accepted with a
    warning: every delivery vets it again before connecting."""
    url, host, _ = parse_webhook_url(url)
    try:
        return check_webhook_url(url, allow_private=allow_private), None
    except BlockedAddressError:
        raise
    except InputError as exc:
        if _is_ip_literal(host):
            raise
        reason = str(exc)
    except TransientError as exc:  # DNS unavailable
        reason = str(exc)
    return url, f"{reason}; its address is checked at every delivery"


def webhook_client(settings: Settings) -> httpx.Client:
    """The client deliveries use: guarded connections, no environment proxies (``trust_env``
    off: ``HTTPS_PROXY`` could carry signed posts anywhere), no redirects followed."""
    return httpx.Client(
        transport=GuardedTransport(allow_private=settings.allow_private_addresses),
        timeout=httpx.Timeout(settings.webhook_timeout_s),
        follow_redirects=False,
        trust_env=False,
    )


def check_email(target: str) -> tuple[str, str]:
    """``(address, display name)`` of exactly one e-mail address, validated whole
    (``dpo@example.org`` or ``Data Officer <dpo@example.org>``): a list, a second address, a
    header or a line break is refused, not cut down to its first address."""
    from email_validator import EmailNotValidError, validate_email

    text = target.strip()
    try:
        valid = validate_email(
            text, check_deliverability=False, allow_display_name=True, allow_quoted_local=False
        )
    except EmailNotValidError as exc:
        raise InputError(
            f"not an e-mail address (one address per subscriber): {target!r}: {exc}"
        ) from None
    return valid.normalized, valid.display_name or ""
