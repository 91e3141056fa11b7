"""The gateway's bus: live events, staff presence and turn order, for one gateway process or
for several gateways sharing one Redis.

Both implementations hand out the same three objects, which the rest of the gateway uses as
before: the handoff ``EventHub`` (console, citizen socket, voice line), the widget's ``ChatHub``
(wakes citizen sockets so they read new messages from the store) and ``Presence`` (who has the
console open). With ``redis_url`` empty, :class:`LocalBus` is exactly the in-process path.

:class:`RedisBus` (``redis_url`` set) adds, through redis-py's asyncio client:

* **events**: whatever a hub publishes is also published as JSON on one Redis channel
  (``buergerbot:<db>:bus``) with this gateway's random ``origin`` id; every gateway delivers what
  it receives to its own subscribers, except its own messages (already delivered locally).
  Staff-presence events are not sent: each gateway derives them from the shared presence.
* **presence**: a sorted set ``buergerbot:<db>:presence`` of (origin, username) by last seen
  (Redis server time). Each gateway refreshes its entries every ``heartbeat`` seconds and right
  after a console opens or closes (then it tells the others to re-read); entries older than
  ``presence_ttl`` are dropped, so the staff of a dead gateway disappear after that timeout.
* **turn order**: a Redis lock ``buergerbot:<db>:turn:<conversation>`` (redis-py ``Lock``) around
  each chat turn, held at most ``turn_lease`` seconds, so one conversation arriving at two
  gateways at once is answered one turn after the other (sequence numbers are safe anyway: the
  store assigns them atomically).

Failures: publishing never blocks (a bounded outbox, sent by one task). If Redis is down at
start or lost later, the bus reports itself down in ``/health``, logs it, and reconnects with
backoff (0.5 s doubling to 30 s). Meanwhile events reach this gateway's own sockets only, and
turns are serialised per gateway only. After the reconnect every subscriber resyncs (consoles
get ``resync`` and reload, citizen sockets re-read the store) and the other gateways are told to
do the same; messages are never lost because they are always in the store first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import structlog
from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.gateway import keys
from bot.gateway.ws import ChatHub, HubEvent
from bot.handoff.events import Event, EventHub, Overflow, StaffPresence, event_from_wire
from bot.handoff.presence import Presence

log = structlog.get_logger(__name__)

HEARTBEAT = 5.0  # seconds between presence refreshes
PRESENCE_TTL = 20.0  # a gateway silent this long: its staff count as offline
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
OUTBOX_SIZE = 10_000
CONNECT_TIMEOUT, COMMAND_TIMEOUT = 2.0, 5.0
_PRESENCE = object()  # outbox marker: write our presence entries, tell the others


class Bus(Protocol):
    events: EventHub
    chat: ChatHub
    presence: Presence

    @property
    def shared(self) -> bool:
        """True when events cross gateways (then ``health()`` belongs into /health)."""

    def health(self) -> dict[str, Any]: ...

    def turn_lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalBus:
    """One gateway process: the hubs and presence as they always were."""

    def __init__(self) -> None:
        self.events = EventHub()
        self.chat = ChatHub()
        self.presence = Presence()

    @property
    def shared(self) -> bool:
        return False

    def health(self) -> dict[str, Any]:
        return {"ok": True}

    def turn_lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()  # the chat service's own lock is enough

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class RedisBus:
    """Several gateways: the same hubs and presence, shared through Redis pub/sub."""

    def __init__(self, url: str, *, heartbeat: float = HEARTBEAT,
                 presence_ttl: float = PRESENCE_TTL, turn_lease: float = 30.0) -> None:
        self.origin = uuid.uuid4().hex
        self._redis = aioredis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT,
                                        socket_timeout=COMMAND_TIMEOUT)
        kwargs = self._redis.connection_pool.connection_kwargs
        self._where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        prefix = f"buergerbot:{kwargs.get('db', 0)}"  # pub/sub ignores the db number; we don't
        self._channel, self._presence_key = f"{prefix}:bus", f"{prefix}:presence"
        self._lock_prefix = f"{prefix}:turn:"
        self._heartbeat, self._ttl, self._lease = heartbeat, presence_ttl, turn_lease
        self.events = EventHub(relay=self._relay_event)
        self.chat = ChatHub(relay=self._relay_chat)
        self.presence = Presence(on_change=lambda: self._enqueue(_PRESENCE))
        self._outbox: asyncio.Queue[object] = asyncio.Queue(OUTBOX_SIZE)
        self._up = False
        self._error = "not started"
        self._dropped = False  # the others may have missed our events: send them a resync
        self._written: set[str] = set()  # our presence entries in Redis
        self._last_refresh = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._attempted = asyncio.Event()

    @property
    def shared(self) -> bool:
        return True

    def health(self) -> dict[str, Any]:
        return {"ok": True} if self._up else {"ok": False, "detail": self._error}

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the link; return once the first connection attempt has succeeded or failed
        (so the first turns already take the shared lock). Never raises for Redis."""
        self._tasks = [asyncio.create_task(self._link()), asyncio.create_task(self._send())]
        with contextlib.suppress(asyncio.TimeoutError):
            async with asyncio.timeout(CONNECT_TIMEOUT + COMMAND_TIMEOUT):
                await self._attempted.wait()

    async def close(self) -> None:
        # A flag besides cancel(): a cancellation that meets a redis-py timeout can come out as
        # a TimeoutError, which the loops would take for a Redis failure and carry on.
        self._closing = True
        for task in self._tasks:
            task.cancel()
        _, stuck = await asyncio.wait(self._tasks, timeout=COMMAND_TIMEOUT + 1)
        if stuck:
            log.warning("gateway.bus.stop_timeout", tasks=len(stuck))
        if self._up and self._written:  # leave the presence set at once, not after the TTL
            with contextlib.suppress(RedisError, OSError, asyncio.TimeoutError):
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await self._redis.zrem(self._presence_key, *self._written)
                    await self._redis.publish(self._channel, self._wire("presence"))
        await self._redis.close(close_connection_pool=True)

    # -- outgoing ----------------------------------------------------------------------------------
    def _wire(self, kind: str, **fields: Any) -> str:
        return json.dumps({"v": 1, "origin": self.origin, "kind": kind, **fields},
                          ensure_ascii=False)

    def _relay_event(self, event: Event) -> None:
        if not isinstance(event, StaffPresence | Overflow):
            self._enqueue(self._wire("event", event=event.to_wire()))

    def _relay_chat(self, conversation_id: str, event: HubEvent) -> None:
        self._enqueue(self._wire("chat", conversation_id=conversation_id, event=event.value))

    def _enqueue(self, item: object) -> None:
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            self._dropped = True

    async def _send(self) -> None:
        """The one writer: sends the outbox in order; drops (and remembers it) while down."""
        while not self._closing:
            item = await self._outbox.get()
            if not self._up:  # presence is rewritten on the reconnect anyway
                self._dropped = self._dropped or isinstance(item, str)
                continue
            try:
                if self._dropped:
                    await self._redis.publish(self._channel, self._wire("resync"))
                    self._dropped = False
                if item is _PRESENCE:
                    await self._write_presence()
                    item = self._wire("presence")
                if isinstance(item, str):
                    await self._redis.publish(self._channel, item)
            except (RedisError, OSError) as err:
                self._dropped = True
                log.warning("gateway.bus.publish_failed", error=type(err).__name__)

    # -- incoming ----------------------------------------------------------------------------------
    async def _link(self) -> None:
        """Subscribe, receive and keep presence fresh; on any failure reconnect with backoff."""
        backoff, interrupted = BACKOFF_FIRST, False
        while not self._closing:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                await self._write_presence()
                await self._refresh_presence()
                self._up, backoff = True, BACKOFF_FIRST
                self._attempted.set()
                log.info("gateway.bus.connected", redis=self._where, origin=self.origin[:8])
                if interrupted:  # we may have missed the others' events, and they ours
                    self.events.resync()
                    self.chat.resync()
                    self._dropped = True
                self._enqueue(_PRESENCE)  # a pending resync first, then who is online here
                interrupted = False
                await self._receive(pubsub)
            except (RedisError, OSError) as err:
                if self._closing:
                    return
                self._error = f"{type(err).__name__}: {err}"
                if self._up or not interrupted:
                    log.error("gateway.bus.unavailable", redis=self._where, error=self._error,
                              hint="live events reach this gateway's sockets only until Redis "
                                   "is back; turns are serialised per gateway only")
                self._up, interrupted = False, True
            finally:
                self._attempted.set()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.close()
            if self._closing:
                return
            # Idle pooled connections to the old server would fail once; drop them.
            with contextlib.suppress(RedisError, OSError):
                await self._redis.connection_pool.disconnect(inuse_connections=False)
            if time.monotonic() - self._last_refresh > self._ttl:
                self._set_remote(frozenset())  # we cannot know who else is online
            log.info("gateway.bus.retry", seconds=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _receive(self, pubsub: Any) -> None:
        next_beat = time.monotonic() + self._heartbeat
        while not self._closing:
            message = await pubsub.get_message(timeout=min(1.0, self._heartbeat))
            if message is not None and message.get("type") == "message":
                await self._on_message(message["data"])
            if time.monotonic() >= next_beat:
                await self._write_presence()
                await self._refresh_presence()
                next_beat = time.monotonic() + self._heartbeat

    async def _on_message(self, data: bytes) -> None:
        try:
            message = json.loads(data)
            origin, kind = message["origin"], message["kind"]
            if origin == self.origin:
                return
            if kind == "event":
                self.events.deliver(event_from_wire(message["event"]))
            elif kind == "chat":
                conversation_id = message["conversation_id"]
                if not isinstance(conversation_id, str):
                    raise ValueError("conversation_id")
                self.chat.deliver(conversation_id, HubEvent(message["event"]))
            elif kind == "presence":
                await self._refresh_presence()
            elif kind == "resync":
                self.events.resync()
                self.chat.resync()
        except (ValueError, KeyError, TypeError) as err:
            log.warning("gateway.bus.malformed_message", error=type(err).__name__)

    # -- presence ----------------------------------------------------------------------------------
    async def _server_seconds(self) -> float:
        seconds, micros = await self._redis.time()
        return seconds + micros / 1e6

    async def _write_presence(self) -> None:
        members = {json.dumps([self.origin, u]) for u in self.presence.local_usernames()}
        gone = self._written - members
        now = await self._server_seconds()
        async with self._redis.pipeline(transaction=False) as pipe:
            if gone:
                pipe.zrem(self._presence_key, *gone)
            if members:
                pipe.zadd(self._presence_key, dict.fromkeys(members, now))
            await pipe.execute()
        self._written = members

    async def _refresh_presence(self) -> None:
        now = await self._server_seconds()
        await self._redis.zremrangebyscore(self._presence_key, "-inf", now - self._ttl)
        remote = set()
        for raw in await self._redis.zrangebyscore(self._presence_key, now - self._ttl, "+inf"):
            with contextlib.suppress(ValueError, TypeError):
                origin, username = json.loads(raw)
                if origin != self.origin and isinstance(username, str):
                    remote.add(username)
        self._last_refresh = time.monotonic()
        self._set_remote(frozenset(remote))

    def _set_remote(self, usernames: frozenset[str]) -> None:
        before = self.presence.usernames()
        self.presence.set_remote(usernames)
        after = self.presence.usernames()
        if after != before:
            self.events.deliver(StaffPresence(tuple(sorted(after))))

    # -- turn order --------------------------------------------------------------------------------
    @asynccontextmanager
    async def turn_lock(self, conversation_id: str) -> AsyncIterator[None]:
        """Hold the conversation's Redis lock for one turn (up to ``turn_lease`` seconds).
        Without Redis, or if the lock cannot be had in time, the turn runs anyway (logged):
        answering matters more than the order across gateways."""
        lock = self._redis.lock(self._lock_prefix + conversation_id, timeout=self._lease,
                                sleep=0.05, blocking_timeout=self._lease)
        acquired = False
        if self._up:
            try:
                acquired = bool(await lock.acquire())
                if not acquired:
                    log.warning("gateway.bus.turn_lock_timeout", seconds=self._lease)
            except (RedisError, OSError) as err:
                log.warning("gateway.bus.turn_lock_failed", error=type(err).__name__)
        try:
            yield
        finally:
            if acquired:
                try:
                    await lock.release()
                except (RedisError, OSError) as err:  # expired (turn outlived the lease) or lost
                    log.warning("gateway.bus.turn_lock_release_failed",
                                error=type(err).__name__)


BUS = web.AppKey("bus", Bus)


async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the bus lives before and after everything that publishes on it."""
    settings = app[keys.SETTINGS]
    bus: Bus = LocalBus()
    if settings.redis_url:
        bus = RedisBus(settings.redis_url, turn_lease=max(30.0, 3 * settings.rasa_timeout))
    app[BUS] = bus
    await bus.start()
    yield
    await bus.close()
