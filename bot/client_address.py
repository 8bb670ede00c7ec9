"""The client address of an HTTP request: the TCP peer, or what trusted proxies say the client was.

Forwarding headers (``X-Forwarded-For``, else ``Forwarded``) are read only when the
TCP peer is a trusted proxy (``BRIDGE_TRUSTED_PROXIES``); the list is then walked
from the right and the first hop that is not a trusted proxy is the client, so
whatever a client writes into those headers itself is never believed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from multidict import MultiMapping

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What ``resolve_client`` answers when the server cannot name the peer (a Unix socket).
UNKNOWN = "unknown"
_FORWARDED_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def _address(text: str) -> Address | None:
    """An IP address from a header entry or peer (``[v6]:port``, ``v4:port`` and v4-mapped v6 included)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The proxies whose forwarding headers are believed; empty (the default) believes none."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> TrustedProxies:
        """From ``BRIDGE_TRUSTED_PROXIES``: comma-separated IP addresses and CIDR networks."""
        networks: list[Network] = []
        for entry in (part.strip() for part in spec.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (such as 127.0.0.1 or 10.0.0.0/8)"
                ) from None
        return cls(tuple(networks))

    def trusts(self, address: str | Address | None) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        found = _address(address) if isinstance(address, str) else address
        return found is not None and any(found in network for network in self.networks)


def _hops(headers: MultiMapping[str]) -> list[str]:
    """The forwarding chain, left (the original client) to right (the proxy nearest to us)."""
    lines = headers.getall("X-Forwarded-For", [])
    if lines:
        return [entry.strip() for line in lines for entry in line.split(",") if entry.strip()]
    hops = []
    for line in headers.getall("Forwarded", []):
        for element in line.split(","):
            found = _FORWARDED_FOR.search(element)
            hops.append(found.group(1) if found else "")
    return hops


def resolve_client(*, peer: str | None, headers: MultiMapping[str], trusted: TrustedProxies) -> str:
    """The client's address: the rightmost hop that is not a trusted proxy (the peer when it is not one)."""
    client = _address(peer) if peer is not None else None
    if client is None:
        return UNKNOWN
    if not trusted.trusts(client):
        return str(client)
    for hop in reversed(_hops(headers)):
        address = _address(hop)
        if address is None:
            break  # garbage after a trusted hop: believe the trusted hop that wrote it, nothing further left
        client = address
        if not trusted.trusts(address):
            break
    return str(client)


class _Request(Protocol):
    """What ``client_address`` reads of an aiohttp request."""

    @property
    def remote(self) -> str | None: ...

    @property
    def headers(self) -> MultiMapping[str]: ...


def client_address(request: _Request, trusted: TrustedProxies) -> str:
    """The address ``request`` came from, believing forwarding headers only from ``trusted`` proxies."""
    return resolve_client(peer=request.remote, headers=request.headers, trusted=trusted)


#: Headers a reverse proxy adds; a request carrying any of them came through one (or pretends to).
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto")


def came_through_proxy(request: _Request) -> bool:
    """Whether ``request`` carries forwarding headers: a proxy (or someone pretending to be one) sent it."""
    return any(name in request.headers for name in PROXY_HEADERS)
