"""The Redis bus on its own: event wire format, messages of other gateways (well-formed or not),
presence that expires with a silent gateway, and turns of one conversation on two gateways."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis import asyncio as aioredis

from bot.gateway.bus import RedisBus
from bot.handoff.events import (
    CallTransferRequested,
    EventHub,
    MessageAdded,
    Overflow,
    QueueChanged,
    StaffPresence,
    TicketChanged,
    event_from_wire,
)
from tests.cluster_events.conftest import Cluster, eventually
from tests.redis_server import RedisServer

CHANNEL, PRESENCE = "buergerbot:0:bus", "buergerbot:0:presence"


def test_every_event_round_trips_through_the_wire() -> None:
    events = [QueueChanged("c1", "assigned", "anna"), QueueChanged("c1", "queued"),
              MessageAdded("c1", {"seq": 3, "role": "staff", "text": "Guten Tag"}),
              TicketChanged(7, "open"), CallTransferRequested("call-1", "ben"),
              StaffPresence(("anna", "ben")), Overflow()]
    for event in events:
        assert event_from_wire(json.loads(json.dumps(event.to_wire()))) == event


@pytest.mark.parametrize("data", [None, [], {}, {"type": "nope"},
                                  {"type": "queue.changed", "conversation_id": 5, "status": "x"},
                                  {"type": "ticket.changed", "ticket_id": "7", "status": "open"},
                                  {"type": "ticket.changed", "ticket_id": True, "status": "open"},
                                  {"type": "conversation.message", "conversation_id": "c"},
                                  {"type": "staff.presence", "online": "anna"}])
def test_malformed_events_are_refused(data: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        event_from_wire(data)


@pytest.fixture
async def bus(redis: RedisServer) -> AsyncIterator[RedisBus]:
    bus = RedisBus(redis.url, heartbeat=0.2, presence_ttl=2.0)
    await bus.start()
    await eventually(lambda: _ok(bus), "the bus connects")
    yield bus
    await bus.close()


@pytest.fixture
async def raw(redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis.url)
    yield client
    await client.close(close_connection_pool=True)


async def _ok(bus: RedisBus) -> bool:
    return bool(bus.health()["ok"])


async def test_other_gateways_events_arrive_once_and_garbage_is_ignored(
        bus: RedisBus, raw: aioredis.Redis) -> None:
    async with bus.events.subscribe() as events:
        bus.events.publish(QueueChanged("own", "queued"))  # delivered here, not echoed back
        for junk in (b"kein json", b"[]", json.dumps({"origin": "gw2"}),
                     json.dumps({"origin": "gw2", "kind": "event", "event": {"type": "?"}}),
                     json.dumps({"origin": "gw2", "kind": "chat", "conversation_id": 3,
                                 "event": "changed"})):
            await raw.publish(CHANNEL, junk)
        await raw.publish(CHANNEL, json.dumps({"v": 1, "origin": "gw2", "kind": "event",
                                               "event": TicketChanged(4, "open").to_wire()}))
        assert await asyncio.wait_for(events.get(), 10) == QueueChanged("own", "queued")
        assert await asyncio.wait_for(events.get(), 10) == TicketChanged(4, "open")
        assert events.get_nowait() is None
    assert bus.health() == {"ok": True}


async def test_chat_changes_of_other_gateways_wake_local_sockets(
        bus: RedisBus, raw: aioredis.Redis) -> None:
    subscription = bus.chat.subscribe("c9")
    await raw.publish(CHANNEL, json.dumps({"v": 1, "origin": "gw2", "kind": "chat",
                                           "conversation_id": "c9", "event": "deleted"}))
    assert (await asyncio.wait_for(subscription.next(), 10)).value == "deleted"
    subscription.close()


async def test_staff_of_a_silent_gateway_drop_out_after_the_ttl(
        bus: RedisBus, raw: aioredis.Redis) -> None:
    seconds, _ = await raw.time()
    await raw.zadd(PRESENCE, {json.dumps(["dead-gw", "olga"]): seconds - 60,
                              json.dumps(["gw2", "fritz"]): seconds})
    async with bus.events.subscribe() as events:
        await raw.publish(CHANNEL, json.dumps({"v": 1, "origin": "gw2", "kind": "presence"}))
        assert await asyncio.wait_for(events.get(), 10) == StaffPresence(("fritz",))
        assert bus.presence.usernames() == {"fritz"} and bus.presence.count() == 1
        assert await raw.zscore(PRESENCE, json.dumps(["dead-gw", "olga"])) is None
        # gw2 stops refreshing its entry (it died): fritz is gone after the TTL.
        assert await asyncio.wait_for(events.get(), 20) == StaffPresence(())
    assert bus.presence.count() == 0


async def test_a_console_here_is_written_and_removed_at_close(
        bus: RedisBus, raw: aioredis.Redis, redis: RedisServer) -> None:
    other = RedisBus(redis.url, heartbeat=0.2, presence_ttl=2.0)
    await other.start()
    try:
        with bus.presence.online("anna"):
            await eventually(lambda: _has(other, "anna"), "the other gateway sees anna")
            assert bus.presence.local_usernames() == {"anna"}
            assert other.presence.local_usernames() == frozenset()
        await eventually(lambda: _has(other, "anna", False), "anna is gone at once")
        with other.presence.online("ben"):
            await eventually(lambda: _has(bus, "ben"), "ben is seen")
            await other.close()  # a clean stop removes its entries without waiting for the TTL
            await eventually(lambda: _has(bus, "ben", False), "ben is gone with his gateway")
    finally:
        await other.close()


async def _has(bus: RedisBus, username: str, present: bool = True) -> bool:
    return (username in bus.presence.usernames()) is present


class SlowRasa:
    """Rasa's REST channel, answering after a pause, recording how many turns of one
    conversation it had in flight at once."""

    def __init__(self) -> None:
        self.in_flight: dict[str, int] = {}
        self.most = 0

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = body["sender"]
        self.in_flight[sender] = self.in_flight.get(sender, 0) + 1
        self.most = max(self.most, self.in_flight[sender])
        await asyncio.sleep(0.3)  # long enough for a second gateway to barge in without a lock
        self.in_flight[sender] -= 1
        return web.json_response([{"text": f"Antwort auf: {body['message']}"}])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app


async def test_one_conversation_on_two_gateways_is_answered_turn_by_turn(
        cluster: Cluster, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> None:
    rasa = SlowRasa()
    cluster.rasa_port = (await aiohttp_server(rasa.app())).port
    gw_a, gw_b = await cluster.start("a"), await cluster.start("b")

    async def say(gateway: TestClient, text: str) -> dict[str, Any]:
        resp = await gateway.post("/api/v1/chat", json={"conversation_id": "both1",
                                                        "text": text})
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    for _ in range(3):
        await asyncio.gather(say(gw_a, "über A"), say(gw_b, "über B"))
    assert rasa.most == 1
    history = await (await gw_a.get("/api/v1/conversations/both1/messages")).json()
    roles = [m["role"] for m in history["messages"]]
    assert roles == ["citizen", "bot"] * 6  # each question directly followed by its answer
    for question, answer in zip(history["messages"][::2], history["messages"][1::2]):
        assert answer["text"] == f"Antwort auf: {question['text']}"


async def test_resync_wakes_a_subscriber_that_is_waiting() -> None:
    hub = EventHub(queue_size=2)
    async with hub.subscribe() as events:
        waiting = asyncio.create_task(events.get())
        await asyncio.sleep(0)
        hub.resync()
        assert await asyncio.wait_for(waiting, 5) == Overflow()
        hub.publish(TicketChanged(1, "open"))  # later events flow again
        assert events.get_nowait() == TicketChanged(1, "open")
