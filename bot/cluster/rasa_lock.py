"""Rasa's conversation lock in Redis as one atomic key per conversation.

Several Rasa servers share the conversations of a cluster; Rasa takes a lock per conversation
around each message so two of them never change one tracker at once. Rasa's own
``RedisLockStore`` keeps a queue of tickets as JSON under one key and changes it by reading,
editing and writing it back: seven Redis round trips per message, on Rasa's event loop (a
synchronous client), and two servers issuing tickets at the same moment can overwrite each
other's ticket.

:class:`RedisMutexLockStore` takes the lock with one ``SET key token NX PX lifetime`` and gives
it back with a script that deletes the key only if it still holds this holder's token: two
round trips with Redis' asyncio client, and mutual exclusion by Redis itself. A holder that dies
leaves a key that expires after the lock's lifetime. Waiters poll (first quickly, then up to
Rasa's ``wait_time_in_seconds``) instead of queueing: the gateway already sends at most one turn
per conversation at a time, so this lock only guards that rule, and order among waiters does not
matter. Configured in Rasa's endpoints.yml as ``lock_store: {type:
bot.cluster.rasa_lock.RedisMutexLockStore, url, port, db, username, password, use_ssl,
key_prefix}`` (bot/cluster/endpoints.py writes it).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Deletes the key only while it still holds the caller's token: a holder whose lock expired
# (and was taken by another) must not release the other's lock.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Not Rasa's "lock:": its ticket keys never expire, and one left behind must not block these.
KEY_NAMESPACE = "mutex:"
FIRST_POLL = 0.01  # seconds; doubled after each failed attempt up to the caller's wait time


class RedisMutexLockStore(LockStore):
    """A Rasa ``LockStore``: one ``SET NX PX`` key per conversation, released by token."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, *,
                 client: aioredis.Redis | None = None, key_prefix: str | None = None) -> None:
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        prefix = key_prefix if key_prefix is not None else kwargs.get("key_prefix")
        if prefix is not None and not str(prefix).isalnum():
            raise ValueError(f"key_prefix muss aus Buchstaben und Ziffern bestehen: {prefix!r}")
        self.key_prefix = (f"{prefix}:" if prefix else "") + KEY_NAMESPACE
        if client is None:
            if endpoint_config is None:
                raise ValueError("RedisMutexLockStore braucht eine Redis-Verbindung")
            client = aioredis.Redis(
                host=endpoint_config.url or "localhost", port=int(kwargs.get("port", 6379)),
                db=int(kwargs.get("db", 0)), username=kwargs.get("username"),
                password=kwargs.get("password"), ssl=bool(kwargs.get("use_ssl", False)),
                socket_timeout=float(kwargs.get("socket_timeout", 10)))
        self.red = client
        self._release = self.red.register_script(_RELEASE)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock (waiting at most ``lock_lifetime`` seconds for it)."""
        key = self.key_prefix + conversation_id
        token = uuid.uuid4().hex
        lifetime_ms = max(1, round(lock_lifetime * 1000))
        deadline = time.monotonic() + lock_lifetime
        poll = FIRST_POLL
        # Every holder's key expires within lock_lifetime, so the lock is free by the deadline.
        while not await self.red.set(key, token, nx=True, px=lifetime_ms):
            if time.monotonic() >= deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(poll)
            poll = min(poll * 2, max(FIRST_POLL, wait_time_in_seconds))
        try:
            yield TicketLock(conversation_id)
        finally:
            # Shielded: a cancelled request still gives the lock back (else it waits to expire).
            try:
                await asyncio.shield(self._release(keys=[key], args=[token]))
            except RedisError as err:
                # The turn is done and stored; failing it now would make the client send it
                # again. The key expires by itself after lock_lifetime.
                log.warning("Could not release the lock of conversation '%s' (%s); it expires "
                            "by itself.", conversation_id, type(err).__name__)

    # Rasa's ticket API (used only by its own ``lock`` above, which this class replaces).
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError("RedisMutexLockStore hat keine Ticket-Warteschlange")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("RedisMutexLockStore hat keine Ticket-Warteschlange")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("RedisMutexLockStore hat keine Ticket-Warteschlange")
