"""The SSRF guard refuses IPv6 addresses that embed a non-public IPv4 address."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from clausewatch.archive import ssrf
from clausewatch.archive.fetch import Fetcher
from clausewatch.core.settings import Settings

# Each reaches a private IPv4 address through a translation mechanism.
EMBEDDING_PRIVATE = [
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::c0a8:1",  # NAT64 of 192.168.0.1
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix (RFC 8215)
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:a00:1::1",  # Teredo, server 10.0.0.1
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",  # IPv4-mapped 169.254.169.254
    "::7f00:1",  # IPv4-compatible (deprecated) 127.0.0.1
    "::a00:1",  # IPv4-compatible 10.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDING_PRIVATE)
def test_ipv6_embedding_a_private_ipv4_is_refused(address: str) -> None:
    assert not ssrf.is_public(ipaddress.ip_address(address))
    with pytest.raises(ssrf.BlockedAddressError):
        ssrf.vetted_addresses(f"[{address}]", 80, allow_private=False)


@pytest.mark.parametrize(
    "address", ["2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "8.8.8.8"]
)
def test_public_addresses_still_pass(address: str) -> None:
    assert ssrf.is_public(ipaddress.ip_address(address))


def test_embedded_ipv4_names_what_each_mechanism_carries() -> None:
    v6 = ipaddress.IPv6Address
    v4 = ipaddress.IPv4Address
    assert ssrf.embedded_ipv4(v6("2002:7f00:1::")) == [v4("127.0.0.1")]
    assert ssrf.embedded_ipv4(v6("64:ff9b::808:808")) == [v4("8.8.8.8")]
    assert v4("127.0.0.1") in ssrf.embedded_ipv4(v6("2001:0:4136:e378:8000:63bf:80ff:fffe"))
    assert ssrf.embedded_ipv4(v6("::1")) == []
    assert ssrf.embedded_ipv4(v6("2606:4700:4700::1111")) == []


def test_fetcher_refuses_a_6to4_url_before_connecting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", allow_private_addresses=False, fetch_retries=0)
    with (
        Fetcher(settings) as fetcher,
        pytest.raises(ssrf.BlockedAddressError, match=r"2002:7f00:1::"),
    ):
        fetcher.fetch("http://[2002:7f00:1::]:8080/policy")
