"""The client address behind trusted reverse proxies (X-Forwarded-For), for per-client limits.

Each proxy appends the address it received the request from, so the header reads
``client, proxy1, proxy2`` and the peer of the gateway is the last proxy. Only the right end can
be believed: walking from the peer leftwards, every address that belongs to a trusted proxy is
skipped, and the first one that does not is the client. Anything left of it was written by the
client itself and is ignored, so a citizen cannot dodge a limit by sending the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse ``trusted_proxies`` once (the settings already checked every entry)."""
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str],
                   networks: tuple[Network, ...]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, then the right-most
    untrusted address of the X-Forwarded-For headers (all of them, in order)."""
    if not peer:
        return "unknown"
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop[:64]  # bounded: it is a dictionary key in the limiter
    # Every hop is a proxy (or there is no header): the left-most one is the best we know.
    return hops[0][:64] if hops else peer
