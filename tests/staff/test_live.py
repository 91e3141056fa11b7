"""The live socket ends cleanly when the gateway shuts down (so a restart does not wait)."""

from __future__ import annotations

from aiohttp import WSCloseCode, WSMsgType

from tests.staff.conftest import Gateway, login


async def test_shutdown_closes_console_sockets_with_going_away(gateway: Gateway) -> None:
    client = await gateway.start()
    await login(client, "anna")
    ws = await client.ws_connect("/staff/api/live")
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    await client.server.app.shutdown()  # what the runner does first on SIGTERM
    message = await ws.receive(timeout=5)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == WSCloseCode.GOING_AWAY
