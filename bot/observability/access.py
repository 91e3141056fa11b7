"""Who may read ``/metrics``: peers in ``metrics_allow`` (loopback by default), and never a
request that came through a reverse proxy — behind a proxy on the same host every citizen
would otherwise look like loopback. Pure functions, no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Headers a reverse proxy adds; Prometheus scraping the port directly sends none of them.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

FORBIDDEN_MESSAGE = ("Die Messwerte sind nur aus freigegebenen Netzen abrufbar "
                     "(Einstellung metrics_allow).")


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """``metrics_allow`` as networks (the settings checked the syntax already)."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def metrics_allowed(peer: str | None, headers: Mapping[str, str],
                    networks: tuple[Network, ...]) -> bool:
    """True if ``peer`` (the TCP peer address) may read the metrics."""
    if peer is None or any(h in headers for h in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:  # a unix socket or garbage
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in networks if net.version == address.version)
