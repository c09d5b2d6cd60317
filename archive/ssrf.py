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

from clausewatch.errors import InputError, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddressError(InputError):
    """The URL's host resolves to an address the SSRF guard refuses."""


def is_public(addr: IPAddress) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        addr = mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


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
