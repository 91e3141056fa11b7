"""The client address behind trusted proxies: the pure rule, and the gateway's per-client limit
on a real aiohttp server (each request's X-Forwarded-For decides whose budget it spends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.gateway.app import create_app
from bot.gateway.forwarded import client_address, trusted_networks
from bot.settings import Settings, SettingsError
from tests.conftest import free_port

LOOPBACK = trusted_networks(("127.0.0.1", "::1"))
LB_NET = trusted_networks(("10.0.0.0/8",))


@pytest.mark.parametrize(("peer", "headers", "networks", "expected"), [
    # No proxy configured: the header is the client's own claim and is ignored.
    ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),
    ("127.0.0.1", ["198.51.100.1"], (), "127.0.0.1"),
    # The peer is not a trusted proxy: same.
    ("203.0.113.7", ["198.51.100.1"], LOOPBACK, "203.0.113.7"),
    # nginx on loopback appended the real client.
    ("127.0.0.1", ["198.51.100.1"], LOOPBACK, "198.51.100.1"),
    # A client that sends its own header cannot choose its address: the right-most untrusted hop.
    ("127.0.0.1", ["1.2.3.4, 198.51.100.1"], LOOPBACK, "198.51.100.1"),
    ("127.0.0.1", ["1.2.3.4", "198.51.100.1"], LOOPBACK, "198.51.100.1"),
    # Two proxies of the city (ingress in 10/8, then loopback): both skipped.
    ("10.1.2.3", ["198.51.100.1, 10.9.9.9"], LB_NET, "198.51.100.1"),
    ("127.0.0.1", ["198.51.100.1, 10.9.9.9"], LOOPBACK + LB_NET, "198.51.100.1"),
    # IPv6 client and IPv4-mapped peer.
    ("::ffff:127.0.0.1", ["2001:db8::5"], LOOPBACK, "2001:db8::5"),
    # Trusted peer without a header, or only proxies in it.
    ("127.0.0.1", [], LOOPBACK, "127.0.0.1"),
    ("127.0.0.1", ["127.0.0.1"], LOOPBACK, "127.0.0.1"),
    # Garbage is not a proxy address, so it is the client; bounded in length.
    ("127.0.0.1", ["x" * 500], LOOPBACK, "x" * 64),
    (None, ["198.51.100.1"], LOOPBACK, "unknown"),
])
def test_client_address(peer, headers, networks, expected) -> None:
    assert client_address(peer, headers, networks) == expected


def test_trusted_proxies_are_checked_at_start() -> None:
    settings = Settings.load(env={"BUERGERBOT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.load(env={"BUERGERBOT_TRUSTED_PROXIES": "nginx"})


async def _statuses(aiohttp_client, tmp_path: Path, trusted: tuple[str, ...],
                    forwarded: list[str]) -> list[int]:
    settings = Settings.load(env={}, state_dir=tmp_path, rasa_port=free_port(),
                             action_port=free_port(), rasa_timeout=3.0,
                             rate_limit_client_per_minute=3,  # a burst of one message
                             trusted_proxies=trusted)
    client = await aiohttp_client(create_app(settings))
    out = []
    for i, xff in enumerate(forwarded):
        resp = await client.post("/api/v1/chat", headers={"X-Forwarded-For": xff},
                                 json={"conversation_id": f"c{i}", "text": "Hallo"})
        out.append(resp.status)
    return out


async def test_limits_follow_the_forwarded_client_behind_a_trusted_proxy(
        aiohttp_client, tmp_path: Path) -> None:
    # 503: through to the (absent) dialogue engine, i.e. not limited; 429: limited.
    statuses = await _statuses(aiohttp_client, tmp_path, ("127.0.0.1", "::1"),
                               ["198.51.100.1", "198.51.100.2", "198.51.100.1",
                                "9.9.9.9, 198.51.100.2"])
    assert statuses == [503, 503, 429, 429]


async def test_forwarded_header_is_ignored_without_trusted_proxies(
        aiohttp_client, tmp_path: Path) -> None:
    statuses = await _statuses(aiohttp_client, tmp_path, (), ["198.51.100.1", "198.51.100.2"])
    assert statuses == [503, 429]
