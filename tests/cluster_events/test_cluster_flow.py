"""Two gateways on one PostgreSQL and one Redis: a staff member on gateway A reaches a citizen on
gateway B and back, presence is seen on both, and one citizen's tabs on A and B stay in step."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.gateway import ws
from bot.gateway.bus import BUS, LocalBus, RedisBus
from tests.cluster_events.conftest import Cluster, frame
from tests.staff.conftest import login


async def citizen_socket(client: TestClient, conversation_id: str):
    sock = await client.ws_connect(ws.PATH)
    await sock.send_json(ws.Hello(conversation_id).to_wire())
    await frame(sock, "welcome")
    await frame(sock, "messages")
    return sock


async def console(client: TestClient, username: str):
    """Log in and open the console's live socket; returns (socket, hello, CSRF headers)."""
    token = await login(client, username)
    live = await client.ws_connect("/staff/api/live")
    hello = await frame(live, "hello")
    assert hello["staff"]["username"] == username
    return live, hello, {"X-CSRF-Token": token}


def online(*names: str):
    return lambda f: sorted(f["online"]) == sorted(names)


async def sees_online(live, hello: dict, *names: str) -> None:
    """The console shows exactly ``names`` online: at once, or after a presence update."""
    if sorted(hello["staff_online"]) != sorted(names):
        await frame(live, "staff.presence", online(*names))


async def test_staff_on_a_and_citizen_on_b_reach_each_other(cluster: Cluster) -> None:
    # The handoff only queues while someone is in the console; presence must cross gateways.
    gw_a = await cluster.start("a", require_staff_online=True)
    gw_b = await cluster.start("b", require_staff_online=True)
    assert isinstance(gw_a.app[BUS], RedisBus) and isinstance(gw_b.app[BUS], RedisBus)

    anna = await cluster.browser(gw_a)
    anna_live, _, headers = await console(anna, "anna")
    ben_live, ben_hello, _ = await console(await cluster.browser(gw_b), "ben")
    # Each console learns of the other staff member, who is on the other gateway.
    await sees_online(ben_live, ben_hello, "anna", "ben")
    await frame(anna_live, "staff.presence", online("anna", "ben"))

    # The citizen on B asks for a person: queued (not a callback offer), because anna and ben
    # are online somewhere; anna's console on A sees the queue change.
    tab_b = await citizen_socket(gw_b, "cross1")
    await tab_b.send_json(ws.AskHuman().to_wire())
    queued = await frame(tab_b, "messages", lambda f: f["handoff"] is not None)
    assert queued["handoff"]["status"] == "queued"
    changed = await frame(anna_live, "queue.changed", lambda f: f["conversation_id"] == "cross1")
    assert changed["status"] == "queued"

    # anna claims and replies on A; the citizen's socket on B gets the reply pushed.
    assert (await anna.post("/staff/api/conversations/cross1/claim", headers=headers)).status \
        == 200
    resp = await anna.post("/staff/api/conversations/cross1/messages", headers=headers,
                           json={"text": "Guten Tag, hier Anna Berger. Wie kann ich helfen?"})
    assert resp.status == 200
    pushed = await frame(tab_b, "messages", lambda f: any(m["role"] == "staff"
                                                           for m in f["messages"]))
    assert [m["text"] for m in pushed["messages"] if m["role"] == "staff"] == [
        "Guten Tag, hier Anna Berger. Wie kann ich helfen?"]
    assert pushed["handoff"]["status"] == "assigned"

    # The citizen writes on B; anna's console on A, watching the conversation, sees it.
    await anna_live.send_json({"type": "watch", "conversation_id": "cross1"})
    await anna_live.send_json({"type": "ping"})
    await frame(anna_live, "pong")
    await tab_b.send_json(ws.Say("Ich brauche einen neuen Reisepass.", "m1").to_wire())
    seen = await frame(anna_live, "conversation.message",
                       lambda f: f["message"]["role"] == "citizen")
    assert seen["conversation_id"] == "cross1"
    assert seen["message"]["text"] == "Ich brauche einen neuen Reisepass."

    # A second tab of the same citizen, on gateway A: both tabs see each other's messages and
    # the staff replies, whichever gateway they are on.
    tab_a = await citizen_socket(gw_a, "cross1")
    await tab_a.send_json(ws.Say("Noch eine Frage vom zweiten Tab.", "m2").to_wire())
    for tab in (tab_a, tab_b):
        got = await frame(tab, "messages", lambda f: any(
            m["text"] == "Noch eine Frage vom zweiten Tab." for m in f["messages"]))
        assert got["handoff"]["status"] == "assigned"
    await anna.post("/staff/api/conversations/cross1/messages", headers=headers,
                    json={"text": "Das erledigen wir gleich."})
    for tab in (tab_a, tab_b):
        await frame(tab, "messages", lambda f: any(m["text"] == "Das erledigen wir gleich."
                                                   for m in f["messages"]))

    # anna closes her console on A: ben's console on B sees her go at once (not after a TTL).
    await anna_live.close()
    await frame(ben_live, "staff.presence", online("ben"))
    for sock in (tab_a, tab_b, ben_live):
        await sock.close()


async def test_deleting_on_one_gateway_reaches_the_tab_on_the_other(cluster: Cluster) -> None:
    gw_a, gw_b = await cluster.start("a"), await cluster.start("b")
    tab_a = await citizen_socket(gw_a, "gone1")
    tab_b = await citizen_socket(gw_b, "gone1")
    await tab_b.send_json(ws.AskHuman().to_wire())  # something stored, without the dialogue
    await frame(tab_a, "messages", lambda f: f["handoff"] is not None)
    await tab_a.send_json(ws.Forget().to_wire())
    await frame(tab_a, "deleted")
    await frame(tab_b, "deleted")
    for tab in (tab_a, tab_b):
        await tab.close()


async def test_without_redis_the_bus_is_local_and_not_in_health(cluster: Cluster) -> None:
    gateway = await cluster.start("solo", redis_url="")
    assert isinstance(gateway.app[BUS], LocalBus)
    body = await (await gateway.get("/health")).json()
    assert "bus" not in body["components"]
    shared = await cluster.start("shared")
    body = await (await shared.get("/health")).json()
    assert body["components"]["bus"] == {"ok": True}
