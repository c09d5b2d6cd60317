"""SSRF guard: refuse private, loopback, link-local, multicast and reserved addresses.

The check runs on the addresses DNS actually returns, and the connection is then made to
the vetted address itself (``GuardedBackend``), so a name cannot resolve to a public
address for the check and to a private one for the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from clausewatch.core.errors import InputError, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddressError(InputError):
    """The URL's host resolves to an address the SSRF guard refuses."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215 local-use prefixes
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d (RFC 4291)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may be routed to: IPv4-mapped
    (``::ffff:0:0/96``), IPv4-compatible (``::/96``), 6to4 (``2002::/16``), Teredo
    (``2001::/32``: server and client) and NAT64 (``64:ff9b::/96``)."""
    found: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if addr in _NAT64 or (addr in _IPV4_COMPATIBLE and int(addr) > 1):
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def _is_public_single(addr: IPAddress) -> bool:
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def is_public(addr: IPAddress) -> bool:
    """Whether ``addr`` is a public address. An IPv6 address that embeds an IPv4 address
    (mapped, compatible, 6to4, Teredo, NAT64) is public only if every embedded address is
    (and, except for a mapped one, the IPv6 address itself): ``2002:7f00:1::`` reaches
    127.0.0.1 through a 6to4 relay. NAT64 local-use prefixes are never public."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:  # the host's own IPv4 stack: the IPv4 rules alone
            return _is_public_single(addr.ipv4_mapped)
        if addr in _NAT64_LOCAL:
            return False
        if not all(_is_public_single(v4) for v4 in embedded_ipv4(addr)):
            return False
    return _is_public_single(addr)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise InputError(f"host not found: {host}") from exc
        raise TransientError(f"DNS lookup failed for {host}: {exc}") from exc
    addrs: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addrs:
            addrs.append(ip)
    if not addrs:
        raise InputError(f"host not found: {host}")
    return addrs


def vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Resolve ``host``; refuse it if any address is not public (unless allowed)."""
    addrs = resolve(host, port)
    if not allow_private:
        bad = [a for a in addrs if not is_public(a)]
        if bad:
            raise BlockedAddressError(
                f"refused {host}: resolves to non-public address {bad[0]} "
                "(set CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES=true to allow)"
            )
    return addrs


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that connects only to vetted addresses."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addrs = vetted_addresses(host, port, allow_private=self._allow_private)
        last: Exception | None = None
        for addr in addrs:
            try:
                return self._inner.connect_tcp(
                    str(addr),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedAddressError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
