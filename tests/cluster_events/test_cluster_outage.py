"""Redis away: a gateway that starts without it says so in /health and the log and connects
later; a gateway that loses it keeps serving, reconnects, and its sockets resync from the store
(nothing is lost: messages are always stored first)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from bot.gateway import ws
from bot.gateway.bus import BUS
from tests.cluster_events.conftest import Cluster, eventually, frame
from tests.cluster_events.test_cluster_flow import citizen_socket, console
from tests.redis_server import RedisServer


async def bus_state(gateway: TestClient) -> dict:
    resp = await gateway.get("/health")
    return dict((await resp.json())["components"]["bus"])


def bus_is(gateway: TestClient, ok: bool):
    async def check() -> bool:
        return (await bus_state(gateway))["ok"] is ok
    return check


async def test_redis_down_at_start_is_reported_and_joined_later(
        cluster: Cluster, redis: RedisServer) -> None:
    redis.stop()
    with capture_logs() as logs:
        gateway = await cluster.start("a")
        resp = await gateway.get("/health")
        body = await resp.json()
        assert resp.status == 503 and "bus" in body["down"]
        assert body["components"]["bus"]["ok"] is False
        assert "ConnectionError" in body["components"]["bus"]["detail"]
        errors = [e for e in logs if e["event"] == "gateway.bus.unavailable"]
        assert errors and errors[0]["log_level"] == "error"
        assert "password" not in str(errors[0]) and errors[0]["redis"].startswith("127.0.0.1:")
    # The gateway serves meanwhile (in-process events only).
    resp = await gateway.post("/api/v1/conversations/early1/handoff")
    assert resp.status == 200
    redis.start()
    await eventually(bus_is(gateway, True), "the bus connects once Redis is there")
    assert gateway.app[BUS].health() == {"ok": True}


async def test_redis_lost_while_running_then_everyone_resyncs(
        cluster: Cluster, redis: RedisServer) -> None:
    gw_a, gw_b = await cluster.start("a"), await cluster.start("b")
    tab_b = await citizen_socket(gw_b, "lost1")
    await tab_b.send_json(ws.AskHuman().to_wire())
    await frame(tab_b, "messages", lambda f: f["handoff"] is not None)
    anna = await cluster.browser(gw_a)
    anna_live, _, headers = await console(anna, "anna")
    assert (await anna.post("/staff/api/conversations/lost1/claim", headers=headers)).status \
        == 200
    await frame(tab_b, "messages", lambda f: f["handoff"]["status"] == "assigned")

    redis.stop()
    await eventually(bus_is(gw_a, False), "gateway A notices")
    await eventually(bus_is(gw_b, False), "gateway B notices")
    # Both gateways keep working: anna replies on A, the citizen writes through A's HTTP API
    # (no shared turn lock now); all of it is stored, none of it reaches B yet.
    resp = await anna.post("/staff/api/conversations/lost1/messages", headers=headers,
                           json={"text": "Sind Sie noch da?"})
    assert resp.status == 200
    resp = await gw_a.post("/api/v1/chat", json={"conversation_id": "lost1",
                                                 "text": "Ja, hier bin ich."})
    assert resp.status == 200 and (await resp.json())["messages"] == []

    redis.start()
    # After the reconnect the citizen's socket on B re-reads the store and gets both,
    pushed = await frame(tab_b, "messages", lambda f: any(m["text"] == "Ja, hier bin ich."
                                                          for m in f["messages"]))
    texts = [m["text"] for m in pushed["messages"]]
    assert texts.index("Sind Sie noch da?") < texts.index("Ja, hier bin ich.")
    # and the console on A is told to reload (it may have missed B's events).
    await frame(anna_live, "resync")
    await eventually(bus_is(gw_a, True), "gateway A is back")
    await eventually(bus_is(gw_b, True), "gateway B is back")

    # Live again across gateways.
    await anna.post("/staff/api/conversations/lost1/messages", headers=headers,
                    json={"text": "Schön, dann machen wir weiter."})
    await frame(tab_b, "messages", lambda f: any(m["text"] == "Schön, dann machen wir weiter."
                                                 for m in f["messages"]))
    for sock in (tab_b, anna_live):
        await sock.close()
