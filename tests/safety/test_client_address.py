"""Which address a request came from, trusting forwarding headers only from the proxies named."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from bot.client_address import TrustedProxies, resolve_client

PROXY = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, ::1")


def headers(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    """Request headers, repeated names allowed."""
    return CIMultiDict(pairs)


def test_direct_request_is_its_tcp_peer() -> None:
    """With no proxy in between, the client is the TCP peer."""
    assert resolve_client(peer="203.0.113.9", headers=headers(), trusted=PROXY) == "203.0.113.9"


def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored() -> None:
    """A client that is not a trusted proxy cannot claim another address with X-Forwarded-For."""
    spoofed = headers(("X-Forwarded-For", "198.51.100.7"))
    assert resolve_client(peer="203.0.113.9", headers=spoofed, trusted=PROXY) == "203.0.113.9"


def test_spoofed_forwarded_header_from_untrusted_peer_is_ignored() -> None:
    """The same holds for the standard Forwarded header."""
    spoofed = headers(("Forwarded", "for=198.51.100.7"))
    assert resolve_client(peer="203.0.113.9", headers=spoofed, trusted=PROXY) == "203.0.113.9"


def test_no_trusted_proxies_means_headers_are_never_read() -> None:
    """With the setting empty (the default), even a loopback peer's headers are ignored."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=TrustedProxies.parse("")) == "127.0.0.1"


def test_trusted_proxy_names_the_client() -> None:
    """Behind a trusted proxy, the client is the address the proxy appended."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_client_prepended_spoof_is_skipped_behind_trusted_proxy() -> None:
    """A client that sends its own X-Forwarded-For gets it prepended to: the rightmost untrusted hop wins."""
    forwarded = headers(("X-Forwarded-For", "1.2.3.4, 198.51.100.7"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    """Several trusted proxies in a row are skipped until the first untrusted hop."""
    forwarded = headers(("X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.1.2.3"))
    assert resolve_client(peer="10.9.9.9", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_repeated_header_lines_are_read_in_order() -> None:
    """Two X-Forwarded-For lines count as one list, the later line to the right."""
    forwarded = headers(("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "198.51.100.7, 10.0.0.2"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_forwarded_header_with_ipv6_and_port_is_understood() -> None:
    """``Forwarded: for="[2001:db8::17]:4711"`` names 2001:db8::17."""
    forwarded = headers(("Forwarded", 'for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"'))
    assert resolve_client(peer="::1", headers=forwarded, trusted=PROXY) == "2001:db8::17"


def test_forwarded_for_with_port_is_understood() -> None:
    """An X-Forwarded-For entry with a port names the address without it."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7:5555"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_garbage_hop_falls_back_to_the_proxy_that_reported_it() -> None:
    """An entry that is no address is not believed: the client is the trusted hop that wrote it."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7, not-an-ip"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "127.0.0.1"


def test_every_hop_trusted_gives_the_leftmost() -> None:
    """A request from inside the trusted network through the proxy is that inside address."""
    forwarded = headers(("X-Forwarded-For", "10.4.4.4"))
    assert resolve_client(peer="127.0.0.1", headers=forwarded, trusted=PROXY) == "10.4.4.4"


def test_ipv4_mapped_peer_is_matched_as_ipv4() -> None:
    """A dual-stack listener's ``::ffff:127.0.0.1`` peer is the trusted 127.0.0.1."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7"))
    assert resolve_client(peer="::ffff:127.0.0.1", headers=forwarded, trusted=PROXY) == "198.51.100.7"


def test_unknown_peer_is_reported_as_unknown() -> None:
    """A request whose peer the server cannot name (a Unix socket) is ``unknown``, never a header's word."""
    forwarded = headers(("X-Forwarded-For", "198.51.100.7"))
    assert resolve_client(peer=None, headers=forwarded, trusted=PROXY) == "unknown"


@pytest.mark.parametrize("spec", ["10.0.0.0/33", "proxy.example", "10.0.0.1/8/2"])
def test_malformed_trusted_proxies_are_refused(spec: str) -> None:
    """A list entry that is no IP address or network is an error, not silently skipped."""
    with pytest.raises(ValueError, match="IP address or network"):
        TrustedProxies.parse(spec)


def test_trusted_network_with_host_bits_is_accepted() -> None:
    """``10.1.2.3/8`` is read as the network 10.0.0.0/8, as an operator means it."""
    assert TrustedProxies.parse("10.1.2.3/8").trusts("10.200.0.1")
