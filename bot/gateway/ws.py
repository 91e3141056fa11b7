"""The chat WebSocket ``/api/v1/ws``: the web widget's live line to the chat service.

A socket is bound to one conversation by its first frame. Every frame is a JSON text object with
a ``type``::

    client → server  hello {conversation_id, after}  bind (again) to a conversation
                     message {ref, text}             a citizen's message (ref: the client's id;
                                                     in message_id syntax it makes a resent
                                                     frame idempotent, as in POST /api/v1/chat)
                     feedback {seq, rating}          thumbs up/down on a bot answer
                     handoff {}                      "Mit einem Menschen sprechen"
                     delete {}                       delete the conversation
                     ping {}
    server → client  welcome {conversation_id, voice, retention_days, max_text, ratings}
                     (voice: path of the dictation socket, vosk-server protocol, or null)
                     messages {messages, handoff, ref}   stored messages not sent yet
                     typing {active}
                     rated {seq, rating}
                     deleted {}
                     error {code, message, ref, retry_after}
                     pong {}

Messages are always read back from the store, so every socket on a conversation (two tabs, or
later a staff member's reply) sees the same numbered history: whoever changes a conversation
calls :meth:`ChatHub.publish`, and each subscribed socket sends what it has not sent yet. A
malformed frame gets an ``error`` frame; the socket stays open. While the database cannot be
reached, frames get an ``error`` frame ``storage-unavailable``; after a ``hello`` the socket is
then closed with 1013 (try again later), and the client reconnects as after any dropped line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from bot.feedback import FeedbackStore, Rating
from bot.gateway import keys
from bot.gateway.api import MAX_TEXT, MESSAGE_ID, _conversation_id, _text, turn_error
from bot.gateway.chat import MessageIdReused, TurnInProgress, handoff_view
from bot.gateway.dialogue import DialogueUnavailable
from bot.gateway.errors import ApiError, storage_unavailable
from bot.messages import HandoffRequest
from bot.observability.gateway import count_rate_limited
from bot.store import STORE_UNAVAILABLE

log = structlog.get_logger(__name__)

PATH = "/api/v1/ws"
MAX_FRAME = 16 * 1024  # larger text frames get an error frame
MAX_WS_MESSAGE = 64 * 1024  # larger ones make aiohttp close the socket (1009)
MAX_QUEUED = 4  # frames waiting behind a running turn

DIALOGUE_DOWN = ("Der Assistent ist gerade nicht erreichbar. Ihre Nachricht wurde gespeichert. "
                 "Bitte versuchen Sie es in einigen Minuten erneut oder rufen Sie die "
                 "Behördennummer 115 an.")
INTERNAL_ERROR = ("Es ist ein interner Fehler aufgetreten. Bitte versuchen Sie es später noch "
                  "einmal.")


class FrameError(Exception):
    """A frame the server cannot act on; becomes an ``error`` frame with a German message."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


def _obj(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise FrameError("malformed-frame", "Die Nachricht muss ein JSON-Objekt sein.")
    return data


def _count(data: dict[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        raise FrameError("invalid-field", f"Das Feld {key} muss eine ganze Zahl ≥ 0 sein.")
    return value


def _ref(data: dict[str, Any]) -> str | None:
    ref = data.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or not 0 < len(ref) <= 64:
        raise FrameError("invalid-field", "Das Feld ref muss eine kurze Zeichenkette sein.")
    return ref


# -- wire: client → server -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hello:
    TYPE: ClassVar[str] = "hello"
    conversation_id: str
    after: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "conversation_id": self.conversation_id, "after": self.after}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Hello:
        return cls(_conversation_id(data.get("conversation_id")), _count(data, "after", 0))


@dataclass(frozen=True, slots=True)
class Say:
    TYPE: ClassVar[str] = "message"
    text: str
    ref: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "text": self.text, "ref": self.ref}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Say:
        return cls(_text(data.get("text")), _ref(data))


@dataclass(frozen=True, slots=True)
class Rate:
    TYPE: ClassVar[str] = "feedback"
    seq: int
    rating: Rating

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "seq": self.seq, "rating": self.rating.value}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Rate:
        rating = data.get("rating")
        if not isinstance(rating, str) or rating not in {r.value for r in Rating}:
            raise FrameError("invalid-field", "Das Feld rating muss up oder down sein.")
        return cls(_count(data, "seq"), Rating(rating))


@dataclass(frozen=True, slots=True)
class AskHuman:
    TYPE: ClassVar[str] = "handoff"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> AskHuman:
        return cls()


@dataclass(frozen=True, slots=True)
class Forget:
    TYPE: ClassVar[str] = "delete"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> Forget:
        return cls()


@dataclass(frozen=True, slots=True)
class Ping:
    TYPE: ClassVar[str] = "ping"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> Ping:
        return cls()


ClientFrame = Hello | Say | Rate | AskHuman | Forget | Ping
CLIENT_FRAMES: dict[str, Callable[[dict[str, Any]], ClientFrame]] = {
    c.TYPE: c.from_wire for c in (Hello, Say, Rate, AskHuman, Forget, Ping)}


def parse_client_frame(raw: str) -> ClientFrame:
    """Decode one text frame; raise :class:`FrameError` with a German message."""
    if len(raw) > MAX_FRAME:
        raise FrameError("frame-too-large", "Die Nachricht ist zu groß.")
    try:
        data = _obj(json.loads(raw))
    except (ValueError, RecursionError) as err:
        raise FrameError("malformed-frame", "Die Nachricht ist kein gültiges JSON.") from err
    kind = data.get("type")
    decode = CLIENT_FRAMES.get(kind) if isinstance(kind, str) else None
    if decode is None:
        raise FrameError("unknown-frame-type", "Unbekannter Nachrichtentyp.")
    try:
        return decode(data)
    except ApiError as err:
        raise FrameError(err.code, err.message) from err


# -- wire: server → client -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Welcome:
    TYPE: ClassVar[str] = "welcome"
    conversation_id: str
    voice: str | None  # path of the dictation socket, or None while the gateway has none
    retention_days: int
    max_text: int = MAX_TEXT
    ratings: dict[int, Rating] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "conversation_id": self.conversation_id, "voice": self.voice,
                "retention_days": self.retention_days, "max_text": self.max_text,
                "ratings": {str(k): v.value for k, v in self.ratings.items()}}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Welcome:
        ratings = _obj(data.get("ratings", {}))
        return cls(data["conversation_id"], data.get("voice"), data["retention_days"],
                   data["max_text"], {int(k): Rating(v) for k, v in ratings.items()})


@dataclass(frozen=True, slots=True)
class Messages:
    TYPE: ClassVar[str] = "messages"
    messages: tuple[dict[str, Any], ...]  # StoredMessage.to_api() objects, ascending seq
    handoff: dict[str, Any] | None = None
    ref: str | None = None  # the client's message these answer, if any

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "messages": list(self.messages), "handoff": self.handoff,
                "ref": self.ref}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Messages:
        return cls(tuple(_obj(m) for m in data["messages"]), data.get("handoff"), data.get("ref"))


@dataclass(frozen=True, slots=True)
class Typing:
    TYPE: ClassVar[str] = "typing"
    active: bool

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "active": self.active}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Typing:
        return cls(bool(data["active"]))


@dataclass(frozen=True, slots=True)
class Rated:
    TYPE: ClassVar[str] = "rated"
    seq: int
    rating: Rating

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "seq": self.seq, "rating": self.rating.value}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Rated:
        return cls(data["seq"], Rating(data["rating"]))


@dataclass(frozen=True, slots=True)
class Deleted:
    TYPE: ClassVar[str] = "deleted"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> Deleted:
        return cls()


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None
    retry_after: float | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, "code": self.code, "message": self.message, "ref": self.ref,
                "retry_after": self.retry_after}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ErrorFrame:
        return cls(data["code"], data["message"], data.get("ref"), data.get("retry_after"))


@dataclass(frozen=True, slots=True)
class Pong:
    TYPE: ClassVar[str] = "pong"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    @classmethod
    def from_wire(cls, _data: dict[str, Any]) -> Pong:
        return cls()


ServerFrame = Welcome | Messages | Typing | Rated | Deleted | ErrorFrame | Pong
SERVER_FRAMES: dict[str, Callable[[dict[str, Any]], ServerFrame]] = {
    c.TYPE: c.from_wire for c in (Welcome, Messages, Typing, Rated, Deleted, ErrorFrame, Pong)}


def parse_server_frame(raw: str) -> ServerFrame:
    data = _obj(json.loads(raw))
    return SERVER_FRAMES[data["type"]](data)


# -- limits (pure; the clock is passed in) --------------------------------------------------------
class RateLimiter:
    """Token buckets per key: ``per_minute`` sustained, ``burst`` at once. Bounded memory."""

    def __init__(self, per_minute: float, burst: int, *, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one token: 0.0 if allowed, else the seconds until the next token."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self._rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)  # the least recently seen client
        return wait


class ConnectionCounter:
    """Open sockets per client, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        if self._open.get(key, 0) >= self._limit:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def release(self, key: str) -> None:
        left = self._open.get(key, 1) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)


@dataclass(frozen=True, slots=True)
class Limits:
    writes_per_client: RateLimiter  # messages, ratings, handoff and delete requests
    writes_per_conversation: RateLimiter
    reads_per_client: RateLimiter  # HTTP reads (history polling of the fallback)
    sockets_per_client: ConnectionCounter

    @classmethod
    def default(cls, clock: Callable[[], float] = time.monotonic, *, client_per_minute: int = 60,
                conversation_per_minute: int = 20) -> Limits:
        return cls(RateLimiter(client_per_minute, max(1, client_per_minute // 3), clock=clock),
                   RateLimiter(conversation_per_minute, max(1, conversation_per_minute * 2 // 5),
                               clock=clock),
                   RateLimiter(4 * client_per_minute, client_per_minute, clock=clock),
                   ConnectionCounter(20))

    def check_write(self, client: str, conversation_id: str) -> None:
        """Spend a write token of the client and of the conversation, or raise FrameError."""
        wait = max(self.writes_per_client.take(client),
                   self.writes_per_conversation.take(conversation_id))
        if wait > 0:
            raise FrameError("rate-limited", "Sie haben sehr viele Nachrichten in kurzer Zeit "
                             f"gesendet. Bitte warten Sie {max(1, round(wait))} Sekunden.",
                             retry_after=round(wait, 1))


# -- pub/sub -------------------------------------------------------------------------------------
class HubEvent(StrEnum):
    CHANGED = "changed"  # new stored messages or a new handoff state
    DELETED = "deleted"


class Subscription:
    """One socket's interest in one conversation: a small queue of hub events."""

    def __init__(self, hub: ChatHub, conversation_id: str) -> None:
        self._hub = hub
        self.conversation_id = conversation_id
        self._queue: asyncio.Queue[HubEvent | None] = asyncio.Queue(maxsize=8)

    async def next(self) -> HubEvent | None:
        """The next event, or None once the subscription is closed."""
        return await self._queue.get()

    def offer(self, event: HubEvent | None) -> None:
        if self._queue.full():  # a CHANGED is pending anyway; DELETED and close must not be lost
            if event is HubEvent.CHANGED:
                return
            self._queue.get_nowait()
        self._queue.put_nowait(event)

    def close(self) -> None:
        self._hub._remove(self)
        self.offer(None)


class ChatHub:
    """Pub/sub of conversation changes: in-process, plus a ``relay`` to the other gateways when
    there are several (bot/gateway/bus.py), whose changes come in through :meth:`deliver`."""

    def __init__(self, relay: Callable[[str, HubEvent], None] | None = None) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._relay = relay

    def subscribe(self, conversation_id: str) -> Subscription:
        subscription = Subscription(self, conversation_id)
        self._subscribers.setdefault(conversation_id, set()).add(subscription)
        return subscription

    def publish(self, conversation_id: str, event: HubEvent = HubEvent.CHANGED) -> int:
        """Wake every socket on the conversation; return how many listen in this process."""
        count = self.deliver(conversation_id, event)
        if self._relay is not None:
            self._relay(conversation_id, event)
        return count

    def deliver(self, conversation_id: str, event: HubEvent = HubEvent.CHANGED) -> int:
        """Wake this process's sockets on the conversation only."""
        subscribers = self._subscribers.get(conversation_id, set())
        for subscription in subscribers:
            subscription.offer(event)
        return len(subscribers)

    def resync(self) -> None:
        """Every socket re-reads the store (changes of other gateways may have been missed)."""
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.offer(HubEvent.CHANGED)

    def _remove(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.conversation_id, set())
        subscribers.discard(subscription)
        if not subscribers:
            self._subscribers.pop(subscription.conversation_id, None)


@dataclass(frozen=True, slots=True)
class Widget:
    """What the web chat needs besides the chat service and the store."""

    hub: ChatHub
    feedback: FeedbackStore
    limits: Limits
    voice: Callable[[], str | None]  # the dictation socket's path while voice works, else None
    retention_days: int
    # The sockets' background tasks; the owner awaits them before the store closes.
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Open chat sockets, closed with "going away" on shutdown so the gateway stops at once
    # (the widget reconnects, then restores the history from the server).
    sockets: set[web.WebSocketResponse] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


WIDGET = web.AppKey("widget", Widget)


# -- conversation actions, shared by the socket and the HTTP fallback -----------------------------
async def request_person(app: web.Application, conversation_id: str) -> None:
    """„Mit einem Menschen sprechen“: the escalation path of the chat service (service hours,
    callback offer, queue notice), without the dialogue engine, so it works while that is down."""
    request = HandoffRequest("explicit_request", "Im Web-Chat über „Mit einem Menschen "
                             "sprechen“ angefordert.")
    await app[keys.CHAT].request_person(conversation_id, request, channel="web")
    log.info("gateway.ws.person_requested", channel="web")


def client_key(request: web.Request) -> str:
    """The client's address for limits (in memory only, never logged); behind a proxy listed
    in ``trusted_proxies`` taken from X-Forwarded-For (bot/gateway/forwarded.py)."""
    from bot.gateway.forwarded import client_address, trusted_networks

    settings = request.config_dict.get(keys.SETTINGS)
    networks = trusted_networks(settings.trusted_proxies) if settings is not None else ()
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", ()),
                          networks)


# -- the socket ----------------------------------------------------------------------------------
routes = web.RouteTableDef()


class SocketState(StrEnum):
    NEW = "new"  # waiting for hello
    BOUND = "bound"  # serving one conversation


class ChatSocket:
    """One widget's socket: reads frames, runs work in order, pushes what the store gained."""

    def __init__(self, ws: web.WebSocketResponse, app: web.Application, client: str) -> None:
        self._ws = ws
        self._app = app
        self._widget = app[WIDGET]
        self._client = client
        self._state = SocketState.NEW
        self._conversation = ""
        self._sent_seq = 0
        self._sent_handoff: dict[str, Any] | None = None
        self._push_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        # (conversation, frame) items; None tells the worker to stop after the current item.
        self._work: asyncio.Queue[tuple[str, ClientFrame] | None] = asyncio.Queue(MAX_QUEUED + 1)
        self._subscription: Subscription | None = None
        self._listener: asyncio.Task[None] | None = None

    async def run(self) -> None:
        worker = self._widget.spawn(self._worker())
        try:
            async for msg in self._ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._error(FrameError(
                        "binary-not-supported", "Dieser Kanal nimmt nur Textnachrichten an."))
        finally:
            # A turn in progress finishes (its answer is stored for the next visit); queued
            # frames of a closed socket are dropped. Background tasks stop by a sentinel, never
            # by cancellation inside a store call; shield() keeps a cancelled handler from
            # cancelling them, and the Widget's owner awaits them at shutdown.
            while not self._work.empty():
                self._work.get_nowait()
            self._work.put_nowait(None)
            listener = self._unsubscribe()  # before any await: the handler may be cancelled
            await asyncio.shield(asyncio.gather(worker, *([listener] if listener else [])))

    async def _on_text(self, raw: str) -> None:
        try:
            frame = parse_client_frame(raw)
            if isinstance(frame, Ping):
                await self._send(Pong())
            elif isinstance(frame, Hello):
                try:
                    await self._bind(frame)
                except STORE_UNAVAILABLE as err:
                    await self._bind_failed(err)
            elif self._state is SocketState.NEW:
                raise FrameError("hello-required", "Bitte zuerst ein hello senden.")
            elif self._work.qsize() >= MAX_QUEUED:
                raise FrameError("busy", "Bitte warten Sie auf die Antwort.")
            else:
                self._work.put_nowait((self._conversation, frame))
        except FrameError as err:
            await self._error(err, _ref_of(raw))

    async def _bind(self, hello: Hello) -> None:
        await self._unbind()
        widget = self._widget
        ratings = await widget.feedback.ratings(hello.conversation_id)
        self._conversation, self._sent_seq = hello.conversation_id, hello.after
        self._state = SocketState.BOUND
        await self._send(Welcome(hello.conversation_id, widget.voice(),
                                 widget.retention_days, MAX_TEXT, ratings))
        self._subscription = widget.hub.subscribe(hello.conversation_id)
        self._listener = widget.spawn(self._listen(self._subscription))
        await self._push(force=True)

    async def _bind_failed(self, err: BaseException) -> None:
        """The database is down while a socket says hello: tell the client and close with 1013
        (try again later). It reconnects with a new hello, as after any dropped connection;
        frames it sent after this hello are not taken, so none is lost half-way."""
        log.warning("gateway.ws.store_unavailable", frame=Hello.TYPE, error=type(err).__name__)
        await self._unbind()
        api_error = storage_unavailable()
        await self._error(FrameError(api_error.code, api_error.message))
        await self._ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"storage-unavailable")

    def _unsubscribe(self) -> asyncio.Task[None] | None:
        """Stop listening; return the listener task, which ends after its current push."""
        if self._subscription is not None:
            self._subscription.close()
        listener = self._listener
        self._subscription = self._listener = None
        self._state = SocketState.NEW
        return listener

    async def _unbind(self) -> None:
        listener = self._unsubscribe()
        if listener is not None:
            await asyncio.shield(listener)

    async def _listen(self, subscription: Subscription) -> None:
        while (event := await subscription.next()) is not None:
            if event is HubEvent.DELETED:
                self._state = SocketState.NEW
                await self._send(Deleted())
                return
            try:
                await self._push()
            except STORE_UNAVAILABLE as err:  # the next event tries again
                log.warning("gateway.ws.push_failed", error=type(err).__name__)
            except Exception:  # the next event tries again
                log.exception("gateway.ws.push_failed")

    async def _worker(self) -> None:
        while (item := await self._work.get()) is not None:
            conversation_id, frame = item
            ref = frame.ref if isinstance(frame, Say) else None
            try:
                self._widget.limits.check_write(self._client, conversation_id)
                await self._act(conversation_id, frame)
            except FrameError as err:
                await self._error(err, ref)
            except STORE_UNAVAILABLE as err:  # rating, person, forget while the database is down
                log.warning("gateway.ws.store_unavailable", frame=frame.TYPE,
                            error=type(err).__name__)
                api_error = storage_unavailable()
                await self._error(FrameError(api_error.code, api_error.message), ref)
            except Exception:
                log.exception("gateway.ws.frame_failed", frame=frame.TYPE)
                await self._error(FrameError("internal-error", INTERNAL_ERROR), ref)

    async def _act(self, conversation_id: str, frame: ClientFrame) -> None:
        app, hub = self._app, self._widget.hub
        if isinstance(frame, Say):
            await self._send(Typing(True))
            # A ref in message_id syntax makes a resent frame (after a reconnect) idempotent.
            message_id = frame.ref if frame.ref and MESSAGE_ID.fullmatch(frame.ref) else None
            try:
                await app[keys.CHAT].turn(conversation_id, frame.text, channel="web",
                                          message_id=message_id)
            except DialogueUnavailable as err:
                log.warning("gateway.ws.dialogue_unavailable", component=err.component)
                await self._push(ref=frame.ref)
                raise FrameError("dialogue-unavailable", DIALOGUE_DOWN) from err
            except (TurnInProgress, MessageIdReused, *STORE_UNAVAILABLE) as err:
                api_error = turn_error(err)
                raise FrameError(api_error.code, api_error.message) from err
            finally:
                await self._send(Typing(False))
            try:
                await self._push(ref=frame.ref)
            except STORE_UNAVAILABLE as err:  # answered; a resent frame gets it
                api_error = turn_error(err)
                raise FrameError(api_error.code, api_error.message) from err
            hub.publish(conversation_id)
        elif isinstance(frame, Rate):
            if not await self._widget.feedback.rate(conversation_id, frame.seq, frame.rating):
                raise FrameError("feedback-invalid", "Diese Antwort kann nicht bewertet werden.")
            await self._send(Rated(frame.seq, frame.rating))
        elif isinstance(frame, AskHuman):
            await request_person(app, conversation_id)
            await self._push()
            hub.publish(conversation_id)
        elif isinstance(frame, Forget):
            await self._widget.feedback.delete_conversation(conversation_id)
            log.info("gateway.conversation.deleted", channel="web")
            if not hub.publish(conversation_id, HubEvent.DELETED):
                await self._send(Deleted())

    async def _push(self, *, ref: str | None = None, force: bool = False) -> None:
        """Send the stored messages this socket has not sent yet (and the handoff state)."""
        async with self._push_lock:
            if self._state is not SocketState.BOUND:
                return
            store = self._app[keys.STORE]
            conversation_id = self._conversation
            messages = await store.messages(conversation_id, after=self._sent_seq)
            state = await store.conversation(conversation_id)
            handoff = handoff_view(state.handoff_status, state.handoff_context) if state else None
            if not (messages or force or ref or handoff != self._sent_handoff):
                return
            if messages:
                self._sent_seq = messages[-1].seq
            self._sent_handoff = handoff
            await self._send(Messages(tuple(m.to_api() for m in messages), handoff, ref))

    async def _error(self, err: FrameError, ref: str | None = None) -> None:
        if err.code == "rate-limited":
            count_rate_limited(self._app, err.code)
        await self._send(ErrorFrame(err.code, err.message, ref, err.retry_after))

    async def _send(self, frame: ServerFrame) -> None:
        async with self._send_lock:
            if not self._ws.closed:
                with contextlib.suppress(ConnectionResetError):  # the client went away
                    await self._ws.send_str(json.dumps(frame.to_wire(), ensure_ascii=False))


def _ref_of(raw: str) -> str | None:
    """The ref of a frame that failed validation, so the client can mark its message."""
    with contextlib.suppress(ValueError, RecursionError, FrameError):
        return _ref(_obj(json.loads(raw))) if len(raw) <= MAX_FRAME else None
    return None


@routes.get(PATH)
async def chat_socket(request: web.Request) -> web.StreamResponse:
    limits = request.app[WIDGET].limits
    client = client_key(request)
    if not limits.sockets_per_client.acquire(client):
        raise ApiError(429, "too-many-connections",
                       "Zu viele gleichzeitige Verbindungen. Bitte schließen Sie andere Fenster.")
    try:
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        sockets = request.app[WIDGET].sockets
        sockets.add(ws)
        try:
            await ChatSocket(ws, request.app, client).run()
        finally:
            sockets.discard(ws)
        return ws
    finally:
        limits.sockets_per_client.release(client)


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: close every chat socket, so shutdown does not wait for idle citizens."""
    widget = app.get(WIDGET)
    for sock in list(widget.sockets if widget else ()):
        await sock.close(code=WSCloseCode.GOING_AWAY, message=b"Server wird neu gestartet")
        # The handler's own ``finally`` may run only after shutdown has moved on; the
        # socket is closed now, so it no longer counts as open.
        widget.sockets.discard(sock)
